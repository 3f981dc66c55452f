// Page-load benchmark for `cargo xtask bench`: time from navigation to the first
// rendered subjects (the docs example, from the URL fragment) over fresh loads in
// headless Chromium. Prints one JSON line: {runs, median_ms, min_ms, max_ms, samples}.
// Not a test: nothing here asserts a time.

import fs from "node:fs";
import { launchBrowser, requireWasmBuild, startServer } from "./harness.mjs";

const RUNS = 9;

requireWasmBuild();
const { server, origin } = await startServer();
const { context, profile } = await launchBrowser();
const samples = [];
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
  }),
);
