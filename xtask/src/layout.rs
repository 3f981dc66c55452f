//! The architecture, checked: the core carries no network or runtime dependency, the
//! emulator none of our crates, and the core's WebAssembly imports nothing from the
//! host but what wasm-bindgen provides. Each of these is easy to undo by accident (a
//! convenient dependency, a shared helper), and each undoing costs a face or the
//! emulator's independence.

use crate::{Result, root};
use std::process::Command;

/// What the core may never depend on, even for its tests: the executor's stack.
const NOT_IN_THE_CORE: &[&str] = &[
    "reqwest",
    "tokio",
    "hyper",
    "azure_core",
    "azure_identity",
    "pulumi-azure-oidc-provision",
    "pulumi-azure-oidc-emulator",
];

/// The packages `package` depends on, dev-dependencies included, as `name vX`.
fn tree(package: &str) -> Result<Vec<String>> {
    let out = Command::new("cargo")
        .args([
            "tree",
            "--locked",
            "--package",
            package,
            "--edges",
            "normal,build,dev",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo tree -p {package}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(' ').next().unwrap_or("").to_owned())
        .collect())
}

pub(crate) fn check() -> Result {
    let core = tree("pulumi-azure-oidc")?;
    let found: Vec<&str> = NOT_IN_THE_CORE
        .iter()
        .copied()
        .filter(|bad| core.iter().any(|p| p == bad))
        .collect();
    if !found.is_empty() {
        return Err(format!(
            "the core (pulumi-azure-oidc) depends on {}; it must stay free of I/O: move that code to crates/provision",
            found.join(", ")
        ));
    }
    let emulator = tree("pulumi-azure-oidc-emulator")?;
    let ours: Vec<&String> = emulator
        .iter()
        .filter(|p| p.starts_with("pulumi-azure-oidc") && *p != "pulumi-azure-oidc-emulator")
        .collect();
    if !ours.is_empty() {
        return Err(format!(
            "the emulator depends on {ours:?}; it must encode the services' formats itself, or it agrees with our mistakes"
        ));
    }
    eprintln!("xtask: layout ok: the core has no I/O dependency, the emulator none of ours");
    Ok(())
}

/// Fail when the core's WebAssembly imports anything but wasm-bindgen's own
/// functions: an `env` import is native code that slipped in, and the page would not
/// load.
pub(crate) fn check_wasm_imports(wasm: &[u8]) -> Result {
    let module =
        walrus::Module::from_buffer(wasm).map_err(|e| format!("cannot read the wasm: {e}"))?;
    let foreign: Vec<String> = module
        .imports
        .iter()
        .filter(|i| !i.module.starts_with("__wbindgen"))
        .map(|i| format!("{}::{}", i.module, i.name))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the core's wasm imports {} from the host; something native reached the browser build",
            foreign.join(", ")
        ))
    }
}
