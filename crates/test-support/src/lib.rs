//! What the test suites, benchmarks and fuzz targets share: a counting allocator, the
//! live state a converged apply leaves, where benchmark rows go, the fuzz targets'
//! bodies, and the environment variables that would make a test pick up the
//! developer's own credentials.

#![allow(unsafe_code)] // the counting allocator forwards to the system allocator

mod converged;
pub mod counting;
pub mod fuzz_targets;

pub use converged::{converged_state, write_rows};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .to_path_buf()
}

/// Variables a developer's shell may hold that change which credentials, endpoints
/// or token a run picks up. A test that checks what happens without them removes
/// them from the processes it starts.
pub const HOST_CREDENTIALS: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
    "ARM_CLIENT_ID",
    "ARM_TENANT_ID",
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_HOME",
    "PULUMI_OIDC_TOKEN",
    "PULUMI_AZURE_OIDC_ENDPOINT",
    "PULUMI_AZURE_OIDC_CA_FILE",
];
