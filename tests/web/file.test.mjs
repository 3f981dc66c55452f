// The page opened from the file system: browsers refuse its modules and WebAssembly
// there, and the page says so in plain words instead of loading forever.

import assert from "node:assert/strict";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { WEB, launchBrowser, removeProfile, requireWasmBuild } from "./harness.mjs";

let context;
let profile;

before(async () => {
  requireWasmBuild();
  ({ context, profile } = await launchBrowser());
});

after(async () => {
  await context?.close();
  removeProfile(profile);
});

test("from file:// the page explains it must be served over http", async () => {
  const page = await context.newPage();
  await page.goto(pathToFileURL(path.join(WEB, "index.html")).href);
  const stuck = page.locator("#loading-stuck");
  await stuck.waitFor({ state: "visible", timeout: 15_000 });
  const text = await stuck.innerText();
  assert.match(text, /only over http or https/);
  assert.match(text, /python3 -m http\.server/);
  assert.equal(await page.locator("#loading").isVisible(), true);
  await page.close();
});
