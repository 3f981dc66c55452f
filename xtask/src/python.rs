//! `cargo xtask python`: the Python module tested as users get it. Builds the wheel
//! with maturin (from a project-local venv under `target/python/`), installs it into
//! that venv (a fresh one with `CI=true`), and runs pytest on `bindings/python/tests`.

use crate::{Result, root, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

const REQUIREMENTS: &str = "bindings/python/requirements-dev.txt";

fn venv() -> PathBuf {
    target_dir().join("python/venv")
}

fn wheels() -> PathBuf {
    target_dir().join("python/wheels")
}

/// The venv's interpreter.
pub(crate) fn python() -> PathBuf {
    venv().join("bin/python")
}

fn run(program: &Path, args: &[&str]) -> Result {
    eprintln!("$ {} {}", program.display(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", program.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{} {}` failed ({status})",
            program.display(),
            args.join(" ")
        ))
    }
}

/// A venv with the pinned tools, made anew in CI (so a missing dependency fails
/// there first) or when the requirements changed; otherwise reused.
fn setup_venv() -> Result {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let requirements = std::fs::read_to_string(root().join(REQUIREMENTS))
        .map_err(|e| format!("{REQUIREMENTS}: {e}"))?;
    let stamp = venv().join("requirements.stamp");
    let current = std::fs::read_to_string(&stamp).ok();
    if !ci && python().exists() && current.as_deref() == Some(requirements.as_str()) {
        return Ok(());
    }
    if venv().exists() {
        std::fs::remove_dir_all(venv()).map_err(|e| format!("{}: {e}", venv().display()))?;
    }
    let venv_text = venv().to_string_lossy().into_owned();
    run(Path::new("python3"), &["-m", "venv", &venv_text])
        .map_err(|e| format!("{e}; install Python 3.9 or newer with its venv module"))?;
    run(
        &python(),
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            REQUIREMENTS,
        ],
    )?;
    std::fs::write(&stamp, requirements).map_err(|e| e.to_string())
}

/// Build the release wheel and install it into the venv; returns the wheel's path.
pub(crate) fn install_wheel() -> Result<PathBuf> {
    setup_venv()?;
    let out = wheels();
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let out_text = out.to_string_lossy().into_owned();
    run(
        &venv().join("bin/maturin"),
        &[
            "build",
            "--release",
            "--locked",
            "--manifest-path",
            "bindings/python/Cargo.toml",
            "--out",
            &out_text,
        ],
    )?;
    let wheel = std::fs::read_dir(&out)
        .map_err(|e| format!("{}: {e}", out.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("maturin built no wheel")?;
    let wheel_text = wheel.to_string_lossy().into_owned();
    run(
        &python(),
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--no-deps",
            "--force-reinstall",
            &wheel_text,
        ],
    )?;
    Ok(wheel)
}

/// pytest's closing line (`12 passed, 1 failed, 2 skipped in 3.40s`) as (passed, failed);
/// errors count as failures.
fn counts(line: &str) -> Option<(u64, u64)> {
    let line = line.trim().trim_matches('=').trim();
    let (summary, _) = line.rsplit_once(" in ")?;
    let (mut passed, mut failed, mut seen) = (0, 0, false);
    for part in summary.split(", ") {
        let mut words = part.split_whitespace();
        let (Some(n), Some(word)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        seen = true;
        match word {
            "passed" => passed += n,
            "failed" | "error" | "errors" => failed += n,
            _ => {}
        }
    }
    seen.then_some((passed, failed))
}

/// Build, install, test. Returns (passed, failed) from pytest's summary.
pub(crate) fn test() -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    install_wheel()?;
    let args = [
        "-m",
        "pytest",
        "bindings/python/tests",
        "-p",
        "no:cacheprovider",
        "-q",
    ];
    eprintln!("$ {} {}", python().display(), args.join(" "));
    let mut child = Command::new(python())
        .args(args)
        .current_dir(root())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start pytest: {e}"))?;
    let mut result = None;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            if let Some(c) = counts(&line) {
                result = Some(c);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let (passed, failed) = result.unwrap_or_default();
    if !status.success() || failed > 0 {
        return Err(format!("pytest failed ({status}): {failed} failed"));
    }
    if passed == 0 {
        return Err("pytest ran no test".into());
    }
    Ok((passed, failed))
}
