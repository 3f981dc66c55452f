// Calls into the core, guarded: a panic (RuntimeError: unreachable) leaves the module in
// an unknown state, so the first one stops the whole calculator and asks for a reload.

import { byId } from "./dom.js";
import { isPanic } from "./kit.js";
import { SECTIONS } from "./sections.js";

/** ready: the module loaded and the page is wired; broken: a panic (or no module). */
export const status = { ready: false, broken: false };

/** Thrown instead of a result once the calculator has stopped; callers just give up. */
export class Broken extends Error {}

/** Call a core function; a panic (RuntimeError: unreachable) poisons the module. */
export function core(fn, ...args) {
  if (status.broken) throw new Broken();
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

export function fatal(title, detail) {
  status.broken = true;
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
