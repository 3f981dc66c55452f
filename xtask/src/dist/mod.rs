//! `cargo xtask dist`: every artefact a user installs, built into `target/dist/`:
//! the Python wheel and sdist, the C SDK tarball, the CLI with its completions and
//! man page, the page as a static folder, their licence notices and `SHA256SUMS`.
//! `cargo xtask test-dist` tests them as users meet them, never the source tree.
//!
//! Reproducible: archives list their files sorted, owned by root, dated
//! `SOURCE_DATE_EPOCH` (the last commit's time), and gzip writes no name or time;
//! the compilers see the source and registry paths remapped.

mod c_sdk;
mod cli;
pub(crate) mod licences;
mod page;
pub(crate) mod wheel;

use crate::{Result, root, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The platform of the native artefacts.
pub(crate) const NATIVE_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Where the artefacts land.
pub(crate) fn dist_dir() -> PathBuf {
    target_dir().join("dist")
}

/// The workspace version, which every face prints.
pub(crate) fn version() -> Result<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml"))
        .map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| {
            let value = l.trim().strip_prefix("version")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "Cargo.toml has no [workspace.package] version".into())
}

/// The time every archive entry carries: `SOURCE_DATE_EPOCH` when set, else the
/// last commit's time, else 0.
pub(crate) fn source_date_epoch() -> String {
    if let Ok(value) = std::env::var("SOURCE_DATE_EPOCH")
        && !value.is_empty()
    {
        return value;
    }
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "0".into())
}

/// `RUSTFLAGS` for a release build whose binaries name no path of this machine.
pub(crate) fn remap_flags() -> String {
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    format!(
        "--remap-path-prefix={}=/build --remap-path-prefix={}=/cargo",
        root().display(),
        cargo_home.display()
    )
}

/// Pack `dir` (its contents under the top folder `top`) into `out` as a
/// reproducible `.tar.gz`: sorted names, root ownership, a fixed time, `gzip -n`.
pub(crate) fn tarball(dir: &Path, top: &str, out: &Path) -> Result {
    let parent = dir
        .parent()
        .ok_or_else(|| format!("{} has no parent", dir.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no name", dir.display()))?;
    let epoch = source_date_epoch();
    let tar = Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--format=gnu",
            &format!("--mtime=@{epoch}"),
            &format!("--transform=s,^{name},{top},"),
            "-cf",
            "-",
            name,
        ])
        .current_dir(parent)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start tar: {e}"))?;
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let gzip = Command::new("gzip")
        .args(["-n", "-9"])
        .stdin(tar.stdout.ok_or("tar gave no output")?)
        .stdout(file)
        .status()
        .map_err(|e| format!("cannot start gzip: {e}"))?;
    if !gzip.success() {
        return Err(format!("packing {} failed", out.display()));
    }
    Ok(())
}

/// Unpack a `.tar.gz` into `into` (made anew).
pub(crate) fn unpack(archive: &Path, into: &Path) -> Result {
    if into.exists() {
        std::fs::remove_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
    }
    std::fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .status()
        .map_err(|e| format!("cannot start tar: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("unpacking {} failed", archive.display()))
    }
}

/// Scratch space for building artefacts, kept out of `target/dist/`.
fn staging() -> PathBuf {
    target_dir().join("dist-build/staging")
}

/// Scratch space for testing them.
fn scratch() -> PathBuf {
    target_dir().join("dist-test")
}

/// The release build of the native artefacts (the CLI, the C libraries): paths
/// remapped, in a target folder of its own so those flags never invalidate the
/// everyday release build. Returns the folder the binaries are in.
pub(crate) fn native_release() -> Result<PathBuf> {
    let dir = target_dir().join("dist-build/native");
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "pulumi-azure-oidc-cli",
            "-p",
            "pulumi-azure-oidc-capi",
        ])
        .env("CARGO_TARGET_DIR", &dir)
        .env("RUSTFLAGS", remap_flags())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the release build of the CLI and C library failed ({status})"
        ));
    }
    Ok(dir.join("release"))
}

/// Fail with `message` unless `ok`.
pub(crate) fn expect(ok: bool, message: String) -> Result {
    if ok { Ok(()) } else { Err(message) }
}

/// Run `command` to success, naming it as `what` when it fails.
pub(crate) fn succeed(command: &mut Command, what: &str) -> Result {
    stdout_of(command, what).map(|_| ())
}

/// One stack's subjects, as every packaged CLI is asked for them, and one line its
/// answer must hold.
pub(crate) const SUBJECTS_ARGS: &[&str] = &[
    "subjects",
    "deployments",
    "--org",
    "contoso",
    "--project",
    "core",
    "--stack",
    "dev",
];
pub(crate) const SUBJECTS_EXPECTED: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

/// Run `command` and return its standard output; its standard error is shown only
/// when it fails.
pub(crate) fn stdout_of(command: &mut Command, what: &str) -> Result<String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The standard output of `program args` as bytes.
pub(crate) fn output_of(program: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let what = format!("`{} {}`", program.display(), args.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// `SHA256SUMS` over the artefacts, in the format `sha256sum -c` reads.
fn write_sums(dist: &Path, files: &[PathBuf]) -> Result {
    let mut names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut command = Command::new("sha256sum");
    command.arg("--").args(&names).current_dir(dist);
    let sums = stdout_of(&mut command, "sha256sum")?;
    std::fs::write(dist.join("SHA256SUMS"), sums).map_err(|e| e.to_string())
}

/// `cargo xtask dist`.
pub(crate) fn run() -> Result {
    let started = std::time::Instant::now();
    let dist = dist_dir();
    if dist.exists() {
        std::fs::remove_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    }
    let staging = staging();
    for dir in [&dist, &staging] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let version = version()?;
    let mut files = wheel::build(&dist, &staging, &version)?;
    files.push(cli::build(&dist, &staging, &version)?);
    c_sdk::build(&dist, &version)?;
    files.push(dist.join(format!(
        "pulumi-azure-oidc-c-sdk-{version}-linux-x86_64.tar.gz"
    )));
    files.push(page::build(&dist, &version)?);
    write_sums(&dist, &files)?;
    eprintln!(
        "xtask: dist built in {:.0} s into {}",
        started.elapsed().as_secs_f64(),
        dist.display()
    );
    for file in &files {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "  {:>12} B  {}",
            size,
            file.file_name().unwrap_or_default().to_string_lossy()
        );
    }
    Ok(())
}

/// `cargo xtask test-dist`: the artefacts in `target/dist/`, as users meet them.
/// The versions each face prints are checked against the workspace's, so all agree.
pub(crate) fn test() -> Result<(u64, u64)> {
    let dist = dist_dir();
    let version = version()?;
    let scratch = scratch();
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut sums = Command::new("sha256sum");
    sums.args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dist);
    succeed(&mut sums, "sha256sum --check SHA256SUMS in target/dist")?;
    let mut passed = 1;
    passed += wheel::test(&dist, &scratch, &version)?;
    passed += cli::test(&dist, &scratch, &version)?;
    let (c_passed, c_failed) = c_sdk::test(&dist, &version)?;
    let (page_passed, page_failed) = page::test(&dist, &scratch, &version)?;
    Ok((passed + c_passed + page_passed, c_failed + page_failed))
}
