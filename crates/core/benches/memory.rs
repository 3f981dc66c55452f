//! Memory of the core for 10 / 1,000 / 10,000 stacks: the most heap bytes held at
//! once while parsing the config text, planning, diffing a converged state and
//! rendering the plan as JSON, and what the plan keeps. Deterministic (a counting
//! allocator, not timing), so one run per size. Writes `target/bench/memory.json`.
//!
//! Run through `cargo xtask bench` (or `cargo bench --bench memory`).

#![allow(unsafe_code)] // the counting allocator

#[path = "../tests/support/counting.rs"]
mod counting;

use pulumi_azure_oidc::diff::{ObservedApp, ObservedCredential, ObservedDeploymentSettings};
use pulumi_azure_oidc::render::{RenderFormat, RenderOptions};
use pulumi_azure_oidc::{Config, DiffOptions, ObservedState, Target, diff, plan, render};
use serde_json::json;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// `n` stacks, 100 per project: the config a large org writes out, as text (no roles
/// and no tenant, so the observed apps alone make a converged state).
fn config_text(n: usize) -> String {
    let mut text = String::from("org: contoso\ndeployments:\n");
    for p in 0..n.div_ceil(100) {
        let stacks: Vec<String> = (p * 100..((p + 1) * 100).min(n))
            .map(|s| format!("stack-{s}"))
            .collect();
        text.push_str(&format!(
            "  - project: project-{p}\n    stacks: [{}]\n",
            stacks.join(", ")
        ));
    }
    text
}

fn main() {
    let mut rows = Vec::new();
    for n in [10usize, 1_000, 10_000] {
        let text = config_text(n);
        let (config, parse_peak) = counting::peak_of(|| Config::from_yaml(&text));
        let config = config.unwrap_or_else(|e| panic!("{n} stacks: {e}"));
        let (p, plan_peak) = counting::peak_of(|| plan(&config));
        let p = p.unwrap_or_else(|e| panic!("{n} stacks: {e}"));
        // What the plan keeps: measured as the bytes a clone of it holds.
        let (kept, plan_bytes) = counting::peak_of(|| p.clone());
        drop(kept);
        let state = ObservedState {
            apps: p
                .apps
                .iter()
                .map(|a| ObservedApp {
                    app_id: a.unique_name.clone(),
                    unique_name: Some(a.unique_name.clone()),
                    display_name: a.display_name.clone(),
                    tags: a.tags.clone(),
                    service_principal_id: Some("sp".into()),
                    federated_identity_credentials: a
                        .credentials
                        .iter()
                        .map(ObservedCredential::from)
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            deployment_settings: p
                .apps
                .iter()
                .flat_map(|a| a.targets.iter().map(move |t| (a, t)))
                .filter_map(|(a, t)| match &t.target {
                    Target::Deployment(d) => Some(ObservedDeploymentSettings {
                        org: d.org.to_string(),
                        project: d.project.to_string(),
                        stack: d.stack.to_string(),
                        client_id: Some(a.unique_name.clone()),
                        ..Default::default()
                    }),
                    Target::Esc(_) => None,
                })
                .collect(),
            ..Default::default()
        };
        let (d, diff_peak) = counting::peak_of(|| diff(&p, &state, DiffOptions::default()));
        let d = d.unwrap_or_else(|e| panic!("{n} stacks: {e}"));
        assert!(
            d.is_converged(),
            "{n} stacks: {:?}",
            d.changes.first().map(|c| c.summary())
        );
        let (json_text, render_peak) =
            counting::peak_of(|| render(&p, RenderFormat::Json, &RenderOptions::default()));
        let json_len = json_text.map(|t| t.len()).unwrap_or_else(|e| panic!("{e}"));
        let mib = |b: usize| b as f64 / (1 << 20) as f64;
        println!(
            "{n:>6} stacks ({} apps, {} kB of config): parse {:.2} MiB, plan {:.2} MiB (keeps {:.2} MiB), diff {:.2} MiB, render JSON {:.2} MiB ({:.2} MiB of text)",
            p.apps.len(),
            text.len() / 1024,
            mib(parse_peak),
            mib(plan_peak),
            mib(plan_bytes),
            mib(diff_peak),
            mib(render_peak),
            mib(json_len),
        );
        rows.push(json!({
            "stacks": n,
            "apps": p.apps.len(),
            "config_bytes": text.len(),
            "parse_peak_bytes": parse_peak,
            "plan_peak_bytes": plan_peak,
            "plan_bytes": plan_bytes,
            "diff_peak_bytes": diff_peak,
            "render_json_peak_bytes": render_peak,
            "render_json_bytes": json_len,
        }));
    }
    let out = std::env::var_os("MEMORY_BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench/memory.json")
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
