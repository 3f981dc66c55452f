//! Every committed fuzz input replayed on stable Rust: the seed corpora under
//! `fuzz/corpus/<target>/` and the crash reproducers under `fuzz/regressions/<target>/`,
//! each through the very function its fuzz target calls
//! (`pulumi_azure_oidc_test_support::fuzz_targets`), which asserts that the core neither panics nor answers with an
//! empty, unbounded or control-character-laden error. The C ABI's corpus is replayed
//! by `bindings/c/tests/fuzz_replay.rs`.

use pulumi_azure_oidc_test_support::fuzz_targets as targets;

use std::path::PathBuf;

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the folder does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display())),
        Err(_) => Vec::new(),
    };
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Replay every input of `target`; the seed corpus must not be empty.
fn replay(target: &str, run: fn(&[u8])) {
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "no seed corpus for `{target}`");
    for path in seeds.iter().chain(&inputs("regressions", target)) {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "`{target}` fails on {}", path.display());
    }
}

#[test]
fn token_corpus() {
    replay("token", targets::token);
}

#[test]
fn aadsts_corpus() {
    replay("aadsts", targets::aadsts);
}

#[test]
fn config_corpus() {
    replay("config", targets::config);
}

#[test]
fn names_corpus() {
    replay("names", targets::names);
}
