//! `cargo xtask soak [--rounds N]`: the reliability loops of `cargo xtask test`, N
//! times longer, for local runs before a release.
//!
//! The same tests run in CI with one round; here `PAOIDC_SOAK_ROUNDS` multiplies the
//! fault-matrix seeds (8 per fault kind per round), the SIGKILL points (6 per round,
//! shifted each round), and the two-processes-at-once rounds (2 per round).

use std::time::Instant;

use crate::Result;

/// The tests whose loops scale with the rounds, plus the other fault tests once.
const FILTERS: &[&str] = &[
    "fault_matrix_converges_with_exactly_the_planned_objects",
    "an_apply_killed_at_any_point_is_finished_by_a_rerun",
    "two_apply_processes_at_once_make_no_duplicates",
    "an_apply_interrupted_after_k_requests_is_finished_by_a_rerun",
    "sustained_throttling_is_waited_out_within_the_concurrency_limit",
    "destroy_after_a_partial_apply_removes_exactly_what_was_made",
];

pub(crate) fn run(args: &[String]) -> Result {
    let mut rounds: u64 = 10;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rounds" => {
                let v = it.next().ok_or("--rounds needs a number")?;
                rounds = v
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| format!("--rounds `{v}`: expected a whole number ≥ 1"))?;
            }
            other => {
                return Err(format!(
                    "soak: unknown argument `{other}`; usage: cargo xtask soak [--rounds N]"
                ));
            }
        }
    }
    let started = Instant::now();
    let mut cargo = vec![
        "test",
        "--workspace",
        "--locked",
        "--test",
        "provision",
        "--",
    ];
    cargo.extend(FILTERS);
    cargo.push("--nocapture");
    let rounds_env = rounds.to_string();
    let (passed, failed) = crate::cargo_test(&cargo, &[("PAOIDC_SOAK_ROUNDS", &rounds_env)])?;
    let runs = 8 * 6 * rounds;
    println!(
        "soak: {rounds} rounds: {runs} fault-matrix runs, {} kill points, {} concurrent-apply rounds; \
         {passed} tests passed, {failed} failed in {:.0} s",
        6 * rounds,
        2 * rounds,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
