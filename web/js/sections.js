// The page's four result sections (Deployments, ESC, a token, an AADSTS error): their
// element ids, and how a section shows its outcome.

import { $$, byId, rich } from "./dom.js";

export const SECTIONS = {
  d: { form: "d-form", results: "d-results", summary: "d-summary", output: "d-output" },
  e: { form: "e-form", results: "e-results", summary: "e-summary", output: "e-output" },
  xt: { form: "x-token-form", results: "x-token-results", summary: "x-token-summary", output: "x-token-output" },
  xa: { form: "x-aadsts-form", results: "x-aadsts-results", summary: "x-aadsts-summary", output: "x-aadsts-output" },
};

/** The section whose form holds `el`, or null. */
export function sectionOf(el) {
  const form = el.closest("form");
  if (!form) return null;
  return Object.entries(SECTIONS).find(([, s]) => s.form === form.id)?.[0] ?? null;
}

/** The section's outcome: ok (output shown), error (none), empty (waiting for input). */
export function settle(key, state, summary, content, tone = state) {
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
