// Small DOM and text helpers. h() and rich() put every value in the page as text
// (textContent, text nodes, attributes), never as HTML: values come from inputs and tokens.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
export const byId = (id) => document.getElementById(id);

/** Create an element: props are attributes (class, dataset, text handled specially). */
export function h(tag, props, ...children) {
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
export function rich(text) {
  const parts = String(text).split("`");
  if (parts.length % 2 === 0) return [String(text)]; // unbalanced: leave as it is
  return parts.map((part, i) => (i % 2 ? h("code", null, part) : part)).filter((p) => p !== "");
}

export const raw = (id) => byId(id).value;
export const val = (id) => byId(id).value.trim();
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
export const listText = (items) =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
export const isoTime = (seconds) => {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().replace(".000Z", "Z");
};

export function announce(message) {
  const region = byId("announce");
  region.textContent = "";
  // A separate task, so an identical message is announced again.
  setTimeout(() => {
    region.textContent = message;
  }, 30);
}
