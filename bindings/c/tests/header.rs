#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

//! The committed header is what cbindgen generates from the sources now; the fix for
//! a failure is `cargo xtask header`.

#[test]
fn committed_header_is_current() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .unwrap()
        .write(&mut fresh);
    let committed = std::fs::read(crate_dir.join("include/pulumi_azure_oidc.h")).unwrap();
    assert!(
        committed == fresh,
        "bindings/c/include/pulumi_azure_oidc.h is stale: run `cargo xtask header` and commit it"
    );
}
