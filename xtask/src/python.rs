//! `cargo xtask python`: the Python module tested as users get it. Builds the wheel
//! exactly as `cargo xtask dist` does (maturin through zig, from a project-local
//! venv), installs it into `target/python/venv` (a fresh one with `CI=true`), and runs
//! pytest on `bindings/python/tests`.
//! Then `tests/clients`: the services' official Python clients (Microsoft's and
//! Pulumi's) against the emulator binary, in a loopback-only network namespace
//! (`unshare --net`, which needs root).

use crate::{Result, root, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

const REQUIREMENTS: &str = "bindings/python/requirements-dev.txt";
/// The pinned SDK clients `tests/clients` runs, installed into the same venv.
const CLIENT_REQUIREMENTS: &str = "tests/clients/requirements.txt";
const CLIENT_SUITE: &str = "tests/clients";
/// Microsoft's az CLI, pinned; a venv of its own, because it pins other azure-mgmt-*
/// and azure-core releases than the SDK clients do.
const AZ_REQUIREMENTS: &str = "tests/clients/requirements-az.txt";

fn venv() -> PathBuf {
    target_dir().join("python/venv")
}

fn az_venv() -> PathBuf {
    target_dir().join("python/az-venv")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn wheels() -> PathBuf {
    target_dir().join("python/wheels")
}

/// The venv's interpreter.
pub(crate) fn python() -> PathBuf {
    venv().join("bin/python")
}

/// Run `program` from the repository root with `envs` added to its environment.
pub(crate) fn run(program: &Path, args: &[&str], envs: &[(&str, String)]) -> Result {
    eprintln!("$ {} {}", program.display(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v.as_str())))
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
    make_venv(&venv(), &[REQUIREMENTS, CLIENT_REQUIREMENTS])
}

/// `venv` holding exactly `files`' pins: made anew in CI or when a pin changed,
/// otherwise reused (a stamp inside it records the pins it was made from).
pub(crate) fn make_venv(venv: &Path, files: &[&str]) -> Result {
    let mut requirements = String::new();
    for file in files {
        let text =
            std::fs::read_to_string(root().join(file)).map_err(|e| format!("{file}: {e}"))?;
        requirements.push_str(&text);
    }
    let stamp = venv.join("requirements.stamp");
    let python = venv.join("bin/python");
    let current = std::fs::read_to_string(&stamp).ok();
    if !in_ci() && python.exists() && current.as_deref() == Some(requirements.as_str()) {
        return Ok(());
    }
    if venv.exists() {
        std::fs::remove_dir_all(venv).map_err(|e| format!("{}: {e}", venv.display()))?;
    }
    let started = std::time::Instant::now();
    let venv_text = venv.to_string_lossy().into_owned();
    run(Path::new("python3"), &["-m", "venv", &venv_text], &[])
        .map_err(|e| format!("{e}; install Python 3.9 or newer with its venv module"))?;
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ];
    for file in files {
        args.extend(["-r", file]);
    }
    run(&python, &args, &[])?;
    eprintln!(
        "xtask: {} made in {:.0} s",
        venv.display(),
        started.elapsed().as_secs_f64()
    );
    std::fs::write(&stamp, requirements).map_err(|e| e.to_string())
}

/// Build the release wheel and install it into the venv; returns the wheel's path.
pub(crate) fn install_wheel() -> Result<PathBuf> {
    setup_venv()?;
    // The same build as the distributed wheel: glibc 2.17 through zig, abi3.
    let wheel = crate::dist::wheel::build_raw(&wheels())?;
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
        &[],
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

/// Run one pytest command line, echoing its output; (passed, failed) from its summary.
fn pytest(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    eprintln!("$ {} {}", program.display(), args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
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

/// Build, install, test: the bindings' suite, then the SDK clients' suite. Returns
/// (passed, failed) summed over both.
pub(crate) fn test() -> Result<(u64, u64)> {
    install_wheel()?;
    let python = python();
    let bindings = pytest(
        &python,
        &[
            "-m",
            "pytest",
            "bindings/python/tests",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        &[],
    )?;
    let clients = test_clients()?;
    Ok((bindings.0 + clients.0, bindings.1 + clients.1))
}

/// `tests/clients` against the emulator binary (built here), inside a new network
/// namespace with only loopback up, so no client can reach past the emulator. Fails,
/// never skips, when that namespace cannot be made.
fn test_clients() -> Result<(u64, u64)> {
    let started = std::time::Instant::now();
    make_venv(&az_venv(), &[AZ_REQUIREMENTS])?;
    // The az suite runs our rendered script, which calls `curl` for Pulumi Cloud.
    crate::system_packages(
        CLIENT_SUITE,
        &[
            ("curl", "--version", "curl"),
            ("unshare", "--version", "util-linux"),
            ("ip", "-V", "iproute2"),
        ],
    )?;
    crate::sh(
        "cargo",
        &[
            "build",
            "--locked",
            "-p",
            "pulumi-azure-oidc-emulator",
            "-p",
            "pulumi-azure-oidc-cli",
            "--bins",
        ],
    )?;
    let emulator = target_dir().join("debug/pulumi-azure-oidc-emulator");
    let emulator_text = emulator.to_string_lossy().into_owned();
    let cli_text = target_dir()
        .join("debug/pulumi-azure-oidc")
        .to_string_lossy()
        .into_owned();
    let az_text = az_venv().join("bin/az").to_string_lossy().into_owned();
    let python = python();
    let python_text = python.to_string_lossy().into_owned();
    let script = r#"ip link set lo up && exec "$0" "$@""#;
    let args = [
        "--net",
        "--",
        "sh",
        "-c",
        script,
        &python_text,
        "-m",
        "pytest",
        CLIENT_SUITE,
        "-p",
        "no:cacheprovider",
        "-q",
    ];
    let command = format!(
        "cd {} && PULUMI_AZURE_OIDC_EMULATOR={emulator_text} PULUMI_AZURE_OIDC_CLI={cli_text} AZURE_CLI={az_text} unshare --net -- sh -c '{script}' {python_text} -m pytest {CLIENT_SUITE} -p no:cacheprovider -q",
        root().display()
    );
    if !crate::web::is_root() {
        return Err(format!(
            "{CLIENT_SUITE} runs in a loopback-only network namespace, which needs root; run as root: {command}"
        ));
    }
    let counts = pytest(
        Path::new("unshare"),
        &args,
        &[
            ("PULUMI_AZURE_OIDC_EMULATOR", &emulator_text),
            ("PULUMI_AZURE_OIDC_CLI", &cli_text),
            ("AZURE_CLI", &az_text),
        ],
    )?;
    eprintln!(
        "xtask: {CLIENT_SUITE}: {} passed in {:.1} s",
        counts.0,
        started.elapsed().as_secs_f64()
    );
    Ok(counts)
}
