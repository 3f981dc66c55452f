//! `cargo xtask <task>`: the project's entry points, the same for developers and CI.
//!
//! - `test`  : set-up, `cargo fmt --check`, cargo-deny, clippy `-D warnings`, build,
//!   every test suite, then `dist` and its artefact tests
//! - `dist`  : every artefact into `target/dist/`; `test-dist` tests them
//! - `demo`  : the main job, end to end, offline
//! - `bench` : criterion benchmarks, summarised into `target/bench/`
//! - `fuzz`  : the cargo-fuzz targets in `fuzz/`, N seconds each (nightly)
//! - `soak`  : the fault, kill-point and concurrency loops, N rounds

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod capi;
mod demo;
mod dist;
mod emulator;
mod fuzz;
mod header;
mod layout;
mod page;
mod python;
mod soak;
mod wasm;
mod wasm_calls;
mod wasm_sizes;
mod web;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match task {
        "test" => test(),
        "demo" => demo::run(),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "soak" => soak::run(rest),
        "wasm" => wasm::build().map(|_| ()),
        "wasm-sizes" => wasm_sizes::run(rest),
        "page" => page::run(),
        "layout" => layout::check(),
        "serve" => web::serve(rest),
        "header" => header::run(rest),
        "test-c" => capi::test().map(|(p, f)| println!("c: {p} passed, {f} failed")),
        "test-web" => setup()
            .and_then(|()| web::test())
            .map(|(p, f)| println!("page: {p} passed, {f} failed")),
        "dist" => dist::run(),
        "test-dist" => dist::test().map(|(p, f)| println!("dist: {p} passed, {f} failed")),
        "python" => python::test().map(|(p, f)| println!("python: {p} passed, {f} failed")),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 demo   run the whole flow offline: subjects, plan, every render, diagnosis\n  \
                 test   set up what the suites need, then fmt, clippy, build and every test\n  \
                 bench  run the benchmarks and write target/bench/report.{{json,md}} (--quick; --page: the page alone)\n  \
                 fuzz   run the cargo-fuzz targets (nightly): [--seconds N] [target...]\n  \
                 soak   the fault matrix, kill points and concurrent applies, longer: [--rounds N]\n  \
                 wasm   build the core for the browser into web/pkg/\n  \
                 wasm-sizes  what makes that WASM heavy, by crate and function (--top=N, --all=FILE, --keeps=N)\n  \
                 page   the page as it ships, scripts bundled and minified, in target/page/\n  \
                 layout check the architecture: the core free of I/O, the emulator of our crates\n  \
                 serve  build the page and serve web/ on 127.0.0.1 (default port 8765)\n  \
                 header generate bindings/c/include/pulumi_azure_oidc.h (--check: fail if stale)\n  \
                 test-c the C ABI's tests (static, shared, under valgrind)\n  \
                 test-web the page's tests (the core as wasm, the page in Chromium)\n  \
                 python build the wheel, install it in target/python/venv, run pytest\n  \
                 dist   build every artefact into target/dist/ (wheel, sdist, C SDK, CLI, page)\n  \
                 test-dist  test the artefacts in target/dist/ as users install them"
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

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, else `target/` in the root,
/// so the C tests link and the page loads what this build produced.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        }
        _ => root().join("target"),
    }
}

/// Run a command in the workspace root, failing with the command line if it fails.
pub(crate) fn sh(program: &str, args: &[&str]) -> Result {
    sh_env(program, args, &[])
}

/// `sh` with extra environment variables for the child.
pub(crate) fn sh_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
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
pub(crate) fn setup() -> Result {
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
    let mut timed = |name: &'static str, f: &dyn Fn() -> Result<Option<(u64, u64)>>| {
        let t = Instant::now();
        let counts = f()?;
        steps.push((name, t.elapsed().as_secs_f64()));
        Ok::<_, String>(counts)
    };
    timed("layout", &|| layout::check().map(|()| None))?;
    timed("format", &|| {
        sh("cargo", &["fmt", "--all", "--check"]).map(|()| None)
    })?;
    // Licences, duplicate majors and sources of every dependency (deny.toml).
    timed("deny", &|| dist::licences::deny().map(|()| None))?;
    timed("clippy", &|| {
        sh(
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
        )
        .map(|()| None)
    })?;
    timed("build", &|| {
        sh(
            "cargo",
            &["build", "--workspace", "--all-targets", "--locked"],
        )
        .map(|()| None)
    })?;
    // Unit, integration, property, vector and CLI tests, then doctests.
    let counts = timed("rust tests", &|| {
        cargo_test(&["test", "--workspace", "--locked"], &[]).map(Some)
    })?;
    // The C face: header drift, C tests against both libraries, then under valgrind.
    let c = timed("C ABI tests", &|| capi::test().map(Some))?;
    // The browser face: the core built for wasm32, the page driven in Chromium.
    let page = timed("page tests", &|| web::test().map(Some))?;
    // The Python face: the wheel installed in a project-local venv, pytest.
    let py = timed("python tests", &|| python::test().map(Some))?;
    // The artefacts users install, built from this tree and tested as installed.
    let dist = timed("dist", &|| {
        dist::run().and_then(|()| dist::test()).map(Some)
    })?;
    eprintln!();
    for (name, secs) in &steps {
        eprintln!("xtask: {name:<12} ok  {secs:>6.1} s");
    }
    eprintln!(
        "xtask: all suites passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let (passed, failed) = counts.unwrap_or_default();
    let (page_passed, page_failed) = page.unwrap_or_default();
    let (c_passed, c_failed) = c.unwrap_or_default();
    let (py_passed, py_failed) = py.unwrap_or_default();
    let (dist_passed, dist_failed) = dist.unwrap_or_default();
    println!("rust: {passed} passed, {failed} failed");
    println!("c: {c_passed} passed, {c_failed} failed");
    println!("page: {page_passed} passed, {page_failed} failed");
    println!("python: {py_passed} passed, {py_failed} failed");
    println!("dist: {dist_passed} passed, {dist_failed} failed");
    println!(
        "total: {} passed, {} failed",
        passed + c_passed + page_passed + py_passed + dist_passed,
        failed + c_failed + page_failed + py_failed + dist_failed
    );
    Ok(())
}

/// Run `node` with the test runner, echoing its output, and read its closing counts
/// (`# pass N` / `# fail N` in the TAP it prints when not on a terminal).
pub(crate) fn node_test(args: &[&str]) -> Result<(u64, u64)> {
    node_test_with(args, &[])
}

/// `node_test` with extra environment variables.
pub(crate) fn node_test_with(args: &[&str], envs: &[(&str, &str)]) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    eprintln!("$ node {}", args.join(" "));
    let mut child = Command::new("node")
        .arg("--test-reporter=tap")
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node (install Node.js 20): {e}"))?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            if let Some(n) = line.strip_prefix("# pass ") {
                passed = n.trim().parse().unwrap_or(0);
            }
            if let Some(n) = line.strip_prefix("# fail ") {
                failed = n.trim().parse().unwrap_or(0);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() || failed > 0 {
        return Err(format!(
            "`node {}` failed ({status}): {failed} failed",
            args.join(" ")
        ));
    }
    if passed == 0 {
        return Err(format!("`node {}` ran no test", args.join(" ")));
    }
    Ok((passed, failed))
}

/// Run `cargo test`, echoing its output, and add up its `test result:` lines.
pub(crate) fn cargo_test(args: &[&str], envs: &[(&str, &str)]) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    eprintln!("$ cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                let count = |word: &str| {
                    rest.split(';')
                        .find_map(|part| {
                            part.trim()
                                .strip_suffix(word)?
                                .trim()
                                .rsplit(' ')
                                .next()?
                                .parse::<u64>()
                                .ok()
                        })
                        .unwrap_or(0)
                };
                passed += count("passed");
                failed += count("failed");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "`cargo {}` failed ({status}): {failed} failed",
            args.join(" ")
        ));
    }
    if passed == 0 {
        return Err("cargo test ran no test".into());
    }
    Ok((passed, failed))
}

/// The Debian packages whose programs a suite runs, each given as (program, a flag
/// that makes it exit 0, package): installed with apt when running as root, else the
/// exact command to run is printed and the suite fails.
pub(crate) fn system_packages(purpose: &str, needs: &[(&str, &str, &str)]) -> Result {
    let missing: Vec<&str> = needs
        .iter()
        .filter(|(program, flag, _)| {
            !std::process::Command::new(program)
                .arg(flag)
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(_, _, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if web::is_root() {
        sh("apt-get", &["update"])?;
        let mut args = vec!["install", "-y"];
        args.extend(&missing);
        return sh("apt-get", &args);
    }
    Err(format!(
        "{purpose} need {}; install with:\n  sudo apt-get update && sudo apt-get install -y {}",
        missing.join(", "),
        missing.join(" ")
    ))
}
