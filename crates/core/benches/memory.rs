//! Memory of the core for 10 / 1,000 / 10,000 stacks: the most heap bytes held at
//! once while parsing the config text, planning, diffing a converged state and
//! rendering the plan as JSON, and what the plan keeps. Deterministic (a counting
//! allocator, not timing), so one run per size. Writes `target/bench/memory.json`.
//!
//! Run through `cargo xtask bench` (or `cargo bench --bench memory`).

use pulumi_azure_oidc_test_support as support;
use pulumi_azure_oidc_test_support::counting;

use pulumi_azure_oidc::render::{RenderFormat, RenderOptions};
use pulumi_azure_oidc::{Config, DiffOptions, diff, plan, render};
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
        let state = support::converged_state(&p);
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
    support::write_rows("MEMORY_BENCH_OUT", "memory.json", &json!(rows));
}
