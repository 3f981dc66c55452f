// The URL fragment: every non-secret input, so a link reproduces the view. Never the
// token, never the error text (it may quote a token's claims and trace ids of a private
// tenant).

import { $, byId, isoTime, raw } from "./dom.js";
import { kit } from "./kit.js";
import { currentView, selectView } from "./tabs.js";
import { checkedOperations, setOperations } from "./deployments.js";
import { readEsc, setAttributes } from "./esc.js";
import { checkAtSeconds, localInputValue } from "./diagnose.js";

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

// While the fields are being filled from the fragment, the half-restored state must
// not be written back over it.
let restoring = false;

function fragmentParams() {
  const params = new URLSearchParams();
  const view = currentView();
  if (view !== "deployments") params.set("view", view);
  for (const [key, id] of Object.entries(FRAGMENT_FIELDS)) {
    const value = raw(id);
    if (value.trim() !== "") params.set(key, value);
  }
  const ops = checkedOperations();
  const all = kit.operations;
  const defaultOps = ops.length === all.length && all.every((o) => ops.includes(o)) && !$("#d-ops-list [data-extra]");
  if (!defaultOps) params.set("d.ops", ops.join(","));
  if (byId("e-form-default").checked) params.set("e.form", "default");
  else {
    const attrs = readEsc().attrs;
    if (attrs.join(",") !== kit.recommendedAttributes.join(",")) params.set("e.attrs", attrs.join(","));
  }
  if (byId("e-yaml").checked) params.set("e.yaml", "1");
  const at = checkAtSeconds();
  if (at.chosen && !Number.isNaN(at.seconds)) params.set("x.at", isoTime(at.seconds));
  return params;
}

export function writeFragment() {
  if (restoring) return;
  const query = fragmentParams().toString();
  const url = `${location.pathname}${location.search}${query ? `#${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, "", url);
}

export function restoreFragment() {
  restoring = true;
  try {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    for (const [key, id] of Object.entries(FRAGMENT_FIELDS)) byId(id).value = params.get(key) ?? "";
    setOperations(params.has("d.ops") ? params.get("d.ops").split(",").map((s) => s.trim()) : kit.operations);
    byId("e-form-default").checked = params.get("e.form") === "default";
    byId("e-form-attributes").checked = !byId("e-form-default").checked;
    const attrs = params.has("e.attrs")
      ? params.get("e.attrs").split(",").map((s) => s.trim()).filter(Boolean)
      : kit.recommendedAttributes;
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
