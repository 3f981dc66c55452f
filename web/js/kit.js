// The core (WebAssembly) as the page sees it: its functions, its constants, and what
// its errors look like. The page restates none of the core's domain values.

import initModule, {
  version,
  constants,
  credentials,
  plan,
  render,
  diagnoseToken,
  diagnoseError,
} from "../pkg/pulumi_azure_oidc_wasm.js";

export { version, credentials, plan, render, diagnoseToken, diagnoseError };

/** Load the module from `pkg/` beside the page. The shipped page bundles the glue into
 *  app.js, where the glue's own default (the file next to itself) would be the page's
 *  root; the page's address is the same in both layouts. */
export const init = () =>
  initModule({ module_or_path: new URL("pkg/pulumi_azure_oidc_wasm_bg.wasm", document.baseURI) });

/** The core's constants, filled by loadConstants() once the module has loaded; read
 *  the fields at call time, never copy them at import time (they are empty until then). */
export const kit = {
  operations: [],
  attributes: [],
  recommendedAttributes: [],
  defaultIssuer: "",
  maxPerApp: 0,
};

/** Error codes by name (`CODE.invalid_org`); one object, filled in place, so every
 *  module that imported it sees the codes. */
export const CODE = {};

export function loadConstants() {
  const k = constants();
  kit.operations = k.operations;
  kit.attributes = k.subject_attributes;
  kit.recommendedAttributes = k.recommended_subject_attributes;
  kit.defaultIssuer = k.default_issuer;
  kit.maxPerApp = k.max_credentials_per_app;
  Object.assign(CODE, Object.fromEntries(k.error_codes.map((e) => [e.name, e.code])));
  // Static text that names a constant (`<span data-const="max_credentials_per_app">`).
  for (const el of document.querySelectorAll("[data-const]")) {
    const value = k[el.dataset.const];
    if (value !== undefined) el.textContent = String(value);
  }
}

export const isOidcError = (e) => e != null && e.name === "OidcError" && typeof e.code === "number";

/** A panic inside the core surfaces as `RuntimeError: unreachable`. */
export const isPanic = (e) =>
  e != null &&
  !isOidcError(e) &&
  ((typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError) ||
    e.name === "RuntimeError" ||
    /\bunreachable\b/.test(String(e.message)));
