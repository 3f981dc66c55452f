//! `cargo xtask bench`: run the criterion benchmarks and summarise them into
//! `target/bench/report.json` and `target/bench/report.md` (median, spread, throughput).

use crate::{Result, root, sh};
use serde_json::{Value, json};
use std::path::Path;

/// Sizes of what the browser downloads for the shipped page (`cargo xtask page`), raw
/// and gzipped (level 9, as a server would). The glue in `pkg/` is bundled into
/// app.js, so the page never fetches its own copy.
fn page_sizes() -> Result<Vec<(String, u64, u64)>> {
    use std::io::Write;
    let web = crate::page::build()?;
    let files = [
        web.join("index.html"),
        web.join("app.js"),
        web.join("style.css"),
        web.join("pkg/pulumi_azure_oidc_wasm_bg.wasm"),
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
    // The wasm32 target and the rest, as for the tests.
    crate::setup()?;
    // `--page`: only the page (what it downloads, how soon it shows subjects, a call's
    // cost), in a minute instead of the whole run.
    if extra.iter().any(|a| a == "--page") {
        return page_only();
    }
    // `--quick`: shorter criterion runs and only the headline provisioning case.
    let quick = extra.iter().any(|a| a == "--quick");
    let extra: Vec<&str> = extra
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--quick")
        .collect();
    let mut args = vec!["bench", "--workspace", "--locked", "--bench", "core", "--"];
    if extra.is_empty() {
        // Short but repeatable: criterion still takes 100 samples per benchmark.
        if quick {
            args.extend(["--warm-up-time", "0.5", "--measurement-time", "1"]);
        } else {
            args.extend(["--warm-up-time", "1", "--measurement-time", "3"]);
        }
    }
    args.extend(extra);
    sh("cargo", &args)?;
    let memory = memory_bench()?;
    let provision = provision_bench(quick)?;
    let budgets = budgets_bench(quick)?;
    let c_call = c_call_cost()?;
    let cli = cli_cold_start()?;
    let py = python_costs()?;
    let sizes = page_sizes()?;
    let load = page_load()?;
    summarise(&Measured {
        sizes: &sizes,
        load: &load,
        c_call: &c_call,
        py: &py,
        provision: &provision,
        budgets: &budgets,
        memory: &memory,
        cli: &cli,
        quick,
    })
}

/// Everything measured besides criterion's own results.
struct Measured<'a> {
    sizes: &'a [(String, u64, u64)],
    load: &'a Value,
    c_call: &'a Value,
    py: &'a Value,
    provision: &'a Value,
    budgets: &'a Value,
    memory: &'a Value,
    cli: &'a Value,
    quick: bool,
}

/// Run the benchmark `name`, which writes its rows to the file `$<env>` names, and
/// read them; `what` names it in errors.
fn json_bench(name: &str, env: &str, what: &str, quick: bool) -> Result<Value> {
    let out = crate::target_dir().join(format!("bench/{name}.json"));
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["bench", "--workspace", "--locked", "--bench", name];
    if quick {
        args.extend(["--", "--quick"]);
    }
    eprintln!("$ cargo {}", args.join(" "));
    let status = std::process::Command::new("cargo")
        .args(&args)
        .env(env, &out)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("the {what} benchmark failed ({status})"));
    }
    read(&out).ok_or_else(|| format!("{} was not written", out.display()))
}

/// A big org under the documented budgets, paced and unpaced
/// (`crates/provision/benches/budgets.rs`).
fn budgets_bench(quick: bool) -> Result<Value> {
    json_bench("budgets", "BUDGETS_BENCH_OUT", "budgets", quick)
}

fn budgets_table(report: &Value) -> String {
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut md = format!(
        "\nA big org under the documented budgets (the emulator as with `--budgets azure --rate-scale {}`, {} ms injected per request, {} requests in flight), \
         the executor paced and unpaced side by side in one process:\n\n\
         | stacks | apps | executor | wall | budget minimum | × minimum | binding budget | answered 429 | peak heap of apply |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        report["scale"], report["latency_ms"], report["concurrency"]
    );
    let rows = report["rows"].as_array().cloned().unwrap_or_default();
    let mut reruns = String::new();
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} s | {:.1} s | {:.2} | {} | {} of {} ({:.2} %) | {:.1} MiB |\n",
            r["stacks"],
            r["apps"],
            if r["paced"] == true {
                "paced"
            } else {
                "unpaced"
            },
            num(&r["wall_s"]),
            num(&r["minimum_s"]),
            num(&r["vs_minimum"]),
            r["binding"].as_str().unwrap_or_default(),
            r["throttled"],
            r["requests"],
            100.0 * num(&r["throttled_share"]),
            num(&r["peak_heap_bytes"]) / 1_048_576.0,
        ));
        if r["paced"] == true {
            let q = &r["rerun"];
            reruns.push_str(&format!(
                "- {} stacks: converged re-run {} Graph and ARM requests (minimum {}), {} Pulumi Cloud reads, {:.1} round trips (minimum {})\n",
                r["stacks"],
                q["graph_arm"],
                q["minimum_graph_arm"],
                q["pulumi"],
                num(&q["round_trips"]),
                q["minimum_round_trips"],
            ));
        }
    }
    md.push('\n');
    md.push_str(&reruns);
    md
}

/// Heap peaks for 10 / 1,000 / 10,000 stacks (`crates/core/benches/memory.rs`).
fn memory_bench() -> Result<Value> {
    // Always whole: its figures are counts, not timings, and quick anyway.
    json_bench("memory", "MEMORY_BENCH_OUT", "memory", false)
}

/// Wall time of fresh CLI processes (release build), interleaved with `true` so a busy
/// moment on the machine hits both alike: `--version`, and one stack's subjects as
/// JSON.
fn cli_cold_start() -> Result<Value> {
    const RUNS: usize = 31;
    let cli = crate::target_dir().join("release/pulumi-azure-oidc");
    let time = |program: &std::path::Path, args: &[&str]| -> Result<f64> {
        let started = std::time::Instant::now();
        let status = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if !status.success() {
            return Err(format!("`{} {}` failed", program.display(), args.join(" ")));
        }
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    let subjects = [
        "subjects",
        "deployments",
        "--org",
        "contoso",
        "--project",
        "core",
        "--stack",
        "dev",
        "--output",
        "json",
    ];
    let truth = std::path::Path::new("/bin/true");
    let (mut bare, mut version, mut call) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        bare.push(time(truth, &[])?);
        version.push(time(&cli, &["--version"])?);
        call.push(time(&cli, &subjects)?);
    }
    let stats = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        json!({"median_ms": v[v.len() / 2], "min_ms": v[0], "max_ms": v[v.len() - 1]})
    };
    Ok(json!({
        "runs": RUNS,
        "true": stats(bare),
        "version": stats(version),
        "subjects": stats(call),
        "binary_bytes": std::fs::metadata(&cli).map(|m| m.len()).unwrap_or(0),
    }))
}

/// `import pulumi_azure_oidc` time (median of fresh interpreters, minus the median of
/// `python -c pass`) and the per-call cost of `deployment_credentials`, against the
/// release wheel installed by `cargo xtask python`'s venv.
fn python_costs() -> Result<Value> {
    const RUNS: usize = 21;
    crate::python::install_wheel()?;
    let python = crate::python::python();
    let time_one = |code: &str| -> Result<f64> {
        let started = std::time::Instant::now();
        let status = std::process::Command::new(&python)
            .args(["-c", code])
            .status()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        if !status.success() {
            return Err(format!("`python -c {code}` failed"));
        }
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut bare, mut import) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        // Interleaved, so a busy moment on the machine hits both alike.
        bare.push(time_one("pass")?);
        import.push(time_one("import pulumi_azure_oidc")?);
    }
    let (bare, import) = (median(bare), median(import));
    let script = "import json, timeit, pulumi_azure_oidc as m\n\
        t = timeit.Timer(lambda: m.deployment_credentials('contoso', 'core', 'dev'))\n\
        n, _ = t.autorange()\n\
        runs = sorted(x / n * 1e9 for x in t.repeat(repeat=15, number=n))\n\
        print(json.dumps({'median_ns': runs[7], 'min_ns': runs[0], 'max_ns': runs[-1], 'batches': 15, 'calls_per_batch': n}))";
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the Python call benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let call: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("Python benchmark output: {e}"))?;
    Ok(json!({
        "runs": RUNS,
        "bare_interpreter_ms": bare,
        "with_import_ms": import,
        "import_ms": import - bare,
        "deployment_credentials_call": call,
    }))
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

/// The per-call cost of `paoidc_credentials` from C, against the release library
/// (built with the release CLI that `cli_cold_start` runs).
fn c_call_cost() -> Result<Value> {
    sh(
        "cargo",
        &[
            "build",
            "--release",
            "--package",
            "pulumi-azure-oidc-capi",
            "--package",
            "pulumi-azure-oidc-cli",
            "--locked",
        ],
    )?;
    let lib = crate::target_dir().join("release/libpulumi_azure_oidc.a");
    let bin = crate::target_dir().join("bench-c-credentials");
    let include = format!("-I{}", root().join("bindings/c/include").display());
    let source = root().join("bindings/c/benches/bench_credentials.c");
    let (source, lib, bin_text) = (
        source.to_string_lossy(),
        lib.to_string_lossy(),
        bin.to_string_lossy(),
    );
    let mut args = vec!["-std=c11", "-O2", include.as_str(), &source, &lib];
    args.extend(crate::capi::STATIC_LINK_LIBS);
    args.extend(["-o", &bin_text]);
    sh("gcc", &args)?;
    let out = std::process::Command::new(&bin)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err("the C benchmark failed".into());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("C benchmark output: {e}"))
}

/// Time from navigation to the first rendered subjects in headless Chromium, over
/// several fresh loads of the shipped page (`tests/web/bench-load.mjs` prints one JSON
/// line). `page_sizes` has just built it.
fn page_load() -> Result<serde_json::Value> {
    crate::web::setup()?;
    let out = std::process::Command::new("node")
        .arg("tests/web/bench-load.mjs")
        .env(
            "PULUMI_AZURE_OIDC_PAGE_DIR",
            crate::target_dir().join("page"),
        )
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

fn summarise(m: &Measured) -> Result {
    let Measured {
        sizes,
        load,
        c_call,
        py,
        provision,
        budgets,
        memory,
        cli,
        quick,
    } = *m;
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
    for name in ["diagnose_token_vs_20", "credentials_json"] {
        if let Some(e) = read(&criterion.join(name).join("new/estimates.json")) {
            rows.push((name.into(), None, e));
        }
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
        "\nMachine: {machine}. Command: `cargo xtask bench{}`. Criterion, 100 samples each.\n",
        if quick { " --quick" } else { "" }
    ));
    let rust_call = rows
        .iter()
        .find(|(n, _, _)| n == "credentials_json")
        .and_then(|(_, _, e)| e["median"]["point_estimate"].as_f64());
    md.push_str(&format!(
        "\nOne stack's credentials, spec JSON in and JSON out: through C `paoidc_credentials` median {} (min {}, max {} over {} batches of {} calls); the same work in Rust (`credentials_json`) {}.\n",
        fmt_ns(c_call["median_ns"].as_f64().unwrap_or(f64::NAN)),
        fmt_ns(c_call["min_ns"].as_f64().unwrap_or(f64::NAN)),
        fmt_ns(c_call["max_ns"].as_f64().unwrap_or(f64::NAN)),
        c_call["batches"],
        c_call["calls_per_batch"],
        rust_call.map(fmt_ns).unwrap_or_else(|| "–".into())
    ));
    let py_call = &py["deployment_credentials_call"];
    md.push_str(&format!(
        "\n`import pulumi_azure_oidc`: {:.1} ms (median of {} fresh interpreters, {:.1} ms, minus `python -c pass`, {:.1} ms). One stack's credentials from Python, `deployment_credentials(\"contoso\", \"core\", \"dev\")` → 4 `FederatedCredential`s: median {} per call (min {}, max {} over {} batches of {} calls); in Rust, `subjects/10` per stack {} and `credentials_json` {}.\n",
        py["import_ms"].as_f64().unwrap_or(f64::NAN),
        py["runs"],
        py["with_import_ms"].as_f64().unwrap_or(f64::NAN),
        py["bare_interpreter_ms"].as_f64().unwrap_or(f64::NAN),
        fmt_ns(py_call["median_ns"].as_f64().unwrap_or(f64::NAN)),
        fmt_ns(py_call["min_ns"].as_f64().unwrap_or(f64::NAN)),
        fmt_ns(py_call["max_ns"].as_f64().unwrap_or(f64::NAN)),
        py_call["batches"],
        py_call["calls_per_batch"],
        rows.iter()
            .find(|(n, _, _)| n == "subjects/10")
            .and_then(|(_, _, e)| e["median"]["point_estimate"].as_f64())
            .map(|ns| fmt_ns(ns / 10.0))
            .unwrap_or_else(|| "–".into()),
        rust_call.map(fmt_ns).unwrap_or_else(|| "–".into())
    ));
    md.push_str(&wasm_call_line(load));
    let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    md.push_str(&format!(
        "\nCLI cold start (release binary, {} KiB), {} fresh processes each, interleaved: `--version` median {:.2} ms (min {:.2}, max {:.2}); `subjects deployments … --output json` median {:.2} ms (min {:.2}, max {:.2}); `/bin/true` for scale median {:.2} ms.\n",
        cli["binary_bytes"].as_u64().unwrap_or(0) / 1024,
        cli["runs"],
        ms(&cli["version"]["median_ms"]),
        ms(&cli["version"]["min_ms"]),
        ms(&cli["version"]["max_ms"]),
        ms(&cli["subjects"]["median_ms"]),
        ms(&cli["subjects"]["min_ms"]),
        ms(&cli["subjects"]["max_ms"]),
        ms(&cli["true"]["median_ms"]),
    ));
    md.push_str(&memory_table(memory));
    md.push_str(&provision_table(provision));
    md.push_str(&budgets_table(budgets));
    md.push_str(&page_table(sizes, load));
    let report = json!({
        "machine": machine,
        "command": "cargo xtask bench",
        "results": items,
        "page_sizes": sizes.iter().map(|(n, r, g)| json!({"file": n, "raw": r, "gzip": g})).collect::<Vec<_>>(),
        "page_load": load,
        "c_credentials_call": c_call,
        "python": py,
        "provisioning": provision,
        "budgets": budgets,
        "memory": memory,
        "cli_cold_start": cli,
        "quick": quick,
    });
    write_report("report", &report, &md)
}

/// `target/bench/<name>.json` and `<name>.md`, and the markdown on stdout.
fn write_report(name: &str, report: &Value, md: &str) -> Result {
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::write(
        out.join(format!("{name}.json")),
        serde_json::to_string_pretty(report).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(out.join(format!("{name}.md")), md).map_err(|e| e.to_string())?;
    println!("\n{md}");
    println!("written: target/bench/{name}.json, target/bench/{name}.md");
    Ok(())
}

/// `cargo xtask bench --page`: the page's rows of the report, alone, into
/// `target/bench/page.json` and `page.md`.
fn page_only() -> Result {
    crate::setup()?;
    let sizes = page_sizes()?;
    let load = page_load()?;
    let md = format!(
        "{}{}\nCommand: `cargo xtask bench --page`.\n",
        page_table(&sizes, &load),
        wasm_call_line(&load)
    );
    let report = json!({
        "command": "cargo xtask bench --page",
        "page_sizes": sizes.iter().map(|(n, r, g)| json!({"file": n, "raw": r, "gzip": g})).collect::<Vec<_>>(),
        "page_load": load,
    });
    write_report("page", &report, &md)
}

fn wasm_call_line(load: &Value) -> String {
    let wasm = &load["wasm_call"];
    format!(
        "\nThe same call from WASM in the loaded page, `credentials({{kind: \"deployment\", …}})` → 4 credential bodies: median {} per call (min {}, max {} over {} batches of {} calls).\n",
        fmt_ns(wasm["median_ns"].as_f64().unwrap_or(f64::NAN)),
        fmt_ns(wasm["min_ns"].as_f64().unwrap_or(f64::NAN)),
        fmt_ns(wasm["max_ns"].as_f64().unwrap_or(f64::NAN)),
        wasm["batches"],
        wasm["calls_per_batch"],
    )
}

fn page_table(sizes: &[(String, u64, u64)], load: &Value) -> String {
    let mut md = String::from("\n| page file | raw | gzip -9 |\n|---|---|---|\n");
    let (mut raw_total, mut gz_total) = (0, 0);
    for (name, raw, gz) in sizes {
        md.push_str(&format!("| {name} | {raw} B | {gz} B |\n"));
        raw_total += raw;
        gz_total += gz;
    }
    md.push_str(&format!("| **total** | {raw_total} B | {gz_total} B |\n"));
    md.push_str(&format!(
        "\nThe shipped page in headless Chromium, {} fresh loads, from navigation to the frame \
         that shows the first subjects: median {} ms (min {} ms, max {} ms); to their \
         insertion in the document {} ms; as seen by polling from outside (Playwright's \
         waitForSelector, then a round trip) {} ms.\n",
        load["runs"],
        load["median_ms"],
        load["min_ms"],
        load["max_ms"],
        load["inserted_median_ms"],
        load["polled_median_ms"]
    ));
    md
}

/// Provisioning against the emulator with latency injected per request, three
/// strategies side by side (`crates/provision/benches/provision.rs`).
fn provision_bench(quick: bool) -> Result<Value> {
    json_bench("provision", "PROVISION_BENCH_OUT", "provisioning", quick)
}

fn memory_table(rows: &Value) -> String {
    let mib = |v: &Value| format!("{:.2} MiB", v.as_f64().unwrap_or(f64::NAN) / 1048576.0);
    let mut md = String::from(
        "\nHeap held at most at once (a counting allocator; deterministic, one run), config text with 100 stacks per project:\n\n\
         | stacks | apps | parse | plan | plan kept | diff (converged) | render JSON | JSON text |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows.as_array().cloned().unwrap_or_default() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r["stacks"],
            r["apps"],
            mib(&r["parse_peak_bytes"]),
            mib(&r["plan_peak_bytes"]),
            mib(&r["plan_bytes"]),
            mib(&r["diff_peak_bytes"]),
            mib(&r["render_json_peak_bytes"]),
            mib(&r["render_json_bytes"]),
        ));
    }
    md
}

fn provision_table(rows: &Value) -> String {
    let mut md = String::from(
        "\nProvisioning against the emulator, latency injected on every request; strategies side by side in one process. \
         The executor runs 3 times per case (median, [min–max]); a peer that would take over 2 minutes is estimated, not run, and says so.\n\n\
         | stacks | latency | strategy | wall | × executor | lower bound | × bound | requests (Graph/ARM/Pulumi/Entra) | writes |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let rows = rows.as_array().cloned().unwrap_or_default();
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut reruns = String::new();
    for r in &rows {
        let executor = r["strategy"] == "executor";
        let wall = if executor {
            format!(
                "{:.2} s [{:.2}–{:.2}]",
                num(&r["wall_s"]),
                num(&r["min_s"]),
                num(&r["max_s"])
            )
        } else if r["measured"] == true {
            format!("{:.2} s", num(&r["wall_s"]))
        } else {
            format!(
                "≈{:.1} s (estimated: {})",
                num(&r["wall_s"]),
                r["estimate_basis"].as_str().unwrap_or("")
            )
        };
        let q = &r["requests"];
        let (requests, writes) = if r["measured"] == true {
            (
                format!("{}/{}/{}/{}", q["graph"], q["arm"], q["pulumi"], q["entra"]),
                r["writes"].to_string(),
            )
        } else {
            ("–".into(), "–".into())
        };
        md.push_str(&format!(
            "| {} | {} ms | {} | {} | {} | {} | {} | {} | {} |\n",
            r["stacks"],
            r["latency_ms"],
            r["strategy"].as_str().unwrap_or(""),
            wall,
            if executor {
                "1".to_owned()
            } else {
                format!("{:.1}×", num(&r["vs_executor"]))
            },
            if executor {
                format!("{:.2} s", num(&r["lower_bound_s"]))
            } else {
                String::new()
            },
            if executor {
                format!("{:.2}×", num(&r["vs_lower_bound"]))
            } else {
                String::new()
            },
            requests,
            writes,
        ));
        if executor {
            reruns.push_str(&format!(
                "- {} stacks ({} apps), {} ms: converged re-run {} requests ({} to Graph and ARM, minimum {}), {} writes, {:.1} round trips\n",
                r["stacks"],
                r["apps"],
                r["latency_ms"],
                r["rerun"]["requests"],
                r["rerun"]["graph_arm"],
                r["rerun"]["minimum_graph_arm"],
                r["rerun"]["writes"],
                num(&r["rerun"]["wall_s"]) * 1000.0 / num(&r["latency_ms"]),
            ));
        }
    }
    md.push_str(
        "\nLower bound: the larger of the longest dependency chain (the Graph token, one round of reads, then per app the app and its longest lane: \
         its credentials, written one at a time, then the settings of the stack that presents the last of them; its service principal then role assignment) × latency, \
         and all requests × latency / 32 in flight. Converged re-runs: Graph and ARM against their minimum (the tag list, one role-assignment list \
         per subscription, and every app's credentials and service principal in JSON batches of 20), one Pulumi Cloud read per target; \
         wall time in round trips of the injected latency:\n\n",
    );
    md.push_str(&reruns);
    md
}
