//! `cargo xtask wasm`: build the core for the browser into `web/pkg/`.
//!
//! wasm-bindgen runs in-process through `wasm-bindgen-cli-support`, pinned to the
//! same version as the `wasm-bindgen` crate (a mismatch fails at load time), so
//! nothing is downloaded at build time.

use crate::{Result, root, sh};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Raw size the `.wasm` may not exceed: a regression gate, not a target. Set a little
/// above the module once js-sys and the JSON value copies left it (372,320 B), so
/// that a large dependency slipping back in stops the build; the aim is 150 KB
/// gzipped for the whole page.
const WASM_BUDGET_BYTES: u64 = 380 * 1024;

pub(crate) fn build() -> Result<PathBuf> {
    cargo_build("wasm-release")?;
    let input =
        root().join("target/wasm32-unknown-unknown/wasm-release/pulumi_azure_oidc_wasm.wasm");
    let raw = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    crate::layout::check_wasm_imports(&raw)?;
    let out = root().join("web/pkg");
    bindgen(&input, &out, false)?;
    check_budget(&out)?;
    Ok(out)
}

/// The module `bindgen` wrote to `out` is within `WASM_BUDGET_BYTES`.
fn check_budget(out: &Path) -> Result {
    let wasm = out.join("pulumi_azure_oidc_wasm_bg.wasm");
    let size = std::fs::metadata(&wasm)
        .map_err(|e| format!("{}: {e}", wasm.display()))?
        .len();
    eprintln!("xtask: {} is {size} bytes", wasm.display());
    if size > WASM_BUDGET_BYTES {
        return Err(format!(
            "{} is {size} bytes, over the budget of {WASM_BUDGET_BYTES}; find what grew before raising it",
            wasm.display()
        ));
    }
    Ok(())
}

/// wasm-bindgen's JS glue and the module it trims, from rustc's `input`, into `out`;
/// the functions' names only when `names` (for `wasm-sizes`). The profiles strip debug
/// information but keep the symbols, so that the module keeps its `target_features`
/// section: from it wasm-bindgen learns that the module returns several values at once
/// and writes glue that reads them directly.
pub(crate) fn bindgen(input: &Path, out: &Path, names: bool) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(input)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(true)
        // The library's default differs from the CLI's; without this `init()` cannot
        // find the .wasm next to the JS.
        .omit_default_module_path(false)
        .remove_name_section(!names);
    bindgen
        .generate(out)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;
    Ok(())
}

/// Build the page's module with `profile` (`wasm-release`, or `wasm-names` to keep
/// function names). What each choice saves, gzipped, measured one after the other on
/// the same code (200,815 B with the prebuilt std):
/// - std rebuilt from the toolchain's own sources with the module's `opt-level = "z"`
///   instead of the prebuilt std's speed settings: −3.2 KB;
/// - the `immediate-abort` panic strategy, which drops panic messages and their
///   formatting: −10.2 KB. A panic was already an abort (`RuntimeError: unreachable`)
///   in the page, so nothing a caller sees changes;
/// - std's `optimize_for_size` variants (float printing, sorts, string search):
///   −7.5 KB; the calls the page makes took the same time side by side in Chromium;
/// - no source locations (`-Z location-detail=none`): the file names and lines that
///   `#[track_caller]` functions keep for panic messages nobody sees: −0.4 KB.
///
/// Tried and left out: `target-cpu=mvp` (no multi-value or reference types), −0.4 KB.
///
/// `-Z build-std` is unstable; `RUSTC_BOOTSTRAP` lets this one build use it on the
/// stable compiler the rest of the project uses, instead of a floating nightly.
pub(crate) fn cargo_build(profile: &str) -> Result {
    ensure_rust_src()?;
    let args = [
        "build",
        "--package",
        "pulumi-azure-oidc-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        profile,
        "--locked",
        "-Z",
        "build-std=std,panic_abort",
        "-Z",
        "build-std-features=optimize_for_size",
    ];
    crate::sh_env(
        "cargo",
        &args,
        &[
            ("RUSTC_BOOTSTRAP", "1"),
            (
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none",
            ),
        ],
    )
}

/// `-Z build-std` compiles the sources of the toolchain's `rust-src` component; add it
/// when it is missing, as `setup` adds the wasm target.
fn ensure_rust_src() -> Result {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot start rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let lock = Path::new(&sysroot).join("lib/rustlib/src/rust/library/Cargo.lock");
    if lock.is_file() {
        return Ok(());
    }
    sh("rustup", &["component", "add", "rust-src"])
}
