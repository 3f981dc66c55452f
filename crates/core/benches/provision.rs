//! Provisioning against the emulator with injected latency per request: the executor
//! next to a sequential run (one request at a time, as a loop of `az` commands would
//! go) and a one-app-at-a-time run, side by side in one process, plus the critical-path
//! lower bound (the longest app's chain of writes × latency) and the requests of a
//! converged re-run against their minimum. Writes `target/bench/provision.json`.
//!
//! Run through `cargo xtask bench` (or `cargo bench --bench provision`).

use std::sync::Arc;
use std::time::Instant;

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc::provision::{
    AzureAuth, Endpoints, Options, Provisioner, Quiet, RetryPolicy, Secret,
};
use pulumi_azure_oidc_emulator as emu;
use serde_json::{Value, json};

/// `stacks` Deployments stacks, five per project, all with the same role: they pack
/// five to an app (4 credentials each), as a real org's stacks would.
fn config(stacks: usize) -> Config {
    let mut text = String::from(
        "org: bench\nazure:\n  tenant: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f\n  subscription: 0b1f6471-1bf0-4dda-aec3-cb9272f09590\ndeployments:\n",
    );
    for p in 0..stacks.div_ceil(5) {
        let n = (stacks - p * 5).min(5);
        let names: Vec<String> = (0..n).map(|s| format!("s{s}")).collect();
        text.push_str(&format!(
            "  - project: p{p}\n    stacks: [{}]\n    roles:\n      - {{ role: Contributor, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg }}\n",
            names.join(", ")
        ));
    }
    match Config::from_yaml(&text) {
        Ok(c) => c,
        Err(e) => panic!("bench config: {e}"),
    }
}

struct Strategy {
    name: &'static str,
    concurrency: usize,
    app_parallelism: Option<usize>,
}

const STRATEGIES: [Strategy; 3] = [
    Strategy {
        name: "executor (8 requests in flight, apps in parallel)",
        concurrency: 8,
        app_parallelism: None,
    },
    Strategy {
        name: "one app at a time (8 in flight)",
        concurrency: 8,
        app_parallelism: Some(1),
    },
    Strategy {
        name: "sequential (one request at a time)",
        concurrency: 1,
        app_parallelism: None,
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
    let observed_after = started.elapsed();
    if let Err(err) = p.apply(&prepared, &Quiet).await {
        panic!("{err}");
    }
    let wall = started.elapsed();
    let first = p.requests();
    let stats = e.stats();
    // The longest app's chain of writes; its settings writes ride along in its task.
    let mut chain = std::collections::HashMap::<String, usize>::new();
    for c in &prepared.diff.changes {
        let app = c.app().to_owned();
        *chain.entry(app).or_default() += 1;
    }
    let longest = chain.values().copied().max().unwrap_or(0);
    // A converged re-run, and its minimum: one read per object kind per app (the app,
    // its credentials, its service principal, its role assignments), one per target,
    // and the one tag query for the org's other managed apps.
    e.reset_stats();
    let again = provisioner(&e, s);
    let t = Instant::now();
    let converged = match again.prepare(plan.clone(), false).await {
        Ok(x) => x.diff.is_converged(),
        Err(err) => panic!("{err}"),
    };
    let rerun = t.elapsed();
    let rerun_requests = again.requests();
    let targets: usize = plan.apps.iter().map(|a| a.targets.len()).sum();
    let minimum = plan.apps.len() * 4 + targets + 1;
    e.shutdown().await;
    json!({
        "stacks": stacks,
        "latency_ms": latency_ms,
        "strategy": s.name,
        "apps": plan.apps.len(),
        "changes": prepared.diff.changes.len(),
        "wall_s": wall.as_secs_f64(),
        "observe_s": observed_after.as_secs_f64(),
        "requests": {"graph": first.graph, "arm": first.arm, "pulumi": first.pulumi, "entra": first.entra, "retries": first.retries, "total": first.graph + first.arm + first.pulumi + first.entra},
        "concurrency": s.concurrency,
        "writes": stats["write_requests"],
        "critical_path_s": (longest as f64) * (latency_ms as f64) / 1000.0,
        "longest_app_chain": longest,
        "rerun": {"converged": converged, "wall_s": rerun.as_secs_f64(), "requests": rerun_requests.graph + rerun_requests.arm + rerun_requests.pulumi, "writes": rerun_requests.writes, "minimum": minimum},
    })
}

fn main() {
    // `cargo bench` passes `--bench`; `--quick` limits the run to the headline case.
    let quick = std::env::args().any(|a| a == "--quick");
    let cases: &[(usize, u64)] = if quick {
        &[(100, 50)]
    } else {
        &[(20, 50), (100, 50), (20, 200)]
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let mut rows = Vec::new();
    for &(stacks, latency) in cases {
        for s in &STRATEGIES {
            let row = runtime.block_on(one(stacks, latency, s));
            println!(
                "{stacks:>4} stacks, {latency:>3} ms: {:<52} {:>7.2} s wall, {} writes, critical path {:.2} s; converged re-run {} requests (minimum {})",
                s.name,
                row["wall_s"].as_f64().unwrap_or(0.0),
                row["writes"],
                row["critical_path_s"].as_f64().unwrap_or(0.0),
                row["rerun"]["requests"],
                row["rerun"]["minimum"],
            );
            rows.push(row);
        }
    }
    let out = std::env::var_os("PROVISION_BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/bench/provision.json")
        });
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(
        &out,
        serde_json::to_string_pretty(&rows).unwrap_or_default(),
    ) {
        panic!("{}: {e}", out.display());
    }
}
