// When each section recomputes: debounced after typing, at once on demand, and the one
// on screen first. Every run ends by writing the URL fragment.

import { byId } from "./dom.js";
import { SECTIONS } from "./sections.js";
import { Broken, status } from "./guard.js";
import { writeFragment } from "./fragment.js";
import { computeDeployments } from "./deployments.js";
import { computeEsc } from "./esc.js";
import { computeAadsts, computeToken } from "./diagnose.js";

const DEBOUNCE_MS = 150;

const COMPUTE = { d: computeDeployments, e: computeEsc, xt: computeToken, xa: computeAadsts };

const timers = {};

export function schedule(key, delay = DEBOUNCE_MS) {
  const section = SECTIONS[key];
  if (!status.broken) byId(section.results).dataset.state = "pending";
  clearTimeout(timers[key]);
  timers[key] = setTimeout(() => run(key), delay);
}

function run(key) {
  clearTimeout(timers[key]);
  if (!status.ready || status.broken) return;
  try {
    COMPUTE[key]();
  } catch (e) {
    if (!(e instanceof Broken)) throw e;
  }
  writeFragment();
}

export function runAll() {
  // The section on screen first; the others right after, without delaying it.
  const visible = Object.keys(SECTIONS).find((key) => !byId(SECTIONS[key].results)?.closest("[hidden]")) ?? Object.keys(SECTIONS)[0];
  run(visible);
  for (const key of Object.keys(SECTIONS)) if (key !== visible) setTimeout(() => run(key), 0);
}
