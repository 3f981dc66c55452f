//! A big org applied under Azure's documented budgets: the emulator started as with
//! `--budgets azure` (Graph's write and resource-unit limits, ARM's token buckets),
//! refilled [`SCALE`] times faster so minutes become seconds, and the executor run
//! twice per size, side by side: paced to the budgets, and unpaced (as fast as its
//! request slots allow, slowed only by 429s). Then a converged re-run, and the
//! executor's peak heap during the paced apply. Writes `target/bench/budgets.json`.
//!
//! Run through `cargo xtask bench` (or `cargo bench --bench budgets [-- --quick]`).
//!
//! The executor runs on this thread alone (a current-thread runtime) and the emulator
//! on a runtime of its own, so the counting allocator's per-thread peak is the
//! executor's: its plan, its observed state, its requests and answers in flight.
//!
//! The budget-implied minimum is the longest any bucket needs for the apply's writes
//! (what a bucket holds goes at once, the rest at its refill rate), plus the critical
//! path: the chain of round trips that must follow one another (the observation's
//! Pulumi Cloud reads among them), at the injected latency.

use std::sync::Arc;
use std::time::Instant;

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc::diff::Change;
use pulumi_azure_oidc::provision::{Bucket, DOCUMENTED_BUDGETS};
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{
    AzureAuth, DEFAULT_CONCURRENCY, Endpoints, Options, Provisioner, Quiet, RetryPolicy, Secret,
};
use pulumi_azure_oidc_test_support as support;
use serde_json::{Value, json};

#[global_allocator]
static ALLOC: support::counting::Counting = support::counting::Counting;

/// How much faster than documented the budgets refill, for the emulator and the
/// executor alike: the same shapes, a tenth of the time.
const SCALE: f64 = 10.0;
/// Added to every request, so round trips cost what a network makes them cost.
const LATENCY_MS: u64 = 10;

fn config(stacks: usize) -> Config {
    let text = support::packed_org(stacks, emu::DEFAULT_TENANT_ID, emu::DEFAULT_SUBSCRIPTION_ID);
    match Config::from_yaml(&text) {
        Ok(c) => c,
        Err(e) => panic!("bench config: {e}"),
    }
}

fn provisioner(e: &emu::Emulator, paced: bool) -> Arc<Provisioner> {
    let options = Options {
        endpoints: Endpoints::default().all_at(e.https_url()),
        azure: Some(AzureAuth::ClientSecret {
            tenant_id: emu::DEFAULT_TENANT_ID.into(),
            client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
            secret: Secret::new(emu::DEFAULT_OPERATOR_SECRET),
        }),
        pulumi_token: Some(Secret::new(emu::DEFAULT_PULUMI_TOKEN)),
        ca_pem: Some(e.ca_pem().to_owned()),
        // Long enough for a bucket to refill: a 429 storm must not end the run.
        retry: RetryPolicy {
            max_elapsed: std::time::Duration::from_secs(900),
            max_attempts: 10_000,
            ..RetryPolicy::fast()
        },
        concurrency: DEFAULT_CONCURRENCY,
        budgets: paced.then(|| DOCUMENTED_BUDGETS.scaled(SCALE)),
        identity_write_rates: pulumi_azure_oidc::provision::DOCUMENTED_IDENTITY_WRITE_RATES
            .scaled(SCALE),
        ..Options::default()
    };
    match Provisioner::new(options) {
        Ok(p) => Arc::new(p),
        Err(err) => panic!("{err}"),
    }
}

/// Writes of a fresh apply by service: Graph (apps, service principals, credentials)
/// and ARM (role assignments).
fn writes(changes: &[Change]) -> (f64, f64) {
    let (mut graph, mut arm) = (0.0, 0.0);
    for c in changes {
        match c {
            Change::CreateApp { .. }
            | Change::UpdateApp { .. }
            | Change::CreateServicePrincipal { .. }
            | Change::CreateCredential { .. }
            | Change::UpdateCredential { .. }
            | Change::DeleteCredential { .. }
            | Change::DeleteApp { .. } => graph += 1.0,
            Change::CreateRoleAssignment { .. } | Change::DeleteRoleAssignment { .. } => {
                arm += 1.0;
            }
            _ => {}
        }
    }
    (graph, arm)
}

/// How long a bucket needs for `n` tokens, from full.
fn drain_s(b: Bucket, n: f64) -> f64 {
    (n - b.size).max(0.0) / b.per_second
}

/// The budget-implied minimum of an apply, in seconds, and which bucket binds.
fn budget_minimum(graph_writes: f64, arm_writes: f64) -> (f64, &'static str) {
    let b = DOCUMENTED_BUDGETS.scaled(SCALE);
    [
        (
            drain_s(b.graph_app_writes, graph_writes),
            "Graph writes per app and tenant",
        ),
        (
            drain_s(b.graph_tenant_writes, graph_writes),
            "Graph writes per tenant",
        ),
        (
            drain_s(b.arm_writes, arm_writes),
            "ARM writes per subscription",
        ),
    ]
    .into_iter()
    .fold((0.0, "none"), |a, b| if b.0 > a.0 { b } else { a })
}

/// Round trips of the longest chain: the token, a round of reads, an app, its 20
/// credentials in one chained batch, and the settings of the stack presenting the last.
/// The round of reads is each target's Pulumi Cloud read (one per stack, as many at
/// once as the request slots allow), which the diff needs before the first write.
fn chain_round_trips(plan: &pulumi_azure_oidc::Plan) -> f64 {
    let targets: usize = plan.apps.iter().map(|a| a.targets.len()).sum();
    (2 + targets.div_ceil(DEFAULT_CONCURRENCY) + 3) as f64
}

/// The fewest sequential round trips a converged re-run can take: Graph's token, the
/// tag list and one round of batches, beside the Pulumi Cloud reads, as many at once
/// as the request slots allow.
fn rerun_round_trips(plan: &pulumi_azure_oidc::Plan) -> usize {
    let targets: usize = plan.apps.iter().map(|a| a.targets.len()).sum();
    targets.div_ceil(DEFAULT_CONCURRENCY).max(3)
}

struct Run {
    row: Value,
}

fn one(stacks: usize, paced: bool, emu_rt: &tokio::runtime::Runtime) -> Run {
    let e = emu_rt
        .block_on(emu::Emulator::start(emu::Options {
            faults: emu::FaultOptions {
                latency_ms: LATENCY_MS,
                ..Default::default()
            },
            budgets: emu::Budgets::Azure,
            rate_scale: SCALE,
            ..Default::default()
        }))
        .unwrap_or_else(|err| panic!("{err}"));
    let plan = pulumi_azure_oidc::plan(&config(stacks)).unwrap_or_else(|err| panic!("{err}"));
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("{err}"));
    let p = provisioner(&e, paced);
    let started = Instant::now();
    // Peaks beyond what the plan already holds: observing and diffing, then applying
    // with the prepared changes still held.
    let before = support::counting::held();
    let (prepared, prepare_peak) = support::counting::peak_of(|| {
        executor.block_on(async {
            p.prepare(plan.clone(), false)
                .await
                .unwrap_or_else(|err| panic!("{err}"))
        })
    });
    let retained = usize::try_from(support::counting::held() - before).unwrap_or(0);
    let (_, apply_peak) = support::counting::peak_of(|| {
        executor.block_on(async {
            p.apply(&prepared, &Quiet)
                .await
                .unwrap_or_else(|err| panic!("{err}"));
        })
    });
    let changes = prepared.diff.changes.clone();
    let peak = prepare_peak.max(retained + apply_peak);
    let wall = started.elapsed().as_secs_f64();
    let stats = e.stats();
    let sent = p.requests();
    // Every 429 the budgets answered (the managed-identity rates included).
    let throttled = stats["metered_throttles"].as_u64().unwrap_or(0);
    let requests = stats["requests"].as_u64().unwrap_or(0);
    let (graph_writes, arm_writes) = writes(&changes);
    let (budget_s, binding) = budget_minimum(graph_writes, arm_writes);
    let chain_s = chain_round_trips(&plan) * LATENCY_MS as f64 / 1000.0;
    let minimum = budget_s + chain_s;
    // A converged re-run of the same org, paced.
    let mut rerun = json!(null);
    if paced {
        e.reset_stats();
        let again = provisioner(&e, true);
        let t = Instant::now();
        let converged = executor.block_on(async {
            again
                .prepare(plan.clone(), false)
                .await
                .map(|x| x.diff.is_converged())
                .unwrap_or_else(|err| panic!("{err}"))
        });
        let secs = t.elapsed().as_secs_f64();
        let r = again.requests();
        rerun = json!({
            "converged": converged,
            "wall_s": secs,
            "round_trips": secs * 1000.0 / LATENCY_MS as f64,
            "graph_arm": r.graph + r.arm,
            "pulumi": r.pulumi,
            "minimum_graph_arm": 2 + (2 * plan.apps.len()).div_ceil(20),
            "minimum_round_trips": rerun_round_trips(&plan),
        });
    }
    emu_rt.block_on(e.shutdown());
    let row = json!({
        "stacks": stacks,
        "apps": plan.apps.len(),
        "paced": paced,
        "wall_s": wall,
        "minimum_s": minimum,
        "budget_s": budget_s,
        "chain_s": chain_s,
        "binding": binding,
        "vs_minimum": wall / minimum,
        "graph_writes": graph_writes,
        "arm_writes": arm_writes,
        "requests": requests,
        "retries": sent.retries,
        "throttled": throttled,
        "throttled_share": throttled as f64 / (requests.max(1)) as f64,
        "budget_throttles": stats["budget_throttles"],
        "early_retries": stats["early_retries"],
        "peak_heap_bytes": peak,
        "prepare_peak_bytes": prepare_peak,
        "prepared_bytes": retained,
        "apply_peak_bytes": apply_peak,
        "rerun": rerun,
    });
    println!(
        "{stacks:>5} stacks, {}: {wall:.1} s, minimum {minimum:.1} s ({binding}) → {:.2}×; {throttled} of {requests} requests answered 429 ({:.2} %); peak heap {:.1} MiB (prepare {:.1}, prepared {:.1}, apply {:.1}){}",
        if paced { "paced  " } else { "unpaced" },
        wall / minimum,
        100.0 * throttled as f64 / requests.max(1) as f64,
        peak as f64 / 1_048_576.0,
        prepare_peak as f64 / 1_048_576.0,
        retained as f64 / 1_048_576.0,
        apply_peak as f64 / 1_048_576.0,
        if paced {
            format!(
                "; converged re-run {} Graph and ARM requests, {} Pulumi, {:.1} round trips",
                rerun["graph_arm"],
                rerun["pulumi"],
                rerun["round_trips"].as_f64().unwrap_or(0.0)
            )
        } else {
            String::new()
        }
    );
    Run { row }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--stacks=N` runs one size, `--paced-only` skips the unpaced run (for looking
    // at a change quickly, not for the report).
    let one_size: Option<usize> = args
        .iter()
        .find_map(|a| a.strip_prefix("--stacks="))
        .and_then(|n| n.parse().ok());
    let paced_only = args.iter().any(|a| a == "--paced-only");
    let sizes: Vec<usize> = match one_size {
        Some(n) => vec![n],
        None if quick => vec![1000],
        None => vec![1000, 5000],
    };
    let emu_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("{err}"));
    let mut rows = Vec::new();
    for stacks in sizes {
        for paced in [false, true] {
            if paced_only && !paced {
                continue;
            }
            rows.push(one(stacks, paced, &emu_rt).row);
        }
    }
    support::write_rows(
        "BUDGETS_BENCH_OUT",
        "budgets.json",
        &json!({
            "scale": SCALE,
            "latency_ms": LATENCY_MS,
            "concurrency": DEFAULT_CONCURRENCY,
            "rows": rows,
        }),
    );
}
