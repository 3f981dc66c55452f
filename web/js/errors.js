// Errors shown in the page: a core error (or a page rule) inline next to its field and
// in the section's summary. Messages go in as text; `backticked` parts become <code>.

import { $, $$, byId, h, rich } from "./dom.js";
import { isOidcError } from "./kit.js";
import { settle } from "./sections.js";

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

export function clearFieldErrors(form) {
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
export const quotedValue = (message) => /`([^`]*)`/.exec(String(message))?.[1];

export function fail(key, fieldId, error, prefix = "") {
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
export function failWith(key, e, fieldFor, prefix = "") {
  if (!isOidcError(e)) throw e;
  const fieldId = fieldFor(e);
  fail(key, fieldId, e, prefix);
}
