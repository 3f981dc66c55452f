// The ESC view: an environment and its subject attributes (chosen and ordered) → the
// credential Pulumi ESC tokens need, the portal fields, and the environment's YAML.

import { $, $$, announce, byId, h, listText, plural, val } from "./dom.js";
import { CODE, credentials, kit, render } from "./kit.js";
import { settle } from "./sections.js";
import { clearFieldErrors, failWith, quotedValue } from "./errors.js";
import { core } from "./guard.js";
import { block, codeBlock, copyValue, credentialsTable, factsBlock, warningsList } from "./blocks.js";

const ATTRIBUTE_HINTS = {
  "rootEnvironment.name": "the environment opened first",
  "currentEnvironment.name": "this environment",
  "pulumi.user.login": "the user who opens it",
  "pulumi.organization.login": "the organization",
};

// Rows are rebuilt on every restore, so each checkbox gets an id not used before.
let rowSeq = 0;

function attributeRows() {
  return $$("#e-attrs > li");
}

function makeAttributeRow(attr, checked) {
  const id = `e-attr-${++rowSeq}`;
  const known = kit.attributes.includes(attr);
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
export function setAttributes(chosen) {
  const rows = chosen.map((a) => makeAttributeRow(a, true));
  for (const a of kit.attributes) if (!chosen.includes(a)) rows.push(makeAttributeRow(a, false));
  byId("e-attrs").replaceChildren(...rows);
  refreshAttributeRows();
}

export function refreshAttributeRows() {
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

/** Move a row up or down; true when it moved (the caller recomputes the view). */
export function moveAttribute(button) {
  const row = button.closest("li");
  const list = row.parentElement;
  const up = button.dataset.move === "up";
  const sibling = up ? row.previousElementSibling : row.nextElementSibling;
  if (!sibling) return false;
  if (up) list.insertBefore(row, sibling);
  else list.insertBefore(sibling, row);
  refreshAttributeRows();
  const again = $(`[data-move="${up ? "up" : "down"}"]`, row);
  (again.disabled ? $(`[data-move="${up ? "down" : "up"}"]`, row) : again).focus();
  const attr = row.dataset.attr;
  const position = attributeRows().indexOf(row) + 1;
  announce(`${attr} moved to position ${position}`);
  return true;
}

export function readEsc() {
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
      case CODE.invalid_org: return "e-org";
      case CODE.invalid_esc_project: return quoted !== s.project && s.rootEnv ? "e-root" : "e-project";
      case CODE.invalid_esc_environment: return quoted !== s.env && s.rootEnv ? "e-root" : "e-env";
      case CODE.invalid_issuer: return "e-issuer";
      case CODE.invalid_subject_attribute: return "e-attrs";
      case CODE.missing_attribute_value: return /rootEnvironment/.test(message) ? "e-root" : /user/.test(message) ? "e-user" : "e-attrs";
      case CODE.invalid_user_login: return "e-user";
      case CODE.invalid_guid: return /client/.test(message) ? "e-client" : /subscription/.test(message) ? "e-subscription" : "e-tenant";
      default: return "e-form";
    }
  };
}

export function computeEsc() {
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
