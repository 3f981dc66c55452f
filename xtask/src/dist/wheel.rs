//! The Python artefacts: one abi3 wheel (CPython ≥ 3.9, manylinux_2_17 x86_64) that
//! holds the module and the `pulumi-azure-oidc` console script, and the sdist.
//!
//! maturin links through zig (the `ziglang` package) to target glibc 2.17, older
//! than the build machine's; `auditwheel show` then confirms the platform tag from
//! the symbols the library really uses. The licence notices are added to the wheel's
//! `.dist-info/licenses/` with `wheel unpack`/`wheel pack`, which rewrite `RECORD`.

use super::{licences, output_of, remap_flags};
use crate::python::run;
use crate::{Result, root, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The build tools, pinned, in a venv of their own under `target/dist-tools/`.
const TOOLS: &str = "bindings/python/requirements-dist.txt";
const PLATFORM: &str = "manylinux_2_17";

fn tools_venv() -> PathBuf {
    target_dir().join("dist-tools/venv")
}

fn tools_python() -> PathBuf {
    tools_venv().join("bin/python")
}

/// The artefact names maturin gives for `version`.
pub(crate) fn wheel_name(version: &str) -> String {
    // maturin names both spellings of the glibc 2.17 tag.
    format!("pulumi_azure_oidc-{version}-cp39-abi3-manylinux2014_x86_64.{PLATFORM}_x86_64.whl")
}

pub(crate) fn sdist_name(version: &str) -> String {
    format!("pulumi_azure_oidc-{version}.tar.gz")
}

/// The environment every wheel build runs in, the same for `cargo xtask python` and
/// `dist`, so the second finds the first's build fresh.
fn build_env() -> Vec<(&'static str, String)> {
    let bin = tools_venv().join("bin");
    vec![
        (
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
        (
            "CARGO_TARGET_DIR",
            target_dir().join("dist-build/wheel").display().to_string(),
        ),
        ("RUSTFLAGS", remap_flags()),
        ("SOURCE_DATE_EPOCH", super::source_date_epoch()),
    ]
}

/// The wheel as maturin builds it (no licence notices yet), written into `out`
/// (made anew); returns its path.
pub(crate) fn build_raw(out: &Path) -> Result<PathBuf> {
    crate::python::make_venv(&tools_venv(), &[TOOLS])?;
    let version = super::version()?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let out_text = out.display().to_string();
    run(
        &tools_venv().join("bin/maturin"),
        &[
            "build",
            "--release",
            "--locked",
            "--zig",
            "--strip",
            "--compatibility",
            PLATFORM,
            "--manifest-path",
            "bindings/python/Cargo.toml",
            "--out",
            &out_text,
        ],
        &build_env(),
    )?;
    let raw = out.join(wheel_name(&version));
    if raw.exists() {
        Ok(raw)
    } else {
        Err(format!(
            "maturin did not build {} (see {out_text})",
            wheel_name(&version)
        ))
    }
}

pub(crate) fn build(dist: &Path, staging: &Path, version: &str) -> Result<Vec<PathBuf>> {
    let raw = build_raw(&staging.join("wheel"))?;
    let envs = build_env();
    let bin = tools_venv().join("bin");
    let maturin = bin.join("maturin");

    // The notices go into the wheel's .dist-info, which `wheel pack` re-hashes.
    let unpacked = staging.join("wheel-unpacked");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked).map_err(|e| e.to_string())?;
    }
    let unpacked_text = unpacked.display().to_string();
    let raw_text = raw.display().to_string();
    run(
        &tools_python(),
        &["-m", "wheel", "unpack", "--dest", &unpacked_text, &raw_text],
        &envs,
    )?;
    let root_dir = unpacked.join(format!("pulumi_azure_oidc-{version}"));
    let dist_info = root_dir.join(format!("pulumi_azure_oidc-{version}.dist-info"));
    unroot_sboms(&dist_info.join("sboms"))?;
    let licences_dir = dist_info.join("licenses");
    std::fs::create_dir_all(&licences_dir).map_err(|e| e.to_string())?;
    licences::write(
        &licences_dir.join("THIRD-PARTY-LICENSES.html"),
        "pulumi-azure-oidc-python",
        super::NATIVE_TARGET,
    )?;
    let dist_text = dist.display().to_string();
    let root_text = root_dir.display().to_string();
    run(
        &tools_python(),
        &["-m", "wheel", "pack", "--dest-dir", &dist_text, &root_text],
        &envs,
    )?;
    let wheel = dist.join(wheel_name(version));

    // The tag is the one the linked symbols allow, not merely the one asked for.
    let shown = output_of(
        &bin.join("auditwheel"),
        &["show", &wheel.display().to_string()],
    )?;
    let shown = String::from_utf8_lossy(&shown);
    super::expect(
        shown.contains(&format!("{PLATFORM}_x86_64")) && shown.contains("abi3"),
        format!("auditwheel does not confirm {PLATFORM} abi3:\n{shown}"),
    )?;

    run(
        &maturin,
        &[
            "sdist",
            "--manifest-path",
            "bindings/python/Cargo.toml",
            "--out",
            &dist_text,
        ],
        &envs,
    )?;
    let sdist = dist.join(sdist_name(version));
    if !sdist.exists() {
        return Err(format!("maturin did not write {}", sdist.display()));
    }
    Ok(vec![wheel, sdist])
}

/// maturin's SBOMs name our crates by their `file://` path; the checkout's location
/// becomes `/build`, as in the binaries, so the wheel does not depend on it.
fn unroot_sboms(dir: &Path) -> Result {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let checkout = format!("file://{}", root().display());
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if text.contains(&checkout) {
            std::fs::write(&path, text.replace(&checkout, "file:///build"))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// A fresh venv with no Rust on `PATH` installs the wheel alone; its CLI and its
/// module then answer as documented. The sdist carries a workspace that resolves
/// offline. Returns the checks that passed.
pub(crate) fn test(dist: &Path, scratch: &Path, version: &str) -> Result<u64> {
    let venv = scratch.join("wheel-venv");
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| e.to_string())?;
    }
    run(
        Path::new("python3"),
        &["-m", "venv", &venv.display().to_string()],
        &[],
    )?;
    let bin = venv.join("bin");
    // Only the venv and the system's own programs: no cargo, rustc or rustup.
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let clean = |command: &mut Command| {
        command
            .env_clear()
            .env("PATH", &path)
            .env("HOME", scratch)
            .env("LANG", "C.UTF-8")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1");
    };
    let wheel = dist.join(wheel_name(version));
    let mut pip = Command::new(bin.join("python"));
    pip.args(["-m", "pip", "install", "--quiet", "--no-index"])
        .arg(&wheel);
    clean(&mut pip);
    super::succeed(&mut pip, "pip install of the wheel")?;
    let mut passed = 1;

    let examples = scratch.join("wheel-examples");
    std::fs::create_dir_all(&examples).map_err(|e| e.to_string())?;
    for file in [
        "pulumi-azure-oidc.yaml",
        "token-update.jwt",
        "credentials.json",
        "aadsts700213.txt",
    ] {
        std::fs::copy(root().join("examples").join(file), examples.join(file))
            .map_err(|e| format!("examples/{file}: {e}"))?;
    }

    let cli = |args: &[&str]| -> Result<String> {
        let mut command = Command::new(bin.join("pulumi-azure-oidc"));
        command.args(args).current_dir(&examples);
        clean(&mut command);
        super::stdout_of(
            &mut command,
            &format!("pulumi-azure-oidc {}", args.join(" ")),
        )
    };
    let printed = cli(&["--version"])?;
    super::expect(
        printed.trim() == format!("pulumi-azure-oidc {version}"),
        format!("the wheel's CLI printed {printed:?} for --version"),
    )?;
    passed += 1;
    let subjects = cli(super::SUBJECTS_ARGS)?;
    super::expect(
        subjects.contains(super::SUBJECTS_EXPECTED),
        format!("the wheel's CLI printed no update subject:\n{subjects}"),
    )?;
    passed += 1;
    let plan = cli(&[
        "plan",
        "--config",
        "pulumi-azure-oidc.yaml",
        "--output",
        "json",
    ])?;
    let plan: serde_json::Value = serde_json::from_str(&plan)
        .map_err(|e| format!("the wheel's `plan --output json`: {e}"))?;
    super::expect(
        plan["apps"].as_array().is_some_and(|apps| !apps.is_empty()),
        "the wheel's CLI planned no holder for the example".into(),
    )?;
    passed += 1;
    // `python -m` runs the same command.
    let mut module = Command::new(bin.join("python"));
    module.args(["-m", "pulumi_azure_oidc", "--version"]);
    clean(&mut module);
    let printed = super::stdout_of(&mut module, "python -m pulumi_azure_oidc --version")?;
    super::expect(
        printed.trim() == format!("pulumi-azure-oidc {version}"),
        format!("`python -m pulumi_azure_oidc --version` printed {printed:?}"),
    )?;
    passed += 1;

    let smoke = scratch.join("wheel_smoke.py");
    std::fs::write(&smoke, include_str!("wheel_smoke.py")).map_err(|e| e.to_string())?;
    let mut module = Command::new(bin.join("python"));
    module.arg(&smoke).arg(&examples).arg(version);
    clean(&mut module);
    super::stdout_of(&mut module, "the module's examples")?;
    passed += 1;

    let site = venv.join("lib");
    let notices = find(&site, "THIRD-PARTY-LICENSES.html")
        .ok_or("the installed wheel has no THIRD-PARTY-LICENSES.html")?;
    let text = std::fs::read_to_string(&notices).map_err(|e| e.to_string())?;
    super::expect(
        text.contains("pyo3") && text.contains("serde"),
        "the wheel's licence notices miss crates it bundles".into(),
    )?;
    passed += 1;

    passed += test_sdist(dist, scratch, version)?;
    Ok(passed)
}

/// The sdist builds a wheel with maturin, as `pip install` of it does where Rust is
/// present: from its own `pyproject.toml` and lock file, offline, so every path
/// dependency must be inside it. The build shares the distributed wheel's cargo
/// folder and flags, so only our own crates compile again. Not `--locked`: maturin
/// trims the workspace to the module's crates, and cargo then drops the other
/// members' entries from the lock.
fn test_sdist(dist: &Path, scratch: &Path, version: &str) -> Result<u64> {
    let into = scratch.join("sdist");
    super::unpack(&dist.join(sdist_name(version)), &into)?;
    let top = into.join(format!("pulumi_azure_oidc-{version}"));
    for file in ["pyproject.toml", "Cargo.lock", "bindings/python/Cargo.toml"] {
        super::expect(top.join(file).is_file(), format!("the sdist has no {file}"))?;
    }
    let out = scratch.join("sdist-wheel");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| e.to_string())?;
    }
    let mut maturin = Command::new(tools_venv().join("bin/maturin"));
    maturin
        .args([
            "build",
            "--release",
            "--offline",
            "--zig",
            "--compatibility",
            PLATFORM,
            "--out",
        ])
        .arg(&out)
        .envs(build_env())
        .current_dir(&top);
    super::succeed(&mut maturin, "maturin build in the unpacked sdist")?;
    super::expect(
        out.join(wheel_name(version)).is_file(),
        format!("the sdist built no {}", wheel_name(version)),
    )?;
    Ok(1)
}

/// The first file called `name` under `dir`, depth first.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in &entries {
        if path.file_name().is_some_and(|n| n == name) && path.is_file() {
            return Some(path.clone());
        }
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|p| find(p, name))
}
