//! Provisioning against the emulator with latency injected on every request: the
//! executor next to a sequential run (one request at a time, as a loop of `az`
//! commands would go) and a one-app-at-a-time run, side by side in one process, with
//! the lower bound any strategy faces and the requests of a converged re-run against
//! their minimum. Writes `target/bench/provision.json`.
//!
//! Run through `cargo xtask bench` (or `cargo bench --bench provision [-- --quick]`).
//!
//! The executor runs three times per case (median, min, max). A peer strategy whose
//! run would exceed [`PEER_BUDGET_S`] is not run: its time is estimated from what was
//! measured, and the row says so.

use std::sync::Arc;
use std::time::Instant;

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc::diff::Change;
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{
    AzureAuth, DEFAULT_CONCURRENCY, Endpoints, Options, Provisioner, Quiet, RetryPolicy, Secret,
};
use serde_json::{Value, json};

use pulumi_azure_oidc_test_support as support;

/// Runs of the executor per case.
const EXECUTOR_RUNS: usize = 3;
/// A peer strategy expected to take longer than this is estimated, not run.
const PEER_BUDGET_S: f64 = 120.0;

/// `stacks` Deployments stacks, five per project, all with the same role: they pack
/// five to an app (4 credentials each, 20 per app), as a real org's stacks would.
fn config(stacks: usize) -> Config {
    let text = support::packed_org(
        stacks,
        "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f",
        "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
    );
    match Config::from_yaml(&text) {
        Ok(c) => c,
        Err(e) => panic!("bench config: {e}"),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Executor,
    OneAppAtATime,
    Sequential,
}

struct Strategy {
    kind: Kind,
    name: &'static str,
    concurrency: usize,
    app_parallelism: Option<usize>,
}

const STRATEGIES: [Strategy; 3] = [
    Strategy {
        kind: Kind::Executor,
        name: "executor",
        concurrency: DEFAULT_CONCURRENCY,
        app_parallelism: None,
    },
    Strategy {
        kind: Kind::OneAppAtATime,
        name: "one app at a time",
        concurrency: DEFAULT_CONCURRENCY,
        app_parallelism: Some(1),
    },
    Strategy {
        kind: Kind::Sequential,
        name: "sequential",
        concurrency: 1,
        app_parallelism: Some(1),
    },
];

fn provisioner(e: &emu::Emulator, s: &Strategy) -> Arc<Provisioner> {
    let options = Options {
        endpoints: Endpoints::default().all_at(e.https_url()),
        azure: Some(AzureAuth::ClientSecret {
            tenant_id: emu::DEFAULT_TENANT_ID.into(),
            client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
            secret: Secret::new(emu::DEFAULT_OPERATOR_SECRET),
        }),
        pulumi_token: Some(Secret::new(emu::DEFAULT_PULUMI_TOKEN)),
        ca_pem: Some(e.ca_pem().to_owned()),
        retry: RetryPolicy::fast(),
        concurrency: s.concurrency,
        app_parallelism: s.app_parallelism,
        ..Options::default()
    };
    match Provisioner::new(options) {
        Ok(p) => Arc::new(p),
        Err(err) => panic!("{err}"),
    }
}

/// The longest chain of dependent round trips of a fresh apply: the Graph token, one
/// round of reads, then per app the app itself followed by its longest lane.
/// Credential writes to one app are serialised (azure-facts.md §3), but a JSON batch
/// carries twenty of them in order (`dependsOn`), so they cost a round trip per
/// twenty; a service principal precedes its role assignments; a stack's settings
/// follow the credentials it presents (here every stack has settings, so the last
/// settings write follows the last credential). No strategy that keeps those orders
/// finishes in fewer latencies.
fn dependency_chain(changes: &[Change]) -> usize {
    #[derive(Default)]
    struct App {
        head: usize,
        credentials: usize,
        principal: usize,
        pulumi: usize,
    }
    let mut apps = std::collections::HashMap::<&str, App>::new();
    for c in changes {
        let a = apps.entry(c.app()).or_default();
        match c {
            Change::CreateApp { .. } | Change::UpdateApp { .. } | Change::DeleteApp { .. } => {
                a.head += 1
            }
            Change::CreateCredential { .. }
            | Change::UpdateCredential { .. }
            | Change::DeleteCredential { .. } => a.credentials += 1,
            Change::CreateServicePrincipal { .. }
            | Change::CreateRoleAssignment { .. }
            | Change::DeleteRoleAssignment { .. } => a.principal += 1,
            _ => a.pulumi = 1,
        }
    }
    let longest = apps
        .values()
        .map(|a| a.head + (a.credentials.div_ceil(20) + a.pulumi).max(a.principal))
        .max()
        .unwrap_or(0);
    2 + longest
}

/// One fresh apply and a converged re-run with strategy `s`.
async fn one(stacks: usize, latency_ms: u64, s: &Strategy) -> Value {
    let e = match emu::Emulator::start(emu::Options {
        faults: emu::FaultOptions {
            latency_ms,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    {
        Ok(e) => e,
        Err(err) => panic!("{err}"),
    };
    let plan = match pulumi_azure_oidc::plan(&config(stacks)) {
        Ok(p) => p,
        Err(err) => panic!("{err}"),
    };
    let p = provisioner(&e, s);
    let started = Instant::now();
    let prepared = match p.prepare(plan.clone(), false).await {
        Ok(x) => x,
        Err(err) => panic!("{err}"),
    };
    let observe_s = started.elapsed().as_secs_f64();
    if let Err(err) = p.apply(&prepared, &Quiet).await {
        panic!("{err}");
    }
    let wall = started.elapsed().as_secs_f64();
    let first = p.requests();
    let stats = e.stats();
    // The converged re-run, and its minimum: Graph and ARM read in three rounds (the
    // tag list and each subscription's role assignments, then every app's credentials
    // and service principal in batches of 20), and one Pulumi Cloud read per target.
    e.reset_stats();
    let again = provisioner(&e, s);
    let t = Instant::now();
    let converged = match again.prepare(plan.clone(), false).await {
        Ok(x) => x.diff.is_converged(),
        Err(err) => panic!("{err}"),
    };
    let rerun_wall = t.elapsed().as_secs_f64();
    let rerun = again.requests();
    let targets: usize = plan.apps.iter().map(|a| a.targets.len()).sum();
    let minimum_azure = 2 + (2 * plan.apps.len()).div_ceil(20);
    let minimum = minimum_azure + targets;
    e.shutdown().await;
    let total = first.graph + first.arm + first.pulumi + first.entra;
    json!({
        "wall_s": wall,
        "observe_s": observe_s,
        "apps": plan.apps.len(),
        "changes": prepared.diff.changes.len(),
        "chain": dependency_chain(&prepared.diff.changes),
        "requests": {"graph": first.graph, "arm": first.arm, "pulumi": first.pulumi, "entra": first.entra, "retries": first.retries, "writes": first.writes, "total": total},
        "by_kind": stats["by_kind"],
        "max_in_flight": stats["max_in_flight"],
        "writes": stats["write_requests"],
        "rerun": {"converged": converged, "wall_s": rerun_wall, "requests": rerun.graph + rerun.arm + rerun.pulumi, "graph_arm": rerun.graph + rerun.arm, "pulumi": rerun.pulumi, "writes": rerun.writes, "minimum": minimum, "minimum_graph_arm": minimum_azure},
    })
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    // `cargo bench` passes `--bench`; `--quick` limits the run to the headline case.
    // `--case STACKS@MS` runs one case; `--executor-only` skips the peers (for
    // looking at a change quickly, not for the report).
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let executor_only = args.iter().any(|a| a == "--executor-only");
    let case = args
        .iter()
        .find_map(|a| a.strip_prefix("--case="))
        .and_then(|c| c.split_once('@'))
        .and_then(|(n, l)| Some((n.parse::<usize>().ok()?, l.parse::<u64>().ok()?)));
    let (one_count, one_latency);
    let (stack_counts, latencies): (&[usize], &[u64]) = match case {
        Some((n, l)) => {
            (one_count, one_latency) = ([n], [l]);
            (&one_count, &one_latency)
        }
        None if quick => (&[100], &[50]),
        None => (&[20, 100, 500], &[50, 200]),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let mut rows = Vec::new();
    // Peer walls measured at 50 ms, per stack count, to scale to 200 ms when a run
    // there would be too long: both peers spend nearly all their time waiting.
    let mut measured_at_50 = std::collections::HashMap::<(usize, &str), f64>::new();
    for &latency in latencies {
        for &stacks in stack_counts {
            let executor = &STRATEGIES[0];
            let runs: Vec<Value> = (0..EXECUTOR_RUNS)
                .map(|_| runtime.block_on(one(stacks, latency, executor)))
                .collect();
            let walls: Vec<f64> = runs
                .iter()
                .map(|r| r["wall_s"].as_f64().unwrap_or(f64::NAN))
                .collect();
            let (med, min, max) = median(walls.clone());
            let base = &runs[0];
            let requests = base["requests"]["total"].as_f64().unwrap_or(0.0);
            let lat = latency as f64 / 1000.0;
            let chain_s = base["chain"].as_f64().unwrap_or(0.0) * lat;
            let throughput_s = requests * lat / DEFAULT_CONCURRENCY as f64;
            let bound = chain_s.max(throughput_s);
            let mut row = base.clone();
            row["stacks"] = json!(stacks);
            row["latency_ms"] = json!(latency);
            row["strategy"] = json!(executor.name);
            row["concurrency"] = json!(executor.concurrency);
            row["measured"] = json!(true);
            row["runs"] = json!(walls);
            row["wall_s"] = json!(med);
            row["min_s"] = json!(min);
            row["max_s"] = json!(max);
            row["chain_s"] = json!(chain_s);
            row["throughput_bound_s"] = json!(throughput_s);
            row["lower_bound_s"] = json!(bound);
            row["vs_lower_bound"] = json!(med / bound);
            println!(
                "{stacks:>4} stacks, {latency:>3} ms: executor median {med:.2} s (min {min:.2}, max {max:.2}, {EXECUTOR_RUNS} runs); lower bound {bound:.2} s → {:.2}×; {} requests, {} writes; converged re-run {} requests ({} to Graph and ARM), {} writes (minimum {})",
                med / bound,
                requests,
                row["writes"],
                row["rerun"]["requests"],
                row["rerun"]["graph_arm"],
                row["rerun"]["writes"],
                row["rerun"]["minimum"],
            );
            rows.push(row);
            let peers = if executor_only {
                &STRATEGIES[..0]
            } else {
                &STRATEGIES[1..]
            };
            for s in peers {
                // What this peer would take if it ran: sequential is a sum of request
                // latencies; one app at a time is a sum of app chains.
                let apps = base["apps"].as_f64().unwrap_or(1.0);
                let guess = match s.kind {
                    Kind::Sequential => requests * lat,
                    _ => (2.0 + apps * (base["chain"].as_f64().unwrap_or(2.0) - 2.0)) * lat,
                };
                let mut row;
                if guess <= PEER_BUDGET_S {
                    row = runtime.block_on(one(stacks, latency, s));
                    row["measured"] = json!(true);
                    if latency == 50 {
                        measured_at_50
                            .insert((stacks, s.name), row["wall_s"].as_f64().unwrap_or(f64::NAN));
                    }
                } else {
                    let (estimate, basis) = match measured_at_50.get(&(stacks, s.name)) {
                        Some(w) if latency != 50 => (
                            w * latency as f64 / 50.0,
                            format!("the 50 ms run ({w:.1} s) × {}", latency / 50),
                        ),
                        _ => (
                            guess,
                            match s.kind {
                                Kind::Sequential => "the executor's requests × latency".to_owned(),
                                _ => "apps × (the app and its longest lane) × latency".to_owned(),
                            },
                        ),
                    };
                    row = json!({"wall_s": estimate, "estimate_basis": basis, "measured": false});
                }
                row["stacks"] = json!(stacks);
                row["latency_ms"] = json!(latency);
                row["strategy"] = json!(s.name);
                row["concurrency"] = json!(s.concurrency);
                let wall = row["wall_s"].as_f64().unwrap_or(f64::NAN);
                row["vs_executor"] = json!(wall / med);
                println!(
                    "{stacks:>4} stacks, {latency:>3} ms: {:<18} {wall:>7.2} s{} → {:.1}× the executor",
                    s.name,
                    if row["measured"] == json!(true) {
                        ""
                    } else {
                        " (estimated)"
                    },
                    wall / med
                );
                rows.push(row);
            }
        }
    }
    support::write_rows("PROVISION_BENCH_OUT", "provision.json", &json!(rows));
}
