//! `cargo xtask header [--check]`: generate the C header with cbindgen (as a library,
//! pinned), or check that the committed one is current.

use crate::{Result, root};

pub(crate) const HEADER: &str = "bindings/c/include/pulumi_azure_oidc.h";

/// The header as cbindgen generates it from `bindings/c` now.
pub(crate) fn generate() -> Result<String> {
    let crate_dir = root().join("bindings/c");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .map_err(|e| format!("bindings/c/cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| format!("cbindgen wrote non-UTF-8: {e}"))
}

pub(crate) fn run(args: &[String]) -> Result {
    let fresh = generate()?;
    let path = root().join(HEADER);
    if args.iter().any(|a| a == "--check") {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != fresh {
            return Err(format!(
                "{HEADER} is out of date with bindings/c/src; run `cargo xtask header` and commit the result"
            ));
        }
        eprintln!("xtask: {HEADER} is current");
        return Ok(());
    }
    std::fs::write(&path, fresh).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {HEADER}");
    Ok(())
}
