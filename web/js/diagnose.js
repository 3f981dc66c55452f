// The Diagnose view: why Azure refused a token (decoded locally, checked against a
// credential list at a chosen time), and what an AADSTS error body means.

import { byId, h, isoTime, raw, rich } from "./dom.js";
import { CODE, diagnoseError, diagnoseToken } from "./kit.js";
import { settle } from "./sections.js";
import { clearFieldErrors, fail, failWith } from "./errors.js";
import { core } from "./guard.js";
import { block, codeBlock } from "./blocks.js";

// ───────────────────────── a token ─────────────────────────

/** The time to check the token at: the chosen one, or now. */
export function checkAtSeconds() {
  const at = byId("x-at").value;
  if (!at) return { seconds: Math.floor(Date.now() / 1000), chosen: false };
  const ms = new Date(at).getTime();
  return { seconds: Number.isNaN(ms) ? NaN : Math.floor(ms / 1000), chosen: true };
}

/** Seconds as a datetime-local input's value (local time, no zone). */
export function localInputValue(seconds) {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function tokenField(e) {
  const message = String(e.message);
  switch (e.code) {
    case CODE.malformed_token: return "x-token";
    case CODE.malformed_credential_list: return "x-credentials";
    case CODE.invalid_time: return "x-at";
    case CODE.input_too_large: return /credential/.test(message) ? "x-credentials" : "x-token";
    default: return "x-token-form";
  }
}

export function computeToken() {
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

// ───────────────────────── an AADSTS error ─────────────────────────

export function computeAadsts() {
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
    // A paste with several errors: each of the others, diagnosed as briefly.
    d.also?.length
      ? block(
          `${d.also.length} more in this text`,
          "x-err-also-block",
          h(
            "ol",
            { id: "x-err-also" },
            d.also.map((o) =>
              h(
                "li",
                { dataset: { code: o.code } },
                h("p", null, h("strong", null, o.aadsts), ": ", ...rich(o.title)),
                h("p", null, ...rich(o.cause)),
                h("ul", { class: "fix-list" }, o.fix.map((f) => h("li", null, ...rich(f)))),
              ),
            ),
          ),
        )
      : null,
  ];
  const more = d.also?.length ? ` (and ${d.also.length} more)` : "";
  settle("xa", "ok", `${d.aadsts}: ${d.title}${more}`, content, "neutral");
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
