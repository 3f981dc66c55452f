//! `cargo xtask bench`: run the criterion benchmarks and summarise them into
//! `target/bench/report.json` and `target/bench/report.md` (median, spread, throughput).

use crate::{Result, root, sh};
use serde_json::{Value, json};
use std::path::Path;

/// Sizes of what the browser downloads, raw and gzipped (level 9, as a server would).
fn page_sizes() -> Result<Vec<(String, u64, u64)>> {
    use std::io::Write;
    let out = crate::wasm::build()?;
    let web = root().join("web");
    let files = [
        out.join("pulumi_azure_oidc_wasm_bg.wasm"),
        out.join("pulumi_azure_oidc_wasm.js"),
        web.join("index.html"),
        web.join("app.js"),
        web.join("style.css"),
    ];
    let mut rows = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).map_err(|e| e.to_string())?;
        let zipped = gz.finish().map_err(|e| e.to_string())?.len() as u64;
        let name = f
            .strip_prefix(&web)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| f.display().to_string());
        rows.push((name, bytes.len() as u64, zipped));
    }
    Ok(rows)
}

pub(crate) fn run(extra: &[String]) -> Result {
    let mut args = vec!["bench", "--workspace", "--locked", "--bench", "core", "--"];
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    if extra.is_empty() {
        // Short but repeatable: criterion still takes 100 samples per benchmark.
        args.extend(["--warm-up-time", "1", "--measurement-time", "3"]);
    }
    args.extend(extra);
    sh("cargo", &args)?;
    let sizes = page_sizes()?;
    let load = page_load()?;
    summarise(&sizes, &load)
}

fn read(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Time from navigation to the first rendered subjects in headless Chromium, over
/// several fresh loads (`tests/web/bench-load.mjs` prints one JSON line).
fn page_load() -> Result<serde_json::Value> {
    crate::web::setup()?;
    let out = std::process::Command::new("node")
        .arg("tests/web/bench-load.mjs")
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tests/web/bench-load.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("bench-load output: {e}"))
}

fn summarise(sizes: &[(String, u64, u64)], load: &Value) -> Result {
    let criterion = crate::target_dir().join("criterion");
    let mut rows = Vec::new();
    let groups = ["subjects", "plan", "diff_converged"];
    for group in groups {
        for n in ["10", "1000", "10000"] {
            let dir = criterion.join(group).join(n).join("new");
            if let Some(e) = read(&dir.join("estimates.json")) {
                rows.push((format!("{group}/{n}"), n.parse::<f64>().ok(), e));
            }
        }
    }
    if let Some(e) = read(&criterion.join("diagnose_token_vs_20/new/estimates.json")) {
        rows.push(("diagnose_token_vs_20".into(), None, e));
    }
    if rows.is_empty() {
        return Err("no criterion results found under target/criterion".into());
    }
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::env::consts::ARCH
    );
    let mut md =
        String::from("| benchmark | median | median abs. dev. | per item |\n|---|---|---|---|\n");
    let mut items = Vec::new();
    for (name, n, e) in &rows {
        let median = e["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        let mad = e["median_abs_dev"]["point_estimate"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let per = n.map(|n| median / n);
        md.push_str(&format!(
            "| {name} | {} | ±{} | {} |\n",
            fmt_ns(median),
            fmt_ns(mad),
            per.map(fmt_ns).unwrap_or_else(|| "–".into())
        ));
        items.push(json!({"name": name, "median_ns": median, "median_abs_dev_ns": mad, "per_item_ns": per}));
    }
    md.push_str(&format!(
        "\nMachine: {machine}. Command: `cargo xtask bench`. Criterion, 100 samples each.\n"
    ));
    md.push_str("\n| page file | raw | gzip -9 |\n|---|---|---|\n");
    let (mut raw_total, mut gz_total) = (0, 0);
    for (name, raw, gz) in sizes {
        md.push_str(&format!("| {name} | {raw} B | {gz} B |\n"));
        raw_total += raw;
        gz_total += gz;
    }
    md.push_str(&format!("| **total** | {raw_total} B | {gz_total} B |\n"));
    md.push_str(&format!(
        "\nNavigation to first rendered subjects in headless Chromium, {} fresh loads: median {} ms (min {} ms, max {} ms).\n",
        load["runs"], load["median_ms"], load["min_ms"], load["max_ms"]
    ));
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let report = json!({
        "machine": machine,
        "command": "cargo xtask bench",
        "results": items,
        "page_sizes": sizes.iter().map(|(n, r, g)| json!({"file": n, "raw": r, "gzip": g})).collect::<Vec<_>>(),
        "page_load": load,
    });
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.md"), &md).map_err(|e| e.to_string())?;
    println!("\n{md}");
    println!("written: target/bench/report.json, target/bench/report.md");
    Ok(())
}
