// The calculator page (web/) in headless Chromium: the golden vectors typed into its
// forms, inline errors, diagnosis, the URL fragment, copy, keyboard use, screenshots.
// Run from the repository root: node --test tests/web/

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  SCREENSHOTS,
  launchBrowser,
  removeProfile,
  requireWasmBuild,
  startServer,
  vectors,
} from "./harness.mjs";

const OPERATIONS = ["preview", "update", "refresh", "destroy"];
const ATTRIBUTES = ["rootEnvironment.name", "currentEnvironment.name", "pulumi.user.login", "pulumi.organization.login"];
const RESULTS = { d: "d-results", e: "e-results", xt: "x-token-results", xa: "x-aadsts-results" };

let server;
let origin;
let context;
let profile;
let page;
const consoleErrors = [];
const pageErrors = [];
const foreignRequests = [];

function watch(p) {
  p.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  p.on("pageerror", (error) => pageErrors.push(error.message));
}

before(async () => {
  requireWasmBuild();
  ({ server, origin } = await startServer());
  ({ context, profile } = await launchBrowser());
  context.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) foreignRequests.push(url);
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  await open("");
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  removeProfile(profile);
});

// ───────────────────────── helpers ─────────────────────────

/** Load the page afresh (a real navigation) with a fragment, and wait for the core. */
async function open(fragment, p = page) {
  await p.goto("about:blank");
  await p.goto(`${origin}/index.html${fragment ? `#${fragment}` : ""}`);
  await p.waitForSelector("html[data-ready='true']");
  await settled(p);
}

/** Wait until no section has a computation pending. */
async function settled(p = page) {
  await p.waitForFunction(
    (ids) => ids.every((id) => document.getElementById(id).dataset.state !== "pending"),
    Object.values(RESULTS),
  );
}

async function state(key, p = page) {
  return p.getAttribute(`#${RESULTS[key]}`, "data-state");
}

async function view(name, p = page) {
  if ((await p.getAttribute(`#tab-${name}`, "aria-selected")) !== "true") await p.click(`#tab-${name}`);
}

/** Fill fields by id, skipping those that already hold the value (fill is the slow part). */
async function fillFields(values, p = page) {
  const ids = Object.keys(values);
  const current = await p.evaluate((list) => list.map((id) => document.getElementById(id).value), ids);
  for (const [i, id] of ids.entries()) {
    if (current[i] !== values[id]) await p.fill(`#${id}`, values[id]);
  }
}

/** Check or uncheck boxes by selector, touching only those that change. */
async function checkBoxes(states, p = page) {
  const selectors = Object.keys(states);
  const current = await p.evaluate((list) => list.map((s) => document.querySelector(s).checked), selectors);
  for (const [i, selector] of selectors.entries()) {
    if (current[i] !== states[selector]) await p.setChecked(selector, states[selector]);
  }
}

async function fillDeployments(input, p = page) {
  await view("deployments", p);
  await fillFields(
    {
      "d-org": input.org ?? "",
      "d-project": input.project ?? "",
      "d-stacks": input.stacks ? input.stacks.join("\n") : (input.stack ?? ""),
      "d-issuer": input.issuer ?? "",
      "d-role": input.role ?? "",
      "d-scope": input.scope ?? "",
      "d-tenant": input.tenant ?? "",
      "d-subscription": input.subscription ?? "",
    },
    p,
  );
  const ops = input.operations ?? OPERATIONS;
  await checkBoxes(Object.fromEntries(OPERATIONS.map((op) => [`#d-op-${op}`, ops.includes(op)])), p);
  for (const extra of await p.$$("#d-ops-list input[data-extra]")) await extra.setChecked(false); // from an earlier link
  await settled(p);
}

/** Put the attribute rows in the given order (move buttons), check exactly those. */
async function chooseAttributes(attrs, p = page) {
  if (attrs !== undefined && attrs.length === 0) {
    await checkBoxes({ "#e-form-default": true }, p);
    return;
  }
  await checkBoxes({ "#e-form-attributes": true }, p);
  const wanted = attrs ?? ["currentEnvironment.name"];
  for (const [i, attr] of wanted.entries()) {
    for (;;) {
      const index = await p.$$eval("#e-attrs > li", (rows, a) => rows.findIndex((r) => r.dataset.attr === a), attr);
      assert.ok(index >= 0, `attribute row ${attr}`);
      if (index <= i) break;
      await p.click(`#e-attrs > li[data-attr="${attr}"] [data-move="up"]`);
    }
  }
  // Exactly the wanted ones, once each (rows from an earlier link may hold others).
  const states = await p.$$eval("#e-attrs > li", (rows) => rows.map((r) => [r.dataset.attr, r.querySelector("input").checked]));
  const seen = new Set();
  for (const [i, [attr, checked]] of states.entries()) {
    const want = wanted.includes(attr) && !seen.has(attr);
    seen.add(attr);
    if (checked !== want) await p.setChecked(`#e-attrs > li:nth-child(${i + 1}) input`, want);
  }
}

async function fillEsc(input, p = page) {
  await view("esc", p);
  await fillFields(
    {
      "e-org": input.org ?? "",
      "e-project": input.project ?? "",
      "e-env": input.env ?? "",
      "e-user": input.user ?? "",
      "e-root": input.rootEnv ?? "",
      "e-issuer": input.issuer ?? "",
      "e-client": input.client ?? "",
      "e-tenant": input.tenant ?? "",
      "e-subscription": input.subscription ?? "",
    },
    p,
  );
  await chooseAttributes(input.subjectAttributes, p);
  await checkBoxes({ "#e-yaml": Boolean(input.includeYamlSubject) }, p);
  await settled(p);
}

async function fillTarget(input, p = page) {
  return input.kind === "esc" ? fillEsc(input, p) : fillDeployments(input, p);
}

/** The credentials table as the page shows it: data attributes and cell text. */
async function credentialRows(tableId, p = page) {
  return p.$$eval(`#${tableId} tbody tr`, (rows) =>
    rows.map((r) => {
      const cells = [...r.cells].map((c) => c.querySelector("code").textContent);
      return {
        name: r.dataset.name,
        issuer: r.dataset.issuer,
        subject: r.dataset.subject,
        audiences: JSON.parse(r.dataset.audiences),
        description: r.dataset.description,
        cells,
      };
    }),
  );
}

/** A datetime-local value in the browser's time zone for a Unix time. */
async function localTime(seconds, p = page) {
  return p.evaluate((s) => {
    const d = new Date(s * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }, seconds);
}

async function visible(selector, p = page) {
  return p.isVisible(selector);
}

async function text(selector, p = page) {
  return (await p.textContent(selector)) ?? "";
}

async function fragment(p = page) {
  return new URL(p.url()).hash;
}

/** The field whose inline error an errors.json case must show. */
function expectedErrorField(call, code) {
  const d = call.kind === "deployment";
  switch (code) {
    case 1001: return d ? "d-org" : "e-org";
    case 1002: return "d-project";
    case 1003: return "d-stacks";
    case 1007: return d ? "d-issuer" : "e-issuer";
    case 1009: return "d-ops";
    case 1004: return "e-project";
    case 1005: return call.rootEnv ? "e-root" : "e-env"; // the root environment's env part
    case 1010: return "e-attrs";
    case 1011: case 1012: return "e-user";
    case 1008: return "e-form"; // the subject as a whole: no single field
    default: throw new Error(`no field for code ${code}`);
  }
}

/** Values no form control can hold (an unknown operation or attribute, a duplicate) come from a link. */
function needsFragment(call) {
  const ops = call.operations ?? [];
  const attrs = call.subjectAttributes ?? [];
  return (
    ops.some((o) => !OPERATIONS.includes(o)) ||
    attrs.some((a) => !ATTRIBUTES.includes(a)) ||
    new Set(attrs).size !== attrs.length
  );
}

function fragmentFor(call) {
  const params = new URLSearchParams();
  if (call.kind === "deployment") {
    params.set("d.org", call.org);
    params.set("d.project", call.project);
    params.set("d.stacks", call.stack);
    if (call.operations) params.set("d.ops", call.operations.join(","));
    if (call.issuer) params.set("d.issuer", call.issuer);
  } else {
    params.set("view", "esc");
    params.set("e.org", call.org);
    params.set("e.project", call.project);
    params.set("e.env", call.env);
    if (call.subjectAttributes) {
      if (call.subjectAttributes.length) params.set("e.attrs", call.subjectAttributes.join(","));
      else params.set("e.form", "default");
    }
    if (call.user) params.set("e.user", call.user);
    if (call.rootEnv) params.set("e.root", call.rootEnv);
  }
  return params.toString();
}

async function screenshot(name, p = page) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// ───────────────────────── the golden vectors ─────────────────────────

test("every subjects.json case typed into the forms gives exactly the expected credentials", async () => {
  await open("");
  for (const c of vectors("subjects.json")) {
    await fillTarget(c.input);
    const key = c.input.kind === "esc" ? "e" : "d";
    assert.equal(await state(key), "ok", `${c.name}: state`);
    const rows = await credentialRows(key === "e" ? "e-credentials" : "d-credentials");
    assert.deepEqual(
      rows.map(({ name, issuer, subject, audiences, description }) => ({ name, issuer, subject, audiences, description })),
      c.expected,
      c.name,
    );
    for (const row of rows) {
      assert.deepEqual(row.cells, [row.name, row.subject, row.audiences.join(", ")], `${c.name}: cell text`);
    }
    const warnings = await page.$$(`#${key}-warnings li`);
    const expectedWarnings = key === "e" ? (c.warnings ?? 0) : warnings.length;
    assert.equal(warnings.length, expectedWarnings, `${c.name}: warnings`);
    assert.equal(await page.$$eval(`#${key}-output .field-error:not([hidden])`, (e) => e.length), 0);
  }
});

test("every errors.json case shows its code inline next to the right field, and no output", async () => {
  await open("");
  for (const c of vectors("errors.json")) {
    if (needsFragment(c.call)) {
      await page.goto(`${origin}/index.html#${fragmentFor(c.call)}`);
    } else {
      await fillTarget(c.call);
    }
    const field = expectedErrorField(c.call, c.code);
    const key = c.call.kind === "esc" ? "e" : "d";
    await page.waitForSelector(`#${field}-error[data-code="${c.code}"]`, { state: "visible", timeout: 5000 });
    await settled();
    // data-message is the core's message verbatim; the text shows `quoted` parts as <code>.
    const message = await page.getAttribute(`#${field}-error`, "data-message");
    const shown = await text(`#${field}-error`);
    for (const needle of c.contains) {
      assert.ok(message.includes(needle), `${c.name}: "${message}" lacks "${needle}"`);
      assert.ok(shown.includes(needle.replaceAll("`", "")), `${c.name}: "${shown}" lacks "${needle}"`);
    }
    assert.ok(shown.includes(`error ${c.code}`), `${c.name}: the message names the code`);
    assert.equal(await state(key), "error", `${c.name}: state`);
    assert.equal(await visible(`#${key}-output`), false, `${c.name}: no output`);
    assert.equal((await page.$$(`#${key}-output *`)).length, 0, `${c.name}: no stale output`);
    const others = await page.$$eval(
      `#${key}-form .field-error:not([hidden])`,
      (boxes, id) => boxes.filter((b) => b.id !== `${id}-error`).map((b) => b.id),
      field,
    );
    assert.deepEqual(others, [], `${c.name}: only one field is marked`);
    if (!field.endsWith("-form") && !field.endsWith("-attrs") && !field.endsWith("-ops")) {
      assert.equal(await page.getAttribute(`#${field}`, "aria-invalid"), "true", `${c.name}: aria-invalid`);
    }
    const summary = await text(`#${key}-summary`);
    assert.ok(summary.includes(String(c.code)), `${c.name}: summary names the code: ${summary}`);
  }
});

test("the docs example (contoso/core/dev) shows the four subjects, issuer and audience", async () => {
  await open("");
  await fillDeployments({ org: "contoso", project: "core", stack: "dev" });
  assert.equal(await state("d"), "ok");
  const subjects = OPERATIONS.map((op) => `pulumi:deploy:org:contoso:project:core:stack:dev:operation:${op}:scope:write`);
  assert.equal(await text("#d-subjects"), subjects.join("\n"));
  assert.equal(await text('#d-facts [data-field="issuer"]'), "https://api.pulumi.com/oidc");
  assert.equal(await text('#d-facts [data-field="audience"]'), "contoso");
  assert.match(await text("#d-summary"), /4 federated credentials for stack contoso\/core\/dev/);
  // Every render is there, and the az script creates each credential.
  const az = await text("#d-render-az");
  for (const s of subjects) assert.ok(az.includes(s), `az script has ${s}`);
  assert.match(await text("#d-render-pulumi-python"), /import pulumi_azuread/);
  assert.match(await text("#d-render-pulumi-typescript"), /@pulumi\/azuread/);
  assert.equal(JSON.parse(await text("#d-render-json")).org, "contoso");
  assert.equal(await visible("#d-plan"), false, "one app: no plan section");
  // The example button fills in the same.
  await open("");
  await page.click("#d-example");
  await settled();
  assert.equal(await text("#d-subjects"), subjects.join("\n"));
});

test("an invalid stack shows the rule inline and no output; fixing it brings the output back", async () => {
  await open("");
  await fillDeployments({ org: "contoso", project: "core", stacks: ["dev", "bad stack"] });
  assert.equal(await state("d"), "error");
  const message = await text("#d-stacks-error");
  assert.match(message, /line 2/);
  assert.match(message, /invalid stack name `?bad stack`?/);
  assert.match(message, /may only contain letters, digits, hyphens, underscores and periods/);
  assert.equal(await page.getAttribute("#d-stacks-error", "data-code"), "1003");
  assert.equal(await page.getAttribute("#d-stacks", "aria-invalid"), "true");
  assert.equal(await visible("#d-output"), false);
  assert.equal((await page.$$("#d-credentials tbody tr")).length, 0);
  await page.fill("#d-stacks", "dev\nprod");
  await settled();
  assert.equal(await state("d"), "ok");
  assert.equal(await visible("#d-stacks-error"), false);
  assert.equal(await page.getAttribute("#d-stacks", "aria-invalid"), null);
  assert.equal((await credentialRows("d-credentials")).length, 8);
});

test("role, scope and id fields: inline errors with their codes, then a plan with roles", async () => {
  await open("");
  const base = { org: "contoso", project: "core", stack: "dev" };
  await fillDeployments({ ...base, role: "Contribtor", scope: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590" });
  assert.equal(await page.getAttribute("#d-role-error", "data-code"), "1013");
  await fillDeployments({ ...base, role: "Contributor", scope: "/x" });
  assert.equal(await page.getAttribute("#d-scope-error", "data-code"), "1014");
  await fillDeployments({ ...base, tenant: "not-a-guid" });
  assert.equal(await page.getAttribute("#d-tenant-error", "data-code"), "1015");
  await fillDeployments({ ...base, subscription: "nope" });
  assert.equal(await page.getAttribute("#d-subscription-error", "data-code"), "1015");
  await fillDeployments({ ...base, operations: [] });
  assert.match(await text("#d-ops-error"), /at least one operation/);
  assert.equal(await visible("#d-output"), false);
  await fillDeployments({
    ...base,
    role: "Contributor",
    scope: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/core",
    tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
  });
  assert.equal(await state("d"), "ok");
  const az = await text("#d-render-az");
  assert.match(az, /TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47/);
  assert.match(az, /az role assignment create .*resourceGroups\/core/);
  // ESC: the ids of the YAML.
  await fillEsc({ org: "contoso", project: "azure", env: "prod", client: "abc" });
  assert.equal(await page.getAttribute("#e-client-error", "data-code"), "1015");
  assert.equal(await visible("#e-output"), false);
});

test("more than 20 credentials: the plan's apps and why", async () => {
  await open("");
  const stacks = ["dev", "test", "qa", "staging", "prod", "perf"];
  await fillDeployments({ org: "contoso", project: "core", stacks });
  assert.equal(await state("d"), "ok");
  assert.equal((await credentialRows("d-credentials")).length, 24);
  assert.equal(await visible("#d-plan"), true);
  const apps = await page.$$eval("#d-plan li.app", (els) =>
    els.map((el) => ({ name: el.dataset.uniqueName, count: Number(el.dataset.credentials), reason: el.querySelector(".app-reason").textContent })),
  );
  assert.equal(apps.length, 2);
  assert.deepEqual(apps.map((a) => a.count), [20, 4]);
  assert.match(apps[0].reason, /at most 20 credentials/);
  assert.match(await text("#d-summary"), /in 2 apps/);
});

test("ESC: the legacy default project's audience, the <yaml> warning, portal values and YAML", async () => {
  await open("");
  await fillEsc({ org: "contoso", project: "default", env: "development", subjectAttributes: [] });
  assert.equal(await text('#e-facts [data-field="audience"]'), "contoso");
  assert.match(await text("#e-audience-note"), /legacy/);
  await fillEsc({ org: "contoso", project: "azure", env: "prod", includeYamlSubject: true, client: "11111111-1111-1111-1111-111111111111", tenant: "22222222-2222-2222-2222-222222222222", subscription: "33333333-3333-3333-3333-333333333333" });
  assert.match(await text("#e-yaml-warning"), /pulumi\/pulumi#14509/);
  assert.match(await text("#e-warnings"), /<yaml>/);
  const rows = await credentialRows("e-credentials");
  assert.deepEqual(rows.map((r) => r.subject), [
    "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/prod",
    "pulumi:environments:org:contoso:env:<yaml>",
  ]);
  assert.equal(await text('#e-facts [data-field="audience"]'), "azure:contoso");
  const portal = await page.$$eval("#e-portal dl.portal", (dls) =>
    dls.map((dl) => Object.fromEntries([...dl.querySelectorAll("dd[data-field]")].map((dd) => [dd.dataset.field, dd.querySelector("code").textContent]))),
  );
  assert.deepEqual(portal[0], {
    issuer: "https://api.pulumi.com/oidc",
    subject: rows[0].subject,
    name: rows[0].name,
    description: rows[0].description,
    audience: "azure:contoso",
  });
  const yaml = await text("#e-render-esc");
  assert.match(yaml, /clientId: 11111111-1111-1111-1111-111111111111/);
  assert.match(yaml, /subjectAttributes:\n\s+- currentEnvironment.name/);
});

test("diagnose_token.json cases: verdict, AADSTS code, first candidate kinds and the fix", async () => {
  await open("view=diagnose");
  await view("diagnose");
  for (const c of vectors("diagnose_token.json")) {
    const e = c.expected;
    await fillFields({
      "x-token": c.token,
      "x-credentials": c.credentials ? JSON.stringify(c.credentials, null, 2) : "",
      "x-at": await localTime(c.now),
    });
    await settled();
    assert.equal(await state("xt"), "ok", `${c.name}: state`);
    const verdict = await page.$eval("#x-verdict", (el) => ({ ...el.dataset }));
    if ("accepted" in e) assert.equal(verdict.accepted, String(e.accepted), `${c.name}: accepted`);
    if ("aadsts" in e) assert.equal(verdict.aadsts, e.aadsts == null ? "" : String(e.aadsts), `${c.name}: aadsts`);
    if ("matched" in e) assert.equal(verdict.matched, e.matched ?? "", `${c.name}: matched`);
    if ("time" in e) assert.equal(verdict.time, e.time, `${c.name}: time`);
    if ("checkedCredentials" in e) assert.equal(verdict.checked, String(e.checkedCredentials), `${c.name}: checked`);
    const kinds = e.firstCandidate?.kinds ?? e.firstCandidateKinds;
    if (kinds) {
      const first = await page.$eval("#x-candidates .candidate", (el) => ({ name: el.dataset.name, kinds: el.dataset.kinds.split(" ") }));
      assert.deepEqual(first.kinds, kinds, `${c.name}: first candidate kinds`);
      if (e.firstCandidate?.name) assert.equal(first.name, e.firstCandidate.name, `${c.name}: first candidate`);
      // The differing field is highlighted: token and credential side by side, the difference marked.
      const field = await page.$eval("#x-candidates .difference", (el) => el.dataset.field);
      assert.ok(await page.$(`#x-claims .claim.differs[data-claim="${field}"]`), `${c.name}: ${field} highlighted`);
      assert.ok(await page.$("#x-candidates .difference .value-token mark"), `${c.name}: token value marked`);
      assert.ok(await page.$("#x-candidates .difference .value-credential mark"), `${c.name}: credential value marked`);
    }
    const fix = await page.$eval("#x-fix-data", (el) => ({ ...el.dataset })).catch(() => null);
    if (e.fixName || e.fixSubject || e.fixAudience || e.fixAction) assert.ok(fix, `${c.name}: a fix`);
    if (e.fixName) assert.equal(fix.name, e.fixName, `${c.name}: fix name`);
    if (e.fixSubject) assert.equal(fix.subject, e.fixSubject, `${c.name}: fix subject`);
    if (e.fixAudience) assert.deepEqual(JSON.parse(fix.audiences), [e.fixAudience], `${c.name}: fix audience`);
    if (e.fixAction) {
      assert.equal(fix.action, e.fixAction, `${c.name}: fix action`);
      const az = await text("#x-fix-az");
      assert.ok(az.startsWith(`az ad app federated-credential ${e.fixAction} --id <app client id>`), `${c.name}: az command`);
      assert.equal(JSON.parse(await text("#x-fix-json")).name, fix.name);
    }
    if (e.notesContain) assert.ok((await text("#x-notes")).includes(e.notesContain), `${c.name}: notes`);
    assert.ok(!(await fragment()).includes(c.token.slice(0, 20)), `${c.name}: the token is not in the URL`);
  }
  // A broken token and a broken credential list: inline, with their codes, and no output.
  await page.fill("#x-token", "not a token");
  await settled();
  assert.equal(await page.getAttribute("#x-token-error", "data-code"), "2001");
  assert.equal(await visible("#x-token-output"), false);
  await page.fill("#x-token", vectors("diagnose_token.json")[0].token);
  await page.fill("#x-credentials", '{"x": 1}');
  await settled();
  assert.equal(await page.getAttribute("#x-credentials-error", "data-code"), "2002");
  assert.equal(await visible("#x-token-output"), false);
});

test("diagnose_error.json cases, among them a real AADSTS70021 message with its presented values", async () => {
  await open("view=diagnose");
  const cases = vectors("diagnose_error.json");
  assert.ok(cases.some((c) => c.expected.code === 70021 && c.expected.presented?.issuer));
  for (const c of cases) {
    const e = c.expected;
    await page.fill("#x-aadsts", c.text);
    await settled();
    if (c.knownGap) {
      // Not explained yet: answered cleanly, as a diagnosis or as "no code found".
      assert.ok(["ok", "error"].includes(await state("xa")), `${c.name}: state`);
      continue;
    }
    assert.equal(await state("xa"), "ok", `${c.name}: state`);
    const also = await page.$$eval("#x-err-also > li", (items) => items.map((li) => Number(li.dataset.code)));
    assert.deepEqual(also, e.also ?? [], `${c.name}: the other errors in the text`);
    const err = await page.$eval("#x-err", (el) => ({ ...el.dataset }));
    assert.equal(err.code, String(e.code), `${c.name}: code`);
    assert.equal(await text("#x-err-code"), `AADSTS${e.code}`);
    assert.ok((await text("#x-err-title")).length > 10, `${c.name}: title`);
    if (e.titleContains) assert.ok((await text("#x-err-title")).includes(e.titleContains), `${c.name}: title`);
    for (const [field, value] of Object.entries(e.presented ?? {})) {
      assert.equal(await text(`#x-presented dd[data-field="${field}"] code`), value, `${c.name}: presented ${field}`);
    }
    if (e.subjectKind) assert.equal(err.subjectKind, e.subjectKind, `${c.name}: subject kind`);
    for (const [name, value] of Object.entries(e.details ?? {})) {
      assert.equal(await page.$eval(`#x-err-details dd[data-name="${name}"]`, (el) => el.textContent), value, `${c.name}: ${name}`);
    }
    if (e.traceId) assert.equal(await page.getAttribute("#x-err-ids", "data-trace"), e.traceId);
    if (e.correlationId) assert.equal(await page.getAttribute("#x-err-ids", "data-correlation"), e.correlationId);
    if (e.timestamp) assert.equal(await page.getAttribute("#x-err-ids", "data-timestamp"), e.timestamp);
    if (e.fixContains) assert.ok((await text("#x-err-fix")).includes(e.fixContains), `${c.name}: fix`);
    assert.ok((await text("#x-err-cause")).length > 10, `${c.name}: cause`);
    if ("mayBePropagation" in e) assert.equal(err.mayBePropagation, String(e.mayBePropagation));
    if ("suggestedName" in e) {
      if (e.suggestedName == null) assert.equal(await page.$("#x-err-suggested-data"), null, `${c.name}: no suggestion`);
      else assert.equal(await page.getAttribute("#x-err-suggested-data", "data-name"), e.suggestedName);
    }
    if (e.suggestedAudience) {
      assert.deepEqual(JSON.parse(await page.getAttribute("#x-err-suggested-data", "data-audiences")), [e.suggestedAudience]);
      assert.match(await text("#x-err-suggested-az"), /^az ad app federated-credential create --id <app client id> --parameters ['"]/);
    }
    assert.equal(await fragment(), "#view=diagnose", `${c.name}: the error text is not in the URL`);
  }
  await page.fill("#x-aadsts", "something went wrong");
  await settled();
  assert.equal(await page.getAttribute("#x-aadsts-error", "data-code"), "2003");
  assert.equal(await visible("#x-aadsts-output"), false);
});

// ───────────────────────── the URL fragment ─────────────────────────

test("the URL fragment round-trips a view, and never holds the token or the error text", async () => {
  await open("");
  await fillDeployments({
    org: "contoso",
    project: "core",
    stacks: ["dev", "prod"],
    operations: ["preview", "update"],
    role: "Reader",
    scope: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/core",
  });
  await fillEsc({ org: "contoso", project: "azure", env: "prod", subjectAttributes: ["rootEnvironment.name", "currentEnvironment.name"], rootEnv: "apps/web" });
  const tokenCase = vectors("diagnose_token.json")[1];
  await view("diagnose");
  await page.fill("#x-token", tokenCase.token);
  await page.fill("#x-credentials", JSON.stringify(tokenCase.credentials));
  await page.fill("#x-at", await localTime(tokenCase.now));
  const errorText = vectors("diagnose_error.json")[2].text;
  await page.fill("#x-aadsts", errorText);
  await settled();
  const before = {
    d: await credentialRows("d-credentials"),
    e: await credentialRows("e-credentials"),
    az: await text("#d-render-az"),
    yaml: await text("#e-render-esc"),
    verdict: await page.$eval("#x-verdict", (el) => ({ ...el.dataset })),
  };
  assert.equal(before.d.length, 4);
  const url = page.url();
  const hash = decodeURIComponent(new URL(url).hash);
  assert.match(hash, /view=diagnose/);
  assert.match(hash, /d\.org=contoso/);
  assert.match(hash, /d\.ops=preview,update/);
  assert.match(hash, /e\.attrs=rootEnvironment\.name,currentEnvironment\.name/);
  assert.match(hash, /x\.at=2026-01-01T00:00:00Z/);
  assert.ok(!url.includes(tokenCase.token.split(".")[1].slice(0, 16)), "no part of the token");
  assert.ok(!url.includes("eyJ"), "nothing that looks like a JWT");
  assert.ok(!hash.includes("AADSTS") && !hash.includes("Trace ID"), "no error text");

  // A fresh page with the same link: the same inputs and outputs, and no token.
  const other = await context.newPage();
  watch(other);
  await open(new URL(url).hash.slice(1), other);
  assert.equal(await other.isVisible("#panel-diagnose"), true);
  assert.equal(await other.inputValue("#x-token"), "");
  assert.equal(await other.inputValue("#x-aadsts"), "");
  assert.equal(await other.inputValue("#d-stacks"), "dev\nprod");
  assert.equal(await other.isChecked("#d-op-refresh"), false);
  assert.equal(await other.inputValue("#d-role"), "Reader");
  assert.equal(await other.inputValue("#e-root"), "apps/web");
  assert.equal(await other.inputValue("#x-credentials"), JSON.stringify(tokenCase.credentials));
  assert.equal(await other.$eval("#x-at", (el) => new Date(el.value).getTime() / 1000), tokenCase.now);
  assert.deepEqual(await credentialRows("d-credentials", other), before.d);
  assert.deepEqual(await credentialRows("e-credentials", other), before.e);
  assert.equal(await other.textContent("#d-render-az"), before.az);
  assert.equal(await other.textContent("#e-render-esc"), before.yaml);
  assert.equal(await state("xt", other), "empty", "no token, no token diagnosis");
  await other.reload();
  await other.waitForSelector("html[data-ready='true']");
  await settled(other);
  assert.deepEqual(await credentialRows("e-credentials", other), before.e, "a reload restores the view");
  assert.equal(await other.inputValue("#x-token"), "", "a reload brings no token back");
  await other.close();
});

// ───────────────────────── secrets ─────────────────────────

test("a pasted token is never echoed: not in the URL, title, DOM, storage or console", async () => {
  const SIGNATURE = "MARKER-signature-7e15";
  const MALFORMED = "MARKER-malformed-token-c5a9";
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const subject = "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";
  const headerPayload = `${part({ alg: "RS256", typ: "JWT", kid: "k1" })}.${part({
    iss: "https://api.pulumi.com/oidc",
    sub: subject,
    aud: "contoso",
    exp: 1767229200,
    iat: 1767225600,
  })}`;
  const signed = `${headerPayload}.${SIGNATURE}`;
  const credentials = JSON.stringify([
    { name: "deploy-core-dev-update", issuer: "https://api.pulumi.com/oidc", subject: subject.replace("update", "preview"), audiences: ["contoso"] },
  ]);

  const p = await context.newPage();
  watch(p);
  const messages = [];
  p.on("console", (message) => messages.push(`${message.type()}: ${message.text()}`));
  p.on("pageerror", (error) => messages.push(`pageerror: ${error.message}\n${error.stack ?? ""}`));
  await open("view=diagnose", p);

  /** Everything the page shows or keeps, except the token field's own value. */
  const exposed = () =>
    p.evaluate(() => {
      const body = document.body.cloneNode(true);
      const input = body.querySelector("#x-token");
      input.value = "";
      input.textContent = "";
      const storage = (s) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`).join("\n");
      const others = [...document.querySelectorAll("input, textarea, select")].filter((el) => el.id !== "x-token").map((el) => el.value);
      const live = document.getElementById("x-token").cloneNode(false);
      return {
        url: location.href,
        title: document.title,
        text: document.body.innerText.replace(document.getElementById("x-token").value, ""),
        html: body.innerHTML,
        head: document.head.outerHTML,
        attributes: live.outerHTML,
        values: others.join("\n"),
        local: storage(localStorage),
        session: storage(sessionStorage),
        cookie: document.cookie,
        history: JSON.stringify(history.state),
      };
    });

  const check = async (token, secrets, what) => {
    await p.fill("#x-token", token);
    await settled(p);
    await p.waitForTimeout(60); // the live region is written in a later task
    assert.equal(await p.inputValue("#x-token"), token, `${what}: the field holds the token`);
    const seen = { ...(await exposed()), pageUrl: p.url(), console: messages.join("\n") };
    for (const [where, value] of Object.entries(seen)) {
      for (const secret of secrets) assert.ok(!String(value).includes(secret), `${what}: \`${secret}\` is in ${where}:\n${value}`);
    }
  };

  // Claims are shown, the signature and the compact token are not.
  const forbidden = [SIGNATURE, MALFORMED, "MARKER-", headerPayload, headerPayload.split(".")[1]];
  await check(signed, forbidden, "a signed token");
  assert.equal(await state("xt", p), "ok");
  assert.equal(await p.textContent('#x-claims [data-claim="subject"] code'), subject);
  await p.fill("#x-credentials", credentials);
  await check(signed, forbidden, "a signed token against credentials");
  assert.equal(await p.getAttribute("#x-verdict", "data-aadsts"), "700213");
  await check(`Bearer ${signed}`, forbidden, "a Bearer token");
  assert.equal(await state("xt", p), "ok");

  // Not a token: the error names the rule, never the text.
  for (const bad of [
    MALFORMED,
    `${MALFORMED}.${MALFORMED}`,
    `${MALFORMED}.${MALFORMED}.${SIGNATURE}`,
    `${headerPayload.split(".")[0]}.${MALFORMED}.${SIGNATURE}`,
    `${MALFORMED}.${MALFORMED}.${MALFORMED}.${MALFORMED}.${SIGNATURE}`,
  ]) {
    await check(bad, forbidden, `malformed ${bad.slice(0, 40)}`);
    assert.equal(await p.getAttribute("#x-token-error", "data-code"), "2001", `${bad}: malformed`);
    assert.equal(await state("xt", p), "error");
  }
  // Back to a token, then a reload: nothing of either comes back.
  await check(signed, forbidden, "a signed token again");
  await p.reload();
  await p.waitForSelector("html[data-ready='true']");
  await settled(p);
  assert.equal(await p.inputValue("#x-token"), "");
  const after = { ...(await exposed()), console: messages.join("\n") };
  for (const [where, value] of Object.entries(after)) {
    for (const secret of forbidden) assert.ok(!String(value).includes(secret), `after a reload: \`${secret}\` is in ${where}`);
  }
  await p.close();
});

// ───────────────────────── copy ─────────────────────────

test("copy buttons put the right text on the clipboard and say so", async () => {
  await open("");
  await fillDeployments({ org: "contoso", project: "core", stack: "dev" });
  const button = page.locator('button.copy[data-copy-target="d-subjects"]');
  await button.click();
  await page.waitForFunction(() => document.querySelector('button.copy[data-copy-target="d-subjects"]').textContent.startsWith("Copied"));
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, await text("#d-subjects"));
  assert.equal(copied.split("\n").length, 4);
  await page.waitForFunction(() => /Copied/.test(document.getElementById("announce").textContent)); // announced to screen readers
  await page.click('#d-facts [data-field="audience"] + button.copy');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "contoso");
  await page.click('button.copy[data-copy-target="d-render-az"]');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await text("#d-render-az"));
});

// ───────────────────────── keyboard only ─────────────────────────

async function tabUntil(id, p = page, max = 40) {
  for (let i = 0; i < max; i++) {
    await p.keyboard.press("Tab");
    if ((await p.evaluate(() => document.activeElement?.id)) === id) return i + 1;
  }
  throw new Error(`Tab never reached #${id}`);
}

async function tabUntilMatches(selector, p = page, max = 20) {
  for (let i = 0; i < max; i++) {
    await p.keyboard.press("Tab");
    if (await p.evaluate((s) => document.activeElement?.matches(s), selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

const focused = (p = page) => p.evaluate(() => document.activeElement?.id);

test("keyboard only: every section is reachable and usable with Tab, arrows, typing and Space", async () => {
  await open("");
  // Deployments: the tab first, then the fields in order.
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "tab-deployments");
  await tabUntil("d-org", page, 3);
  await page.keyboard.type("contoso");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "d-project");
  await page.keyboard.type("core");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "d-stacks");
  await page.keyboard.type("dev");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "d-op-preview");
  await page.keyboard.press("Space"); // preview off
  await settled();
  assert.deepEqual((await credentialRows("d-credentials")).map((r) => r.name), ["deploy-core-dev-update", "deploy-core-dev-refresh", "deploy-core-dev-destroy"]);
  // Focus is visible.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none");

  // ESC: back to the tab list, arrow to ESC, into the form.
  await page.focus("#tab-deployments");
  await page.keyboard.press("ArrowRight");
  assert.equal(await focused(), "tab-esc");
  assert.equal(await page.isVisible("#panel-esc"), true);
  assert.equal(await page.isVisible("#panel-deployments"), false);
  await tabUntil("e-org", page, 3);
  await page.keyboard.type("contoso");
  await page.keyboard.press("Tab");
  await page.keyboard.type("azure");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "e-env");
  await page.keyboard.type("prod");
  await settled();
  assert.deepEqual((await credentialRows("e-credentials")).map((r) => r.subject), [
    "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/prod",
  ]);
  // Reorder and choose attributes with the keyboard: Tab to rootEnvironment.name's
  // "move up" button, Enter moves it above currentEnvironment.name, Space checks it.
  await tabUntil("e-form-attributes", page, 3);
  const rootRow = '#e-attrs > li[data-attr="rootEnvironment.name"]';
  await tabUntilMatches(`${rootRow} [data-move="up"]`);
  await page.keyboard.press("Enter");
  assert.deepEqual(await page.$$eval("#e-attrs > li", (lis) => lis.slice(0, 2).map((li) => li.dataset.attr)), ["rootEnvironment.name", "currentEnvironment.name"]);
  assert.equal(await page.evaluate(() => document.activeElement.closest("li")?.dataset.attr), "rootEnvironment.name", "focus follows the moved row");
  await page.keyboard.down("Shift");
  await page.keyboard.press("Tab");
  await page.keyboard.up("Shift");
  assert.equal(await page.evaluate(() => document.activeElement.value), "rootEnvironment.name");
  await page.keyboard.press("Space");
  await settled();
  assert.equal(
    (await credentialRows("e-credentials"))[0].subject,
    "pulumi:environments:pulumi.organization.login:contoso:rootEnvironment.name:azure/prod:currentEnvironment.name:azure/prod",
  );

  // Diagnose: arrow to the third tab, Tab into the token field, paste-type a token.
  await page.focus("#tab-esc");
  await page.keyboard.press("ArrowRight");
  assert.equal(await focused(), "tab-diagnose");
  await tabUntil("x-token", page, 3);
  const c = vectors("diagnose_token.json")[10]; // no credential list
  await page.keyboard.insertText(c.token);
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "x-credentials");
  await settled();
  assert.equal(await state("xt"), "ok");
  assert.equal(await page.getAttribute("#x-fix-data", "data-name"), c.expected.fixName);
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "x-at");
  await tabUntil("x-aadsts", page, 40);
  await page.keyboard.insertText(vectors("diagnose_error.json")[2].text);
  await settled();
  assert.equal(await page.getAttribute("#x-err", "data-code"), "70021");
  // Home and End move between the ends of the tab list.
  await page.focus("#tab-diagnose");
  await page.keyboard.press("Home");
  assert.equal(await focused(), "tab-deployments");
  await page.keyboard.press("End");
  assert.equal(await focused(), "tab-diagnose");
});

// ───────────────────────── look and layout ─────────────────────────

test("screenshots of each section, light and dark, desktop and phone; no horizontal scroll", async () => {
  const shot = await context.newPage();
  watch(shot);
  const token = vectors("diagnose_token.json")[1];
  const sections = {
    deployments: async () => {
      await open("", shot);
      await shot.click("#d-example");
      await settled(shot);
    },
    esc: async () => {
      await open("view=esc", shot);
      await shot.click("#e-example");
      await shot.fill("#e-client", "11111111-1111-1111-1111-111111111111");
      await settled(shot);
    },
    diagnose: async () => {
      await open("view=diagnose", shot);
      await shot.fill("#x-token", token.token);
      await shot.fill("#x-credentials", JSON.stringify(token.credentials, null, 2));
      await shot.fill("#x-at", await localTime(token.now, shot));
      await shot.fill("#x-aadsts", vectors("diagnose_error.json")[2].text);
      await settled(shot);
    },
  };
  const devices = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
  for (const [name, fill] of Object.entries(sections)) {
    await shot.setViewportSize(devices.desktop);
    await fill();
    for (const [device, size] of Object.entries(devices)) {
      await shot.setViewportSize(size);
      for (const scheme of ["light", "dark"]) {
        await shot.emulateMedia({ colorScheme: scheme });
        const overflow = await shot.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${name} ${device}: horizontal scroll of ${overflow}px`);
        await screenshot(`${name}-${scheme}-${device}`, shot);
      }
    }
  }
  await shot.close();
  assert.equal(fs.readdirSync(SCREENSHOTS).filter((f) => f.endsWith(".png")).length >= 12, true);
});

test("a panic in the core (RuntimeError: unreachable) shows a reload message", async () => {
  const broken = await context.newPage();
  watch(broken);
  // The instance's `credentials` export traps as a Rust panic does. Wrapping the
  // instantiation works whether the glue is its own file or bundled into app.js.
  await broken.addInitScript(() => {
    const trap = (result) => {
      const exports = { ...result.instance.exports };
      exports.credentials = () => {
        throw new WebAssembly.RuntimeError("unreachable");
      };
      return { module: result.module, instance: { exports } };
    };
    const streaming = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = async (...args) => trap(await streaming(...args));
    const plain = WebAssembly.instantiate;
    WebAssembly.instantiate = async (...args) => {
      const result = await plain(...args);
      return result.instance ? trap(result) : result;
    };
  });
  await broken.goto(`${origin}/index.html#d.org=contoso&d.project=core&d.stacks=dev`);
  await broken.waitForSelector("#fatal", { state: "visible" });
  assert.match(await broken.textContent("#fatal"), /Reload the page/);
  assert.match(await broken.textContent("#fatal"), /unreachable/);
  assert.equal(await broken.isVisible("#d-output"), false);
  await broken.close();
});

test("no console errors, no page errors, and every request went to the test server", () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreignRequests, []);
});
