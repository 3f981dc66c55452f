//! `cargo xtask fuzz [--seconds N] [target...]`: run the cargo-fuzz targets in `fuzz/`.
//!
//! Needs a nightly toolchain and cargo-fuzz; without them it prints the commands that
//! install them and fails. Each target runs for N seconds (default 60) on a working
//! copy of its seed corpus in `target/fuzz/corpus/<target>` (the committed seeds in
//! `fuzz/corpus/<target>` are read, never written), with crash reproducers written to
//! `target/fuzz/artifacts/<target>/`. A crash fails the task; make it a regression
//! file under `fuzz/regressions/<target>/` with its fix, and the stable replay tests
//! keep it fixed.

use crate::{Result, root, target_dir};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Every target, in the order they run.
const TARGETS: [&str; 5] = ["token", "aadsts", "config", "names", "capi"];

/// What one run found.
struct Outcome {
    target: String,
    seconds: u64,
    runs: u64,
    corpus: usize,
    crashes: Vec<String>,
}

pub(crate) fn run(args: &[String]) -> Result {
    let mut seconds = 60u64;
    let mut targets: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" | "-s" => {
                let value = args.next().ok_or("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| format!("--seconds {value}: expected a positive number"))?;
            }
            "--help" | "-h" => {
                println!(
                    "usage: cargo xtask fuzz [--seconds N] [target...]\n\n\
                     targets: {} (default: all)\n\
                     Runs each target for N seconds (default 60) with cargo-fuzz on nightly.",
                    TARGETS.join(", ")
                );
                return Ok(());
            }
            t if TARGETS.contains(&t) => targets.push(t.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz target `{other}`; expected one of {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    check_tools()?;
    let fuzz_dir = root().join("fuzz");
    // One build for every target, so the first target's time is spent fuzzing.
    let status = Command::new("cargo")
        .args(["+nightly", "fuzz", "build", "-O"])
        .current_dir(&fuzz_dir)
        .status()
        .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    if !status.success() {
        return Err(format!("`cargo +nightly fuzz build -O` failed ({status})"));
    }
    let mut outcomes = Vec::new();
    for target in &targets {
        outcomes.push(run_one(&fuzz_dir, target, seconds)?);
    }
    println!();
    println!(
        "{:<8} {:>8} {:>12} {:>10} {:>8}",
        "target", "seconds", "executions", "exec/s", "corpus"
    );
    for o in &outcomes {
        println!(
            "{:<8} {:>8} {:>12} {:>10} {:>8}{}",
            o.target,
            o.seconds,
            o.runs,
            o.runs / o.seconds.max(1),
            o.corpus,
            if o.crashes.is_empty() {
                String::new()
            } else {
                format!("  CRASHES: {}", o.crashes.join(", "))
            }
        );
    }
    let crashed: usize = outcomes.iter().map(|o| o.crashes.len()).sum();
    if crashed > 0 {
        return Err(format!(
            "{crashed} crash(es); reproduce with `cd fuzz && cargo +nightly fuzz run <target> <file>`, \
             then add the file to fuzz/regressions/<target>/ with the fix"
        ));
    }
    println!("fuzz: {} target(s), no crash", outcomes.len());
    Ok(())
}

/// Fail with the exact install commands when nightly or cargo-fuzz is missing.
fn check_tools() -> Result {
    let works = |args: &[&str]| {
        Command::new("cargo")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !works(&["+nightly", "--version"]) {
        return Err(
            "fuzzing needs a nightly toolchain; install it with `rustup toolchain install nightly`"
                .into(),
        );
    }
    if !works(&["+nightly", "fuzz", "--version"]) {
        return Err(
            "fuzzing needs cargo-fuzz; install it with `cargo install cargo-fuzz --locked`".into(),
        );
    }
    Ok(())
}

fn run_one(fuzz_dir: &Path, target: &str, seconds: u64) -> Result<Outcome> {
    let work = target_dir().join("fuzz");
    let corpus = work.join("corpus").join(target);
    let artifacts = work.join("artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let before = files(&artifacts);
    let seeds = fuzz_dir.join("corpus").join(target);
    let mut command = Command::new("cargo");
    command
        .args(["+nightly", "fuzz", "run", "-O", target])
        .arg(&corpus)
        .arg(&seeds);
    let regressions = fuzz_dir.join("regressions").join(target);
    if regressions.is_dir() {
        command.arg(&regressions);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        // A single input may take at most 10 s and the process 1 GiB: slow or
        // memory-hungry inputs are findings too.
        .arg("-timeout=10")
        .arg("-rss_limit_mb=1024")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .current_dir(fuzz_dir)
        .stderr(Stdio::piped());
    eprintln!("$ cargo +nightly fuzz run -O {target} … -max_total_time={seconds}");
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    let mut runs = 0;
    let mut status_lines = 0u64;
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(std::io::Result::ok) {
            // `Done 250554 runs in 61 second(s)`, and the final stats' line.
            let count = line
                .strip_prefix("stat::number_of_executed_units:")
                .or_else(|| line.strip_prefix("Done ")?.split(' ').next());
            if let Some(n) = count.and_then(|n| n.trim().parse().ok()) {
                runs = n;
            }
            // Progress lines are many; show every 20th and everything else.
            let progress = line.starts_with('#') && line.contains(" exec/s:");
            if progress {
                status_lines += 1;
            }
            if !progress || status_lines.is_multiple_of(20) {
                eprintln!("{line}");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let crashes: Vec<String> = files(&artifacts)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if !status.success() && crashes.is_empty() {
        return Err(format!("`cargo fuzz run {target}` failed ({status})"));
    }
    Ok(Outcome {
        target: target.to_owned(),
        seconds,
        runs,
        corpus: files(&corpus).len(),
        crashes: crashes
            .iter()
            .map(|f| artifacts.join(f).display().to_string())
            .collect(),
    })
}

fn files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
