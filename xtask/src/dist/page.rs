//! The page as a static folder: the shipped page (`cargo xtask page`: `web/` bundled
//! and minified, with its freshly built WebAssembly), ready for any static file
//! server, also packed as a tarball for the checksums. Opened from `file://` it cannot
//! run (browsers load modules and WebAssembly only over http), and it says so on the
//! page itself.

use super::{licences, tarball};
use crate::Result;
use std::path::{Path, PathBuf};

pub(crate) fn folder_name(version: &str) -> String {
    format!("pulumi-azure-oidc-page-{version}")
}

pub(crate) fn archive_name(version: &str) -> String {
    format!("{}.tar.gz", folder_name(version))
}

/// What the page loads; the TypeScript declarations stay behind.
fn shipped(relative: &Path) -> bool {
    !relative.to_string_lossy().ends_with(".d.ts")
}

fn copy_tree(from: &Path, to: &Path, base: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let relative = path.strip_prefix(base).map_err(|e| e.to_string())?;
        let target = to.join(path.file_name().ok_or("a nameless file")?);
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "node_modules") {
                continue;
            }
            copy_tree(&path, &target, base)?;
        } else if shipped(relative) {
            std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

pub(crate) fn build(dist: &Path, version: &str) -> Result<PathBuf> {
    let web = crate::page::build()?;
    let folder = dist.join(folder_name(version));
    if folder.exists() {
        std::fs::remove_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    }
    copy_tree(&web, &folder, &web)?;
    licences::write(
        &folder.join("THIRD-PARTY-LICENSES.html"),
        "pulumi-azure-oidc-wasm",
        "wasm32-unknown-unknown",
    )?;
    let out = dist.join(archive_name(version));
    tarball(&folder, &folder_name(version), &out)?;
    Ok(out)
}

/// The page's Chromium suite with the server rooted at the page unpacked from the
/// artefact (the bundled page), not at `web/`; the `file://` test included.
pub(crate) fn test(dist: &Path, scratch: &Path, version: &str) -> Result<(u64, u64)> {
    let into = scratch.join("page");
    super::unpack(&dist.join(archive_name(version)), &into)?;
    let folder = into.join(folder_name(version));
    super::expect(
        folder.join("THIRD-PARTY-LICENSES.html").exists(),
        "the page folder has no licence notices".into(),
    )?;
    crate::web::setup()?;
    crate::node_test_with(
        &["--test", "tests/web/"],
        &[("PULUMI_AZURE_OIDC_PAGE_DIR", &folder.display().to_string())],
    )
}
