//! The fuzz targets' bodies; `fuzz_targets/*.rs` are one-line libFuzzer wrappers.

/// The core's targets, shared with the stable replay test in
/// `pulumi-azure-oidc-test-support`.
pub use pulumi_azure_oidc_test_support::fuzz_targets as targets;

/// The C library itself, compiled in from its source so the fuzzer instruments it
/// and calls its `extern "C"` functions directly.
#[path = "../../bindings/c/src/lib.rs"]
#[allow(unreachable_pub, dead_code, missing_debug_implementations)]
pub mod ffi;

pub mod capi;
