//! The C ABI fuzz target's committed inputs (`fuzz/corpus/capi/`, and
//! `fuzz/regressions/capi/` when present) replayed on stable Rust through the same
//! function the fuzz target calls (`fuzz/src/capi.rs`). The library is compiled in from
//! its source as `ffi`, as in the fuzz crate, since this package builds no Rust library.

#[path = "../src/lib.rs"]
#[allow(unreachable_pub, dead_code, missing_debug_implementations)]
mod ffi;

#[path = "../../../fuzz/src/capi.rs"]
#[allow(unreachable_pub)]
mod capi;

use std::path::PathBuf;

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join("capi");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

#[test]
fn capi_corpus() {
    let seeds = inputs("corpus");
    assert!(!seeds.is_empty(), "no seed corpus for `capi`");
    for path in seeds.iter().chain(&inputs("regressions")) {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| capi::capi(&data));
        assert!(outcome.is_ok(), "`capi` fails on {}", path.display());
    }
}

/// Text that is not UTF-8 reaches every string entry point as a clean status.
#[test]
fn invalid_utf8_gets_a_status_and_a_message() {
    for selector in 0..5u8 {
        let mut data = vec![selector];
        data.extend_from_slice(b"org: \xff\xfe contoso\0az");
        assert_eq!(
            capi::capi(&data),
            ffi::PaoidcStatus::InvalidUtf8 as i32,
            "entry point {selector}"
        );
    }
}
