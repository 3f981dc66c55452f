// Page-load benchmark for `cargo xtask bench`: time from navigation to the first
// rendered subjects (the docs example, from the URL fragment) over fresh loads in
// headless Chromium, then the per-call cost of the WASM `credentials` call in the
// loaded page (one stack's credentials, the same work as the C and Python benchmarks).
// Prints one JSON line: {runs, median_ms, min_ms, max_ms, samples, wasm_call}.
// Not a test: nothing here asserts a time.

import fs from "node:fs";
import { launchBrowser, requireWasmBuild, startServer } from "./harness.mjs";

const RUNS = 9;

requireWasmBuild();
const { server, origin } = await startServer();
const { context, profile } = await launchBrowser();
const samples = [];
let wasmCall = null;
try {
  for (let i = 0; i < RUNS; i++) {
    const page = await context.newPage();
    // A fresh load each time: nothing from the previous run in the HTTP cache.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await page.goto(`${origin}/#view=deployments&d.org=contoso&d.project=core&d.stacks=dev`);
    await page.waitForSelector("#d-credentials tbody tr");
    samples.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  // The module app.js imported and initialised: the same instance, already loaded.
  const page = await context.newPage();
  await page.goto(`${origin}/#view=deployments&d.org=contoso&d.project=core&d.stacks=dev`);
  await page.waitForSelector("#d-credentials tbody tr");
  wasmCall = await page.evaluate(async () => {
    const m = await import("/pkg/pulumi_azure_oidc_wasm.js");
    const spec = { kind: "deployment", org: "contoso", project: "core", stack: "dev" };
    if (m.credentials(spec).credentials.length !== 4) throw new Error("expected 4 credentials");
    // Batches long enough for the timer's resolution (Chromium coarsens
    // performance.now() to 100 µs without cross-origin isolation).
    let n = 1;
    for (;;) {
      const t = performance.now();
      for (let i = 0; i < n; i++) m.credentials(spec);
      if (performance.now() - t > 50) break;
      n *= 2;
    }
    const runs = [];
    for (let b = 0; b < 15; b++) {
      const t = performance.now();
      for (let i = 0; i < n; i++) m.credentials(spec);
      runs.push(((performance.now() - t) / n) * 1e6);
    }
    runs.sort((a, b) => a - b);
    return { median_ns: runs[7], min_ns: runs[0], max_ns: runs[14], batches: 15, calls_per_batch: n };
  });
  await page.close();
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
const sorted = [...samples].sort((a, b) => a - b);
const round = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    runs: RUNS,
    median_ms: round(sorted[Math.floor(sorted.length / 2)]),
    min_ms: round(sorted[0]),
    max_ms: round(sorted[sorted.length - 1]),
    samples: samples.map(round),
    wasm_call: wasmCall,
  }),
);
