// The Deployments view: an organization, a project and stacks → the federated
// credentials Pulumi Deployments tokens need, the apps they pack into, and the set-up.

import { $, $$, byId, h, listText, plural, raw, rich, val } from "./dom.js";
import { CODE, credentials, kit, plan, render } from "./kit.js";
import { settle } from "./sections.js";
import { clearFieldErrors, fail, failWith } from "./errors.js";
import { core } from "./guard.js";
import { block, codeBlock, credentialsTable, factsBlock, warningsList } from "./blocks.js";

const RENDERS = [
  { format: "az", title: "az script", note: "bash; upserts the apps, credentials and role assignments, enables OIDC in each stack's deployment settings. Safe to re-run.", open: true },
  { format: "pulumi-python", title: "Pulumi program (Python)", note: "pulumi-azuread and pulumi-azure-native." },
  { format: "pulumi-typescript", title: "Pulumi program (TypeScript)", note: "@pulumi/azuread and @pulumi/azure-native." },
  { format: "requests", title: "Requests an apply sends", note: "Every Graph, ARM and Pulumi Cloud request of a first apply, in order, with its body; ids Azure assigns are placeholders." },
  { format: "json", title: "JSON request bodies", note: "Graph and ARM bodies: applications, credentials, role assignments, deployment settings." },
];

function stackLines() {
  return raw("d-stacks")
    .split("\n")
    .map((text, i) => ({ value: text.trim(), line: i + 1 }))
    .filter((l) => l.value !== "");
}

/** The ticked operations, in the order of the list (extras from a link included). */
export function checkedOperations() {
  return $$("#d-ops-list input").filter((c) => c.checked).map((c) => c.value);
}

/** Tick exactly `list`; an operation the page does not know (from a link) gets its own box. */
export function setOperations(list) {
  for (const extra of $$("#d-ops-list [data-extra]")) extra.closest("label").remove();
  for (const box of $$("#d-ops-list input")) box.checked = list.includes(box.value);
  for (const op of list) {
    if (kit.operations.includes(op) || op === "") continue;
    $("#d-ops-list").append(
      h("label", { class: "check extra" }, h("input", { type: "checkbox", name: "d-op", value: op, checked: true, "data-extra": "" }), ` ${op} `, h("span", { class: "muted" }, "(from the link)")),
    );
  }
}

function readDeployments() {
  return {
    org: val("d-org"),
    project: val("d-project"),
    stacks: stackLines(),
    ops: checkedOperations(),
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
    case CODE.invalid_org: return "d-org";
    case CODE.invalid_project: return "d-project";
    case CODE.invalid_stack: case CODE.duplicate_target: case CODE.empty_target: return "d-stacks";
    case CODE.invalid_issuer: return "d-issuer";
    case CODE.invalid_operation: return "d-ops";
    case CODE.invalid_role: return "d-role";
    case CODE.invalid_scope: return "d-scope";
    case CODE.invalid_guid: return /subscription/.test(message) ? "d-subscription" : "d-tenant";
    default: return "d-form";
  }
}

export function computeDeployments() {
  const s = readDeployments();
  clearFieldErrors(byId("d-form"));
  const { operations } = kit;
  const allOps = s.ops.length === operations.length && operations.every((op) => s.ops.includes(op));

  if (s.ops.length === 0) {
    const choices = `${operations.slice(0, -1).join(", ")} or ${operations[operations.length - 1]}`;
    return fail("d", "d-ops", { message: `choose at least one operation: ${choices}` });
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
      const prefix = e.code === CODE.invalid_stack && s.stacks.length > 1 ? `line ${line}: ` : "";
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
    // A duplicate names its target, so the stacks field is the one to mark.
    return failWith("d", e, deploymentsField);
  }

  const creds = perStack.flatMap((r) => r.credentials);
  const warnings = [...new Set([...perStack.flatMap((r) => r.warnings), ...(planned.warnings || [])])];
  const issuer = creds[0]?.issuer ?? kit.defaultIssuer;
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
    creds.length > kit.maxPerApp ? appsBlock(apps, creds.length) : null,
    block(
      `Credentials (${creds.length})`,
      "d-credentials-block",
      credentialsTable("d-credentials", creds, `Federated identity credentials for ${target}`),
      creds.length > kit.maxPerApp ? null : oneAppNote(apps),
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
  const max = kit.maxPerApp;
  return block(
    `Apps (${apps.length})`,
    "d-plan",
    h("p", null, `These ${total} credentials need ${plural(apps.length, "app")}: Azure allows at most ${max} federated credentials per app, and a stack's credentials are never split between apps.`),
    h(
      "ol",
      { class: "apps" },
      apps.map((app) =>
        h(
          "li",
          { class: "app", dataset: { uniqueName: app.unique_name, credentials: app.credentials.length } },
          h("p", { class: "app-name" }, h("code", null, app.unique_name), h("span", { class: "app-count" }, `${app.credentials.length} of ${max}`)),
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
    `They fit in one app (at most ${kit.maxPerApp} each): `,
    h("code", null, app.unique_name),
    ".",
  );
}
