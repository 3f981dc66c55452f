// Pieces of result that more than one section shows: titled blocks, code blocks and
// values with copy buttons, warnings, the credentials table; and what a copy button does.

import { $, announce, byId, h, rich } from "./dom.js";

function copyButton(label, { target, text }) {
  return h(
    "button",
    { type: "button", class: "copy", dataset: { copyTarget: target, copyText: text } },
    h("span", { class: "copy-label" }, "Copy"),
    h("span", { class: "visually-hidden" }, ` ${label}`),
  );
}

/** A <pre> with a title and a copy button. */
export function codeBlock(id, title, text, note) {
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
export function copyValue(label, value, dataset) {
  return h(
    "span",
    { class: "value-with-copy" },
    h("code", { class: "value", dataset }, value),
    copyButton(label, { text: value }),
  );
}

export function block(title, id, ...children) {
  const headingId = `${id}-h`;
  return h("section", { class: "block", id, "aria-labelledby": headingId }, h("h3", { id: headingId }, ...[title].flat()), ...children);
}

export function warningsList(id, warnings) {
  if (!warnings.length) return null;
  return h(
    "ul",
    { class: "warnings", id },
    warnings.map((w) => h("li", { class: "warning" }, h("span", { class: "warning-label" }, "Warning"), " ", ...rich(w))),
  );
}

export function credentialsTable(id, creds, caption) {
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
export function factsBlock(id, issuer, audience, audienceHint, ...rest) {
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

/** A click on a copy button: its target's text (or its own value) to the clipboard. */
export async function onCopy(button) {
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
