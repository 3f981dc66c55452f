//! What the test suites, benchmarks and fuzz targets share: a counting allocator, the
//! live state a converged apply leaves, where benchmark rows go and the fuzz targets'
//! bodies.

#![allow(unsafe_code)] // the counting allocator forwards to the system allocator

mod converged;
pub mod counting;
pub mod fuzz_targets;
mod orgs;

pub use converged::{converged_state, write_rows};
pub use orgs::packed_org;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .to_path_buf()
}
