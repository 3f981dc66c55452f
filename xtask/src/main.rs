//! `cargo xtask <task>`: the project's entry points, the same for developers and CI.
//!
//! - `test`  : set-up, `cargo fmt --check`, clippy `-D warnings`, build, every test suite
//! - `demo`  : the main job, end to end, offline
//! - `bench` : criterion benchmarks, summarised into `target/bench/`

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod demo;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match task {
        "test" => test(),
        "demo" => demo::run(),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 demo   run the whole flow offline: subjects, plan, every render, diagnosis\n  \
                 test   set up what the suites need, then fmt, clippy, build and every test\n  \
                 bench  run the benchmarks and write target/bench/report.{{json,md}}"
            );
            Ok(())
        }
        other => Err(format!("unknown task `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Run a command in the workspace root, failing with the command line if it fails.
pub(crate) fn sh(program: &str, args: &[&str]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Install what the suites need, project-local where possible. Fails with the exact
/// command when something needs privileges this process lacks.
fn setup() -> Result {
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if !succeeds("cargo", &[probe, "--version"]) {
            if !succeeds("rustup", &["--version"]) {
                return Err(format!(
                    "`cargo {probe}` is missing and rustup is not available; install the `{component}` component"
                ));
            }
            sh("rustup", &["component", "add", component])?;
        }
    }
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        sh("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    Ok(())
}

fn test() -> Result {
    let started = Instant::now();
    setup()?;
    let mut steps: Vec<(&str, f64)> = Vec::new();
    let mut step = |name: &'static str, program: &str, args: &[&str]| -> Result {
        let t = Instant::now();
        sh(program, args)?;
        steps.push((name, t.elapsed().as_secs_f64()));
        Ok(())
    };
    step("format", "cargo", &["fmt", "--all", "--check"])?;
    step(
        "clippy",
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    step(
        "build",
        "cargo",
        &["build", "--workspace", "--all-targets", "--locked"],
    )?;
    // Unit, integration, property, vector and CLI tests, then doctests.
    step("rust tests", "cargo", &["test", "--workspace", "--locked"])?;
    // The core is sans-IO so the browser face can use it: keep it building for wasm32.
    step(
        "core wasm32",
        "cargo",
        &[
            "check",
            "--package",
            "pulumi-azure-oidc",
            "--target",
            "wasm32-unknown-unknown",
            "--locked",
        ],
    )?;
    eprintln!();
    for (name, secs) in &steps {
        eprintln!("xtask: {name:<12} ok  {secs:>6.1} s");
    }
    eprintln!(
        "xtask: all suites passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
