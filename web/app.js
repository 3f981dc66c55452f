// The calculator page: reads the forms, calls the core (WebAssembly), shows the results.
// No framework, no build step, no network beyond this page's own files. Every value
// that comes from an input or a token is put in the page as text, never as HTML.

import init, {
  version,
  credentials,
  plan,
  render,
  diagnoseToken,
  diagnoseError,
} from "./pkg/pulumi_azure_oidc_wasm.js";

const OPERATIONS = ["preview", "update", "refresh", "destroy"];
const ATTRIBUTES = [
  "rootEnvironment.name",
  "currentEnvironment.name",
  "pulumi.user.login",
  "pulumi.organization.login",
];
const RECOMMENDED_ATTRIBUTES = ["currentEnvironment.name"];
const ATTRIBUTE_HINTS = {
  "rootEnvironment.name": "the environment opened first",
  "currentEnvironment.name": "this environment",
  "pulumi.user.login": "the user who opens it",
  "pulumi.organization.login": "the organization",
};
const DEFAULT_ISSUER = "https://api.pulumi.com/oidc";
const MAX_PER_APP = 20;
const DEBOUNCE_MS = 150;
const RENDERS = [
  { format: "az", title: "az script", note: "bash; upserts the apps, credentials and role assignments, enables OIDC in each stack's deployment settings. Safe to re-run.", open: true },
  { format: "pulumi-python", title: "Pulumi program (Python)", note: "pulumi-azuread and pulumi-azure-native." },
  { format: "pulumi-typescript", title: "Pulumi program (TypeScript)", note: "@pulumi/azuread and @pulumi/azure-native." },
  { format: "json", title: "JSON request bodies", note: "Graph and ARM bodies: applications, credentials, role assignments, deployment settings." },
];

// The bundled examples (examples/ in the repository): an unsigned example token,
// a credential list set up by hand with a wrong audience, and an error body.
const EXAMPLE_TOKEN =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUifQ.eyJpc3MiOiJodHRwczovL2FwaS5wdWx1bWkuY29tL29pZGMiLCJzdWIiOiJwdWx1bWk6ZGVwbG95Om9yZzpjb250b3NvOnByb2plY3Q6Y29yZTpzdGFjazpkZXY6b3BlcmF0aW9uOnVwZGF0ZTpzY29wZTp3cml0ZSIsImF1ZCI6ImNvbnRvc28iLCJpYXQiOjE3NjcyMjU2MDAsIm5iZiI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJvcmciOiJjb250b3NvIiwicHJvamVjdCI6ImNvcmUiLCJzdGFjayI6ImRldiIsIm9wZXJhdGlvbiI6InVwZGF0ZSIsInNjb3BlIjoid3JpdGUifQ.ZXhhbXBsZS1zaWduYXR1cmU";
const EXAMPLE_CREDENTIALS = JSON.stringify(
  {
    value: [
      {
        name: "core-dev-preview",
        issuer: DEFAULT_ISSUER,
        subject: "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write",
        audiences: ["contoso"],
        description: "added by hand",
      },
      {
        name: "core-dev-update",
        issuer: DEFAULT_ISSUER,
        subject: "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write",
        audiences: ["azure:contoso"],
        description: "added by hand",
      },
    ],
  },
  null,
  2,
);
const EXAMPLE_ERROR =
  "AADSTS700213: No matching federated identity record found for presented assertion subject 'pulumi:environments:org:pulumi:env:<yaml>'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation Trace ID: 20f6c59a-9821-47da-afb7-aafa724e6b01 Correlation ID: 1b19f0d7-cba3-4b0a-ae44-7489adf2454b Timestamp: 2023-11-07 09:11:45Z";

// ───────────────────────── small DOM helpers ─────────────────────────

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const byId = (id) => document.getElementById(id);

/** Create an element: props are attributes (class, dataset, text handled specially). */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) if (v != null) el.dataset[k] = String(v);
    } else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Text with `backticked` parts as <code>: how the core's messages quote values. */
function rich(text) {
  const parts = String(text).split("`");
  if (parts.length % 2 === 0) return [String(text)]; // unbalanced: leave as it is
  return parts.map((part, i) => (i % 2 ? h("code", null, part) : part)).filter((p) => p !== "");
}

const raw = (id) => byId(id).value;
const val = (id) => byId(id).value.trim();
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const listText = (items) =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
const isoTime = (seconds) => {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().replace(".000Z", "Z");
};

function announce(message) {
  const region = byId("announce");
  region.textContent = "";
  // A separate task, so an identical message is announced again.
  setTimeout(() => {
    region.textContent = message;
  }, 30);
}

// ───────────────────────── the core, guarded ─────────────────────────

let wasmReady = false;
let wasmBroken = false;

class Broken extends Error {}

const isOidcError = (e) => e != null && e.name === "OidcError" && typeof e.code === "number";
const isPanic = (e) =>
  e != null &&
  !isOidcError(e) &&
  ((typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError) ||
    e.name === "RuntimeError" ||
    /\bunreachable\b/.test(String(e.message)));

/** Call a core function; a panic (RuntimeError: unreachable) poisons the module. */
function core(fn, ...args) {
  if (wasmBroken) throw new Broken();
  try {
    return fn(...args);
  } catch (e) {
    if (isPanic(e)) {
      fatal("Something went wrong inside the calculator.", `(${e.name}: ${e.message})`);
      throw new Broken();
    }
    throw e;
  }
}

function fatal(title, detail) {
  wasmBroken = true;
  byId("fatal-title").textContent = title;
  byId("fatal-detail").textContent = detail || "";
  byId("fatal").hidden = false;
  byId("loading").hidden = true;
  for (const section of Object.values(SECTIONS)) {
    byId(section.output).hidden = true;
    byId(section.output).replaceChildren();
    byId(section.results).dataset.state = "broken";
    byId(section.summary).textContent = "The calculator stopped: reload the page.";
  }
}

// ───────────────────────── field errors ─────────────────────────

/** Show a core error (or a page rule) inline next to a field, naming the rule. */
function showFieldError(fieldId, { message, code, kind }, prefix = "") {
  const box = byId(`${fieldId}-error`);
  const text = stripConfigPath(message);
  box.replaceChildren(
    h("span", { class: "error-icon", "aria-hidden": "true" }, "!"),
    h("span", null, prefix, ...rich(text)),
    code ? h("span", { class: "error-code" }, ` error ${code}${kind ? ` · ${kind}` : ""}`) : null,
  );
  box.dataset.code = code ? String(code) : "";
  box.dataset.message = String(message);
  box.hidden = false;
  const field = byId(fieldId);
  if (field) {
    if (field.matches("input, textarea, select")) field.setAttribute("aria-invalid", "true");
    else field.classList.add("invalid");
    field.closest(".field")?.classList.add("has-error");
  }
  return `${prefix}${text}`;
}

function clearFieldErrors(form) {
  for (const box of $$(".field-error", form)) {
    box.hidden = true;
    box.replaceChildren();
    delete box.dataset.code;
    delete box.dataset.message;
  }
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
  for (const el of [form, ...$$(".invalid, .has-error", form)]) el.classList.remove("invalid", "has-error");
}

/** Config errors say where they are (`deployments[0].stacks[1]: …`); the page shows the field. */
const stripConfigPath = (message) =>
  String(message).replace(/^(?:deployments|esc|azure)(?:\[\d+\]|\.[A-Za-z]+)*: /, "");

/** The value a message quotes first: `invalid stack name `x`: …` → x. */
const quotedValue = (message) => /`([^`]*)`/.exec(String(message))?.[1];

// ───────────────────────── sections and scheduling ─────────────────────────

const SECTIONS = {
  d: { form: "d-form", results: "d-results", summary: "d-summary", output: "d-output", run: computeDeployments },
  e: { form: "e-form", results: "e-results", summary: "e-summary", output: "e-output", run: computeEsc },
  xt: { form: "x-token-form", results: "x-token-results", summary: "x-token-summary", output: "x-token-output", run: computeToken },
  xa: { form: "x-aadsts-form", results: "x-aadsts-results", summary: "x-aadsts-summary", output: "x-aadsts-output", run: computeAadsts },
};

const timers = {};

function schedule(key, delay = DEBOUNCE_MS) {
  const section = SECTIONS[key];
  if (!wasmBroken) byId(section.results).dataset.state = "pending";
  clearTimeout(timers[key]);
  timers[key] = setTimeout(() => run(key), delay);
}

function run(key) {
  clearTimeout(timers[key]);
  if (!wasmReady || wasmBroken) return;
  try {
    SECTIONS[key].run();
  } catch (e) {
    if (!(e instanceof Broken)) throw e;
  }
  writeFragment();
}

function runAll() {
  // The section on screen first; the others right after, without delaying it.
  const visible = Object.keys(SECTIONS).find((key) => !byId(SECTIONS[key].results)?.closest("[hidden]")) ?? Object.keys(SECTIONS)[0];
  run(visible);
  for (const key of Object.keys(SECTIONS)) if (key !== visible) setTimeout(() => run(key), 0);
}

/** The section's outcome: ok (output shown), error (none), empty (waiting for input). */
function settle(key, state, summary, content, tone = state) {
  const section = SECTIONS[key];
  const results = byId(section.results);
  const output = byId(section.output);
  const summaryEl = byId(section.summary);
  results.dataset.state = state;
  const parts = Array.isArray(summary) ? summary : rich(summary);
  if (summaryEl.textContent !== parts.map((p) => (p instanceof Node ? p.textContent : p)).join("")) {
    summaryEl.replaceChildren(...parts);
  }
  summaryEl.className = `summary summary-${tone}`;
  if (content) {
    const open = new Map($$("details[id]", output).map((d) => [d.id, d.open]));
    output.replaceChildren(...content.filter((c) => c != null && c !== false));
    for (const d of $$("details[id]", output)) if (open.has(d.id)) d.open = open.get(d.id);
    output.hidden = false;
  } else {
    output.replaceChildren();
    output.hidden = true;
  }
}

function fail(key, fieldId, error, prefix = "") {
  const text = showFieldError(fieldId, error, prefix);
  const label = fieldLabel(fieldId);
  settle(key, "error", [
    h("strong", null, label ? `${label}: ` : "Check the input: "),
    ...rich(text),
    error.code ? ` (error ${error.code})` : "",
  ]);
}

function fieldLabel(fieldId) {
  const el = byId(fieldId);
  if (!el) return "";
  if (el.matches("fieldset")) return $("legend", el)?.firstChild?.textContent.trim() ?? "";
  if (el.matches("form")) return "";
  const label = $(`label[for="${fieldId}"]`);
  if (label) return label.firstChild.textContent.trim();
  return $("legend", el.closest("fieldset") ?? document.createElement("p"))?.firstChild?.textContent.trim() ?? "";
}

/** A core error goes to its field; anything else is a bug and is thrown on. */
function failWith(key, e, fieldFor, prefix = "") {
  if (!isOidcError(e)) throw e;
  const fieldId = fieldFor(e);
  fail(key, fieldId, e, prefix);
}

// ───────────────────────── shared result pieces ─────────────────────────

let copySeq = 0;

function copyButton(label, { target, text }) {
  return h(
    "button",
    { type: "button", class: "copy", dataset: { copyTarget: target, copyText: text } },
    h("span", { class: "copy-label" }, "Copy"),
    h("span", { class: "visually-hidden" }, ` ${label}`),
  );
}

/** A <pre> with a title and a copy button. */
function codeBlock(id, title, text, note) {
  return h(
    "div",
    { class: "codeblock" },
    h(
      "div",
      { class: "codeblock-bar" },
      h("span", { class: "codeblock-title", id: `${id}-title` }, title),
      copyButton(title, { target: id }),
    ),
    note ? h("p", { class: "hint codeblock-note" }, ...rich(note)) : null,
    h("pre", { id, tabindex: "0", "aria-labelledby": `${id}-title` }, h("code", null, text)),
  );
}

/** A value with its own copy button (issuer, audience, portal fields). */
function copyValue(label, value, dataset) {
  return h(
    "span",
    { class: "value-with-copy" },
    h("code", { class: "value", dataset }, value),
    copyButton(label, { text: value }),
  );
}

function block(title, id, ...children) {
  const headingId = `${id}-h`;
  return h("section", { class: "block", id, "aria-labelledby": headingId }, h("h3", { id: headingId }, ...[title].flat()), ...children);
}

function warningsList(id, warnings) {
  if (!warnings.length) return null;
  return h(
    "ul",
    { class: "warnings", id },
    warnings.map((w) => h("li", { class: "warning" }, h("span", { class: "warning-label" }, "Warning"), " ", ...rich(w))),
  );
}

function credentialsTable(id, creds, caption) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id, class: "creds" },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        null,
        h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Subject"), h("th", { scope: "col" }, "Audience")),
      ),
      h(
        "tbody",
        null,
        creds.map((c) =>
          h(
            "tr",
            {
              dataset: {
                name: c.name,
                subject: c.subject,
                issuer: c.issuer,
                audiences: JSON.stringify(c.audiences),
                description: c.description,
              },
            },
            h("td", { "data-label": "Name", class: "cell-name" }, h("code", null, c.name)),
            h("td", { "data-label": "Subject", class: "cell-subject" }, h("code", null, c.subject)),
            h("td", { "data-label": "Audience", class: "cell-audience" }, h("code", null, c.audiences.join(", "))),
          ),
        ),
      ),
    ),
  );
}

/** "What Azure must match": issuer and audience with copy buttons, a hint under the
 *  audience, then whatever follows (the subjects). */
function factsBlock(id, issuer, audience, audienceHint, ...rest) {
  return block(
    "What Azure must match",
    id,
    h(
      "dl",
      { class: "facts" },
      h("div", null, h("dt", null, "Issuer"), h("dd", null, copyValue("issuer", issuer, { field: "issuer" }))),
      h("div", null, h("dt", null, "Audience"), h("dd", null, copyValue("audience", audience, { field: "audience" }), audienceHint)),
    ),
    ...rest,
  );
}

/** Split two strings into same / different / same, for highlighting. */
function diffParts(a, b) {
  a = String(a ?? "");
  b = String(b ?? "");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  const split = (s) => [s.slice(0, start), s.slice(start, s.length - end), s.slice(s.length - end)];
  return [split(a), split(b)];
}

function highlighted([pre, mid, post], className) {
  return h("code", { class: className }, pre, mid ? h("mark", null, mid) : h("mark", { class: "missing", title: "nothing here" }, "∅"), post);
}

// ───────────────────────── Deployments ─────────────────────────

function stackLines() {
  return raw("d-stacks")
    .split("\n")
    .map((text, i) => ({ value: text.trim(), line: i + 1 }))
    .filter((l) => l.value !== "");
}

function readDeployments() {
  return {
    org: val("d-org"),
    project: val("d-project"),
    stacks: stackLines(),
    ops: $$("#d-ops-list input").filter((c) => c.checked).map((c) => c.value),
    issuer: val("d-issuer"),
    role: val("d-role"),
    scope: val("d-scope"),
    tenant: val("d-tenant"),
    subscription: val("d-subscription"),
  };
}

function deploymentsField(e) {
  const message = String(e.message);
  switch (e.code) {
    case 1001: return "d-org";
    case 1002: return "d-project";
    case 1003: case 1017: case 1018: return "d-stacks";
    case 1007: return "d-issuer";
    case 1009: return "d-ops";
    case 1013: return "d-role";
    case 1014: return "d-scope";
    case 1015: return /subscription/.test(message) ? "d-subscription" : "d-tenant";
    default: return "d-form";
  }
}

function computeDeployments() {
  const s = readDeployments();
  clearFieldErrors(byId("d-form"));
  const allOps = s.ops.length === OPERATIONS.length && OPERATIONS.every((op) => s.ops.includes(op));

  if (s.ops.length === 0) {
    return fail("d", "d-ops", { message: "choose at least one operation: preview, update, refresh or destroy" });
  }
  // Check each field as soon as it has a value: empty required fields borrow a valid
  // stand-in, so an error is always the value the user typed.
  const base = {
    kind: "deployment",
    org: s.org || "contoso",
    project: s.project || "project",
    operations: s.ops,
  };
  if (s.issuer) base.issuer = s.issuer;
  const perStack = [];
  for (const { value, line } of s.stacks.length ? s.stacks : [{ value: "dev", line: 0 }]) {
    try {
      perStack.push(core(credentials, { ...base, stack: value }));
    } catch (e) {
      const prefix = e.code === 1003 && s.stacks.length > 1 ? `line ${line}: ` : "";
      return failWith("d", e, deploymentsField, prefix);
    }
  }
  if (s.role && !s.scope) return fail("d", "d-scope", { message: "a role assignment needs a scope: an ARM id such as `/subscriptions/<guid>/resourceGroups/<name>`" });
  if (s.scope && !s.role) return fail("d", "d-role", { message: "a role assignment needs a role: a built-in name such as `Contributor`, or a role definition GUID" });

  const missing = [];
  if (!s.org) missing.push("an organization");
  if (!s.project) missing.push("a project");
  if (!s.stacks.length) missing.push("at least one stack");
  if (missing.length) return settle("d", "empty", `Enter ${listText(missing)}.`);

  const deployment = { project: s.project, stacks: s.stacks.map((l) => l.value) };
  if (!allOps) deployment.operations = s.ops;
  if (s.role) deployment.roles = [{ role: s.role, scope: s.scope }];
  const config = { org: s.org };
  if (s.issuer) config.issuer = s.issuer;
  if (s.tenant || s.subscription) {
    config.azure = {};
    if (s.tenant) config.azure.tenant = s.tenant;
    if (s.subscription) config.azure.subscription = s.subscription;
  }
  config.deployments = [deployment];
  const configJson = JSON.stringify(config);

  let planned;
  const rendered = {};
  try {
    planned = core(plan, configJson);
    for (const { format } of RENDERS) rendered[format] = core(render, configJson, format, {});
  } catch (e) {
    return failWith("d", e, (err) => {
      // A duplicate names its target: show which line.
      return deploymentsField(err);
    });
  }

  const creds = perStack.flatMap((r) => r.credentials);
  const warnings = [...new Set([...perStack.flatMap((r) => r.warnings), ...(planned.warnings || [])])];
  const issuer = creds[0]?.issuer ?? DEFAULT_ISSUER;
  const audience = creds[0]?.audiences?.[0] ?? s.org;
  const target = s.stacks.length === 1 ? `stack ${s.org}/${s.project}/${s.stacks[0].value}` : `${s.stacks.length} stacks of ${s.org}/${s.project}`;
  const apps = planned.apps || [];

  const content = [
    factsBlock(
      "d-facts",
      issuer,
      audience,
      h("p", { class: "hint" }, "Deployments tokens carry the organization name as their audience: no ", h("code", null, "azure:"), " prefix, not ", h("code", null, "api://AzureADTokenExchange"), "."),
      codeBlock("d-subjects", `Subjects (${creds.length})`, creds.map((c) => c.subject).join("\n")),
    ),
    warningsList("d-warnings", warnings),
    creds.length > MAX_PER_APP ? appsBlock(apps, creds.length) : null,
    block(
      `Credentials (${creds.length})`,
      "d-credentials-block",
      credentialsTable("d-credentials", creds, `Federated identity credentials for ${target}`),
      creds.length > MAX_PER_APP ? null : oneAppNote(apps),
    ),
    block(
      "Set-up",
      "d-renders",
      RENDERS.map(({ format, title, note, open }) =>
        h(
          "details",
          { id: `d-details-${format}`, class: "render", open: open || false },
          h("summary", null, title),
          codeBlock(`d-render-${format}`, title, rendered[format], note),
        ),
      ),
    ),
  ];
  settle("d", "ok", `${plural(creds.length, "federated credential")} for ${target}${apps.length > 1 ? `, in ${apps.length} apps` : ""}.`, content);
}

function appsBlock(apps, total) {
  return block(
    `Apps (${apps.length})`,
    "d-plan",
    h("p", null, `These ${total} credentials need ${plural(apps.length, "app")}: Azure allows at most ${MAX_PER_APP} federated credentials per app, and a stack's credentials are never split between apps.`),
    h(
      "ol",
      { class: "apps" },
      apps.map((app) =>
        h(
          "li",
          { class: "app", dataset: { uniqueName: app.unique_name, credentials: app.credentials.length } },
          h("p", { class: "app-name" }, h("code", null, app.unique_name), h("span", { class: "app-count" }, `${app.credentials.length} of ${MAX_PER_APP}`)),
          h("p", { class: "app-display" }, app.display_name),
          h("p", { class: "app-reason" }, h("span", { class: "why" }, "Why: "), ...rich(app.reason)),
          h("ul", { class: "app-targets" }, app.targets.map((t) => h("li", null, t.label, h("span", { class: "muted" }, ` · ${plural(t.credentials.length, "credential")}`)))),
        ),
      ),
    ),
  );
}

function oneAppNote(apps) {
  if (apps.length !== 1) return null;
  const app = apps[0];
  return h(
    "p",
    { class: "hint", id: "d-plan-note", dataset: { uniqueName: app.unique_name } },
    `They fit in one app (at most ${MAX_PER_APP} each): `,
    h("code", null, app.unique_name),
    ".",
  );
}

// ───────────────────────── ESC ─────────────────────────

function attributeRows() {
  return $$("#e-attrs > li");
}

function makeAttributeRow(attr, checked) {
  const id = `e-attr-${++copySeq}`;
  const known = ATTRIBUTES.includes(attr);
  return h(
    "li",
    { class: `attr-row${known ? "" : " attr-unknown"}`, dataset: { attr } },
    h("span", { class: "attr-order", "aria-hidden": "true" }),
    h(
      "label",
      { class: "check attr-label", for: id },
      h("input", { type: "checkbox", name: "e-attr", id, value: attr, checked }),
      h("span", { class: "attr-text" }, h("code", null, ...attr.split(".").flatMap((part, i) => (i ? [".", h("wbr"), part] : [part]))), h("span", { class: "attr-hint" }, known ? ATTRIBUTE_HINTS[attr] : "not a known attribute (from the link)")),
    ),
    h(
      "span",
      { class: "attr-move" },
      h("button", { type: "button", class: "icon-button", dataset: { move: "up" }, "aria-label": `Move ${attr} up` }, h("span", { "aria-hidden": "true" }, "↑")),
      h("button", { type: "button", class: "icon-button", dataset: { move: "down" }, "aria-label": `Move ${attr} down` }, h("span", { "aria-hidden": "true" }, "↓")),
    ),
  );
}

/** Rows: the chosen attributes in order, then the others unchecked. */
function setAttributes(chosen) {
  const rows = chosen.map((a) => makeAttributeRow(a, true));
  for (const a of ATTRIBUTES) if (!chosen.includes(a)) rows.push(makeAttributeRow(a, false));
  byId("e-attrs").replaceChildren(...rows);
  refreshAttributeRows();
}

function refreshAttributeRows() {
  const useDefault = byId("e-form-default").checked;
  const rows = attributeRows();
  let n = 0;
  rows.forEach((row, i) => {
    const box = $("input", row);
    box.disabled = useDefault;
    row.classList.toggle("checked", box.checked);
    $(".attr-order", row).textContent = box.checked && !useDefault ? String(++n) : "";
    $('[data-move="up"]', row).disabled = useDefault || i === 0;
    $('[data-move="down"]', row).disabled = useDefault || i === rows.length - 1;
  });
  byId("e-attrs").classList.toggle("disabled", useDefault);
}

function moveAttribute(button) {
  const row = button.closest("li");
  const list = row.parentElement;
  const up = button.dataset.move === "up";
  const sibling = up ? row.previousElementSibling : row.nextElementSibling;
  if (!sibling) return;
  if (up) list.insertBefore(row, sibling);
  else list.insertBefore(sibling, row);
  refreshAttributeRows();
  const again = $(`[data-move="${up ? "up" : "down"}"]`, row);
  (again.disabled ? $(`[data-move="${up ? "down" : "up"}"]`, row) : again).focus();
  const attr = row.dataset.attr;
  const position = attributeRows().indexOf(row) + 1;
  announce(`${attr} moved to position ${position}`);
  schedule("e");
}

function readEsc() {
  const useDefault = byId("e-form-default").checked;
  return {
    org: val("e-org"),
    project: val("e-project"),
    env: val("e-env"),
    useDefault,
    attrs: attributeRows().map((r) => $("input", r)).filter((c) => c.checked).map((c) => c.value),
    user: val("e-user"),
    rootEnv: val("e-root"),
    yaml: byId("e-yaml").checked,
    issuer: val("e-issuer"),
    client: val("e-client"),
    tenant: val("e-tenant"),
    subscription: val("e-subscription"),
  };
}

function escField(s) {
  return (e) => {
    const message = String(e.message);
    const quoted = quotedValue(message);
    switch (e.code) {
      case 1001: return "e-org";
      case 1004: return quoted !== s.project && s.rootEnv ? "e-root" : "e-project";
      case 1005: return quoted !== s.env && s.rootEnv ? "e-root" : "e-env";
      case 1007: return "e-issuer";
      case 1010: return "e-attrs";
      case 1011: return /rootEnvironment/.test(message) ? "e-root" : /user/.test(message) ? "e-user" : "e-attrs";
      case 1012: return "e-user";
      case 1015: return /client/.test(message) ? "e-client" : /subscription/.test(message) ? "e-subscription" : "e-tenant";
      default: return "e-form";
    }
  };
}

function computeEsc() {
  const s = readEsc();
  clearFieldErrors(byId("e-form"));
  refreshAttributeRows();
  const attributes = s.useDefault ? [] : s.attrs;
  const spec = {
    kind: "esc",
    org: s.org || "contoso",
    project: s.project || "project",
    env: s.env || "env",
    subjectAttributes: attributes,
  };
  if (s.user) spec.user = s.user;
  if (s.rootEnv) spec.rootEnv = s.rootEnv;
  if (s.yaml) spec.includeYamlSubject = true;
  if (s.issuer) spec.issuer = s.issuer;
  let result;
  try {
    result = core(credentials, spec);
  } catch (e) {
    return failWith("e", e, escField(s));
  }
  const missing = [];
  if (!s.org) missing.push("an organization");
  if (!s.project) missing.push("a project");
  if (!s.env) missing.push("an environment");
  if (missing.length) return settle("e", "empty", `Enter ${listText(missing)}.`);

  const entry = { project: s.project, env: s.env, subjectAttributes: attributes };
  if (s.user) entry.user = s.user;
  if (s.rootEnv) entry.rootEnv = s.rootEnv;
  if (s.yaml) entry.includeYamlSubject = true;
  const config = { org: s.org };
  if (s.issuer) config.issuer = s.issuer;
  config.esc = [entry];
  let yaml;
  try {
    yaml = core(render, JSON.stringify(config), "esc", {
      clientId: s.client,
      tenantId: s.tenant,
      subscriptionId: s.subscription,
    });
  } catch (e) {
    return failWith("e", e, escField(s));
  }

  const creds = result.credentials;
  const issuer = creds[0].issuer;
  const audience = creds[0].audiences[0];
  const legacy = s.project === "default";
  const warnings = [...result.warnings];
  const formNote =
    s.useDefault
      ? "Pulumi's default subject: no subjectAttributes in the environment."
      : attributes.length === 0
        ? "No attribute chosen: this is Pulumi's default subject."
        : `subjectAttributes: [${attributes.join(", ")}]`;

  const content = [
    factsBlock(
      "e-facts",
      issuer,
      audience,
      h(
        "p",
        { class: `hint${legacy ? " legacy" : ""}`, id: "e-audience-note" },
        ...(legacy
          ? ["The legacy ", h("code", null, "default"), " project: its tokens carry the plain organization name, without the ", h("code", null, "azure:"), " prefix other projects use."]
          : ["ESC tokens carry ", h("code", null, "azure:<org>"), ". Only environments in the legacy ", h("code", null, "default"), " project use the plain organization name."]),
      ),
      codeBlock("e-subjects", creds.length === 1 ? "Subject" : `Subjects (${creds.length})`, creds.map((c) => c.subject).join("\n"), formNote),
    ),
    warningsList("e-warnings", warnings),
    block(`Credentials (${creds.length})`, "e-credentials-block", credentialsTable("e-credentials", creds, `Federated identity credentials for ${result.target}`)),
    block(
      "In the Azure portal",
      "e-portal",
      h(
        "p",
        { class: "hint" },
        "App registrations → your app → Certificates & secrets → Federated credentials → Add credential, scenario ",
        h("strong", null, "Other issuer"),
        ", type ",
        h("strong", null, "Explicit subject identifier"),
        ":",
      ),
      creds.map((c) =>
        h(
          "dl",
          { class: "portal", dataset: { name: c.name } },
          portalRow("Issuer", c.issuer, "issuer"),
          portalRow("Subject identifier", c.subject, "subject"),
          portalRow("Name", c.name, "name"),
          portalRow("Description", c.description, "description"),
          portalRow("Audience", c.audiences[0], "audience", ["Under ", h("em", null, "Credential details"), ", replace the default ", h("code", null, "api://AzureADTokenExchange"), "."]),
        ),
      ),
    ),
    block(
      "ESC environment YAML",
      "e-yaml-block",
      codeBlock("e-render-esc", `${s.project}/${s.env}`, yaml, s.client ? null : "Add the app's client id (and tenant and subscription) to fill in the placeholders."),
    ),
  ];
  settle("e", "ok", `${plural(creds.length, "federated credential")} for ${result.target}.`, content);
}

function portalRow(label, value, field, note) {
  return h(
    "div",
    { class: "portal-row" },
    h("dt", null, label),
    h("dd", { dataset: { field } }, copyValue(label, value), note ? h("p", { class: "hint" }, ...note) : null),
  );
}

// ───────────────────────── Diagnose: a token ─────────────────────────

function checkAtSeconds() {
  const at = byId("x-at").value;
  if (!at) return { seconds: Math.floor(Date.now() / 1000), chosen: false };
  const ms = new Date(at).getTime();
  return { seconds: Number.isNaN(ms) ? NaN : Math.floor(ms / 1000), chosen: true };
}

function tokenField(e) {
  const message = String(e.message);
  switch (e.code) {
    case 2001: return "x-token";
    case 2002: return "x-credentials";
    case 2004: return "x-at";
    case 1021: return /credential/.test(message) ? "x-credentials" : "x-token";
    default: return "x-token-form";
  }
}

function computeToken() {
  clearFieldErrors(byId("x-token-form"));
  const token = raw("x-token").trim();
  const list = raw("x-credentials");
  const at = checkAtSeconds();
  byId("x-at-hint").textContent = at.chosen
    ? Number.isNaN(at.seconds) ? "" : `That is ${isoTime(at.seconds)} (UTC).`
    : `Empty: the current time (now ${isoTime(at.seconds)}).`;
  if (at.chosen && Number.isNaN(at.seconds)) {
    return fail("xt", "x-at", { message: "invalid time: expected a date and a time" });
  }
  if (!token) return settle("xt", "empty", "Paste a Pulumi OIDC token (a JWT).");
  let d;
  try {
    d = core(diagnoseToken, token, list.trim() ? list : null, at.seconds);
  } catch (e) {
    return failWith("xt", e, tokenField);
  }
  const claims = d.claims;
  const first = d.candidates[0];
  const differing = new Set((first?.differences || []).map((x) => x.field));
  const state = d.accepted ? "ok" : d.checked_credentials ? "bad" : "info";
  const title = d.accepted
    ? ["Accepted", d.matched ? [" by ", h("code", null, d.matched)] : ""]
    : d.checked_credentials || d.aadsts != null
      ? ["Refused", d.aadsts != null ? ` · AADSTS${d.aadsts}` : ""]
      : ["Decoded", " · no credential list to check against"];
  const timeLabel = { valid: "valid", expired: "expired", not_yet_valid: "not yet valid", unknown: "no expiry" }[d.time] ?? d.time;

  const claimRow = (label, field, value, extra) =>
    h(
      "div",
      { class: `claim${differing.has(field) ? " differs" : ""}`, dataset: { claim: field } },
      h("dt", null, label, differing.has(field) ? h("span", { class: "differs-tag" }, " differs") : null),
      h("dd", null, h("code", null, value), extra || null),
    );

  const content = [
    h(
      "div",
      {
        id: "x-verdict",
        class: `verdict verdict-${state}`,
        dataset: {
          accepted: String(d.accepted),
          aadsts: d.aadsts ?? "",
          time: d.time,
          matched: d.matched ?? "",
          checked: String(d.checked_credentials),
        },
      },
      h("p", { class: "verdict-title" }, h("span", { class: "verdict-mark", "aria-hidden": "true" }, state === "ok" ? "✓" : state === "bad" ? "✗" : "i"), ...title.flat()),
      h("p", { class: "verdict-text", id: "x-verdict-text" }, ...rich(verdictText(d.verdict))),
    ),
    block(
      ["Claims ", h("span", { class: "badge badge-warn" }, "unverified")],
      "x-claims-block",
      h("p", { class: "hint" }, "Decoded locally; the signature is not checked."),
      h(
        "dl",
        { class: "claims", id: "x-claims" },
        claimRow("Issuer", "issuer", claims.issuer),
        claimRow("Subject", "subject", claims.subject),
        claimRow(claims.audiences.length === 1 ? "Audience" : "Audiences", "audience", claims.audiences.join(", ")),
        claimRow(
          "Expires",
          "expires",
          claims.expires_at != null ? isoTime(claims.expires_at) : "—",
          h("span", { class: `chip chip-time chip-${d.time}` }, `${timeLabel} at ${isoTime(d.checked_at)}`),
        ),
        claims.not_before != null ? claimRow("Not before", "not_before", isoTime(claims.not_before)) : null,
        claims.issued_at != null ? claimRow("Issued", "issued_at", isoTime(claims.issued_at)) : null,
        h("div", { class: "claim", dataset: { claim: "from" } }, h("dt", null, "From"), h("dd", { class: "prose" }, ...rich(d.subject_description))),
      ),
    ),
    d.candidates.length
      ? block(
          "Closest credentials",
          "x-candidates",
          d.candidates.map((c) =>
            h(
              "div",
              { class: "candidate", dataset: { name: c.name, kinds: c.differences.map((x) => x.kind).join(" ") } },
              h("p", { class: "candidate-name" }, h("code", null, c.name)),
              c.differences.map((diff) => {
                const [tok, cred] = diffParts(diff.token, diff.credential);
                return h(
                  "div",
                  { class: "difference", dataset: { field: diff.field, kind: diff.kind } },
                  h("p", { class: "difference-head" }, h("span", { class: "difference-field" }, diff.field), " ", h("span", { class: "chip" }, diff.kind.replace(/_/g, " "))),
                  h("p", { class: "difference-text" }, ...rich(diff.explanation)),
                  h(
                    "div",
                    { class: "compare" },
                    h("div", { class: "side" }, h("span", { class: "side-label" }, "Token"), highlighted(tok, "value-token")),
                    h("div", { class: "side" }, h("span", { class: "side-label" }, "Credential"), highlighted(cred, "value-credential")),
                  ),
                );
              }),
            ),
          ),
        )
      : null,
    d.fix ? fixBlock("x-fix", d.fix, d.fix_action, d.fix_command) : null,
    d.notes.length ? h("ul", { class: "notes", id: "x-notes" }, d.notes.map((n) => h("li", null, h("span", { class: "warning-label" }, "Note"), " ", ...rich(n)))) : null,
  ];
  const summary = d.accepted
    ? `Accepted${d.matched ? ` by ${d.matched}` : ""}.`
    : d.aadsts != null
      ? `Refused: AADSTS${d.aadsts}. ${d.fix ? (d.fix_action === "update" ? `Correct credential ${d.fix.name}.` : `Add credential ${d.fix.name}.`) : ""}`
      : `Decoded. ${d.fix ? `Credential ${d.fix.name} accepts it.` : ""}`;
  settle("xt", "ok", summary.trim(), content, "neutral");
}

/** The verdict without the "refused (AADSTS…): " the title already says. */
function verdictText(verdict) {
  const rest = String(verdict).replace(/^(?:refused|accepted)(?: \(AADSTS\d+\))?: /, "");
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

function fixBlock(id, fix, action, command) {
  const update = action === "update";
  return block(
    update ? ["Correct credential ", h("code", null, fix.name), " to"] : ["The credential that accepts this token"],
    id,
    h("div", { class: "fix", id: `${id}-data`, dataset: { action: action || "create", name: fix.name, subject: fix.subject, audiences: JSON.stringify(fix.audiences), issuer: fix.issuer } }),
    codeBlock(`${id}-json`, "Credential (JSON)", JSON.stringify(fix, null, 2)),
    codeBlock(`${id}-az`, update ? "az command (update)" : "az command (create)", command, "Replace `<app client id>` with the app's client id or object id."),
  );
}

// ───────────────────────── Diagnose: an AADSTS error ─────────────────────────

function computeAadsts() {
  clearFieldErrors(byId("x-aadsts-form"));
  const text = raw("x-aadsts");
  if (!text.trim()) return settle("xa", "empty", "Paste an error that mentions an `AADSTS` code.");
  let d;
  try {
    d = core(diagnoseError, text);
  } catch (e) {
    return failWith("xa", e, () => "x-aadsts");
  }
  const p = d.presented || {};
  const presentedRows = [
    ["Issuer", "issuer", p.issuer],
    ["Subject", "subject", p.subject],
    ["Audience", "audience", p.audience],
  ].filter(([, , v]) => v != null);
  const ids = [
    d.trace_id ? `trace ${d.trace_id}` : null,
    d.correlation_id ? `correlation ${d.correlation_id}` : null,
    d.timestamp ? `at ${d.timestamp}` : null,
  ].filter(Boolean);

  const content = [
    h(
      "div",
      {
        id: "x-err",
        class: "verdict verdict-bad",
        dataset: { code: d.code, aadsts: d.aadsts, subjectKind: d.subject_kind?.kind ?? "", mayBePropagation: String(Boolean(d.may_be_propagation)) },
      },
      h("p", { class: "verdict-title" }, h("span", { class: "verdict-mark", "aria-hidden": "true" }, "✗"), h("span", { id: "x-err-code" }, d.aadsts)),
      h("p", { class: "verdict-text", id: "x-err-title" }, ...rich(d.title)),
    ),
    presentedRows.length
      ? block(
          "Presented by the token",
          "x-presented-block",
          h(
            "dl",
            { class: "claims", id: "x-presented" },
            presentedRows.map(([label, field, value]) =>
              h("div", { class: "claim" }, h("dt", null, label), h("dd", { dataset: { field } }, h("code", null, value))),
            ),
            d.subject_kind ? h("div", { class: "claim" }, h("dt", null, "From"), h("dd", { dataset: { field: "from" } }, ...rich(d.subject_description))) : null,
          ),
        )
      : null,
    d.details.length
      ? block(
          "Details",
          "x-err-details-block",
          h("dl", { class: "claims", id: "x-err-details" }, d.details.map(({ name, value }) => h("div", { class: "claim" }, h("dt", null, name), h("dd", { dataset: { name } }, h("code", null, value))))),
        )
      : null,
    block("Cause", "x-err-cause-block", h("p", { id: "x-err-cause" }, ...rich(d.cause))),
    block("Fix", "x-err-fix-block", h("ol", { id: "x-err-fix", class: "fix-list" }, d.fix.map((f) => h("li", null, ...rich(f))))),
    d.suggested_credential ? suggestedBlock(d.suggested_credential, d.suggested_command) : null,
    ids.length
      ? h("p", { class: "hint ids", id: "x-err-ids", dataset: { trace: d.trace_id, correlation: d.correlation_id, timestamp: d.timestamp } }, ids.join(" · "))
      : null,
  ];
  settle("xa", "ok", `${d.aadsts}: ${d.title}`, content, "neutral");
}

function suggestedBlock(credential, command) {
  return block(
    "Credential to add",
    "x-err-suggested-block",
    h("div", { class: "fix", id: "x-err-suggested-data", dataset: { name: credential.name, subject: credential.subject, audiences: JSON.stringify(credential.audiences), issuer: credential.issuer } }),
    codeBlock("x-err-suggested", "Credential (JSON)", JSON.stringify(credential, null, 2)),
    codeBlock("x-err-suggested-az", "az command (create)", command, "Replace `<app client id>` with the app's client id or object id."),
  );
}

// ───────────────────────── views (tabs) ─────────────────────────

const VIEWS = ["deployments", "esc", "diagnose"];
let view = "deployments";

function selectView(next, { focus = false } = {}) {
  if (!VIEWS.includes(next)) next = "deployments";
  view = next;
  for (const tab of $$('[role="tab"]')) {
    const selected = tab.dataset.view === next;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    byId(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
}

// ───────────────────────── the URL fragment ─────────────────────────
// Every non-secret input, so a link reproduces the view. Never the token, never the
// error text (it may quote a token's claims and trace ids of a private tenant).

const FRAGMENT_FIELDS = {
  "d.org": "d-org",
  "d.project": "d-project",
  "d.stacks": "d-stacks",
  "d.issuer": "d-issuer",
  "d.role": "d-role",
  "d.scope": "d-scope",
  "d.tenant": "d-tenant",
  "d.sub": "d-subscription",
  "e.org": "e-org",
  "e.project": "e-project",
  "e.env": "e-env",
  "e.user": "e-user",
  "e.root": "e-root",
  "e.issuer": "e-issuer",
  "e.client": "e-client",
  "e.tenant": "e-tenant",
  "e.sub": "e-subscription",
  "x.creds": "x-credentials",
};

let restoring = false;

function fragmentParams() {
  const params = new URLSearchParams();
  if (view !== "deployments") params.set("view", view);
  for (const [key, id] of Object.entries(FRAGMENT_FIELDS)) {
    const value = raw(id);
    if (value.trim() !== "") params.set(key, value);
  }
  const ops = $$("#d-ops-list input").filter((c) => c.checked).map((c) => c.value);
  const defaultOps = ops.length === OPERATIONS.length && OPERATIONS.every((o) => ops.includes(o)) && !$("#d-ops-list [data-extra]");
  if (!defaultOps) params.set("d.ops", ops.join(","));
  if (byId("e-form-default").checked) params.set("e.form", "default");
  else {
    const attrs = readEsc().attrs;
    if (attrs.join(",") !== RECOMMENDED_ATTRIBUTES.join(",")) params.set("e.attrs", attrs.join(","));
  }
  if (byId("e-yaml").checked) params.set("e.yaml", "1");
  const at = checkAtSeconds();
  if (at.chosen && !Number.isNaN(at.seconds)) params.set("x.at", isoTime(at.seconds));
  return params;
}

function writeFragment() {
  if (restoring) return;
  const query = fragmentParams().toString();
  const url = `${location.pathname}${location.search}${query ? `#${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, "", url);
}

function setOperations(list) {
  for (const extra of $$("#d-ops-list [data-extra]")) extra.closest("label").remove();
  for (const box of $$("#d-ops-list input")) box.checked = list.includes(box.value);
  for (const op of list) {
    if (OPERATIONS.includes(op) || op === "") continue;
    $("#d-ops-list").append(
      h("label", { class: "check extra" }, h("input", { type: "checkbox", name: "d-op", value: op, checked: true, "data-extra": "" }), ` ${op} `, h("span", { class: "muted" }, "(from the link)")),
    );
  }
}

function localInputValue(seconds) {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function restoreFragment() {
  restoring = true;
  try {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    for (const [key, id] of Object.entries(FRAGMENT_FIELDS)) byId(id).value = params.get(key) ?? "";
    setOperations(params.has("d.ops") ? params.get("d.ops").split(",").map((s) => s.trim()) : OPERATIONS);
    byId("e-form-default").checked = params.get("e.form") === "default";
    byId("e-form-attributes").checked = !byId("e-form-default").checked;
    const attrs = params.has("e.attrs")
      ? params.get("e.attrs").split(",").map((s) => s.trim()).filter(Boolean)
      : RECOMMENDED_ATTRIBUTES;
    setAttributes(attrs);
    byId("e-yaml").checked = params.get("e.yaml") === "1";
    const at = params.get("x.at");
    byId("x-at").value = at ? localInputValue(Date.parse(at) / 1000) : "";
    // Secrets are never restored: not from the link, not from the browser's form memory.
    byId("x-token").value = "";
    byId("x-aadsts").value = "";
    selectView(params.get("view") ?? "deployments");
  } finally {
    restoring = false;
  }
}

// ───────────────────────── copy ─────────────────────────

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older browsers, or a page without clipboard permission: a hidden textarea.
    const area = h("textarea", { class: "visually-hidden", readonly: true, "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

async function onCopy(button) {
  const text = button.dataset.copyTarget != null ? byId(button.dataset.copyTarget)?.textContent ?? "" : button.dataset.copyText ?? "";
  const ok = await copyText(text);
  const label = $(".copy-label", button);
  label.textContent = ok ? "Copied" : "Copy failed";
  button.classList.toggle("copied", ok);
  button.classList.toggle("copy-failed", !ok);
  announce(ok ? "Copied" : "Copy failed: select the text and copy it by hand");
  clearTimeout(button._reset);
  button._reset = setTimeout(() => {
    label.textContent = "Copy";
    button.classList.remove("copied", "copy-failed");
  }, 2000);
}

// ───────────────────────── examples ─────────────────────────

function fillDeploymentsExample() {
  for (const id of ["d-issuer", "d-role", "d-scope", "d-tenant", "d-subscription"]) byId(id).value = "";
  byId("d-org").value = "contoso";
  byId("d-project").value = "core";
  byId("d-stacks").value = "dev";
  setOperations(OPERATIONS);
  schedule("d", 0);
  byId("d-org").focus();
}

function fillEscExample() {
  for (const id of ["e-user", "e-root", "e-issuer", "e-client", "e-tenant", "e-subscription"]) byId(id).value = "";
  byId("e-org").value = "contoso";
  byId("e-project").value = "azure";
  byId("e-env").value = "prod";
  byId("e-form-attributes").checked = true;
  byId("e-yaml").checked = false;
  setAttributes(RECOMMENDED_ATTRIBUTES);
  schedule("e", 0);
  byId("e-org").focus();
}

function fillDiagnoseExample() {
  byId("x-token").value = EXAMPLE_TOKEN;
  byId("x-credentials").value = EXAMPLE_CREDENTIALS;
  byId("x-at").value = "";
  byId("x-aadsts").value = EXAMPLE_ERROR;
  schedule("xt", 0);
  schedule("xa", 0);
  byId("x-token").focus();
}

// ───────────────────────── wiring ─────────────────────────

function sectionOf(el) {
  const form = el.closest("form");
  if (!form) return null;
  return Object.entries(SECTIONS).find(([, s]) => s.form === form.id)?.[0] ?? null;
}

function wire() {
  document.addEventListener("input", (event) => {
    const key = sectionOf(event.target);
    if (!key) return;
    if (key === "e") refreshAttributeRows();
    schedule(key);
  });
  document.addEventListener("change", (event) => {
    const key = sectionOf(event.target);
    if (key) schedule(key);
  });
  for (const form of $$("form")) form.addEventListener("submit", (event) => event.preventDefault());

  document.addEventListener("click", (event) => {
    const copy = event.target.closest("button.copy");
    if (copy) return void onCopy(copy);
    const move = event.target.closest("button[data-move]");
    if (move) return void moveAttribute(move);
    const tab = event.target.closest('[role="tab"]');
    if (tab) {
      selectView(tab.dataset.view);
      writeFragment();
    }
  });

  $('[role="tablist"]').addEventListener("keydown", (event) => {
    const tabs = $$('[role="tab"]');
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next == null) return;
    event.preventDefault();
    selectView(tabs[next].dataset.view, { focus: true });
    writeFragment();
  });

  byId("d-example").addEventListener("click", fillDeploymentsExample);
  byId("e-example").addEventListener("click", fillEscExample);
  byId("x-example").addEventListener("click", fillDiagnoseExample);
  byId("x-now").addEventListener("click", () => {
    byId("x-at").value = localInputValue(Math.floor(Date.now() / 1000));
    schedule("xt", 0);
  });
  byId("fatal-reload").addEventListener("click", () => location.reload());

  window.addEventListener("hashchange", () => {
    restoreFragment();
    runAll();
  });
  window.addEventListener("error", (event) => {
    if (isPanic(event.error)) fatal("Something went wrong inside the calculator.", `(${event.error.name}: ${event.error.message})`);
  });
  window.addEventListener("unhandledrejection", (event) => {
    if (isPanic(event.reason)) fatal("Something went wrong inside the calculator.", `(${event.reason.name}: ${event.reason.message})`);
  });
}

async function main() {
  wire();
  restoreFragment();
  try {
    await init();
  } catch (e) {
    fatal("The calculator could not load its WebAssembly module.", `(${e?.name ?? "Error"}: ${e?.message ?? e})`);
    return;
  }
  wasmReady = true;
  byId("loading").hidden = true;
  document.documentElement.dataset.ready = "true";
  byId("version").textContent = version();
  runAll();
}

main();
