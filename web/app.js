// The calculator page: reads the forms, calls the core (WebAssembly), shows the results.
// No framework, no network beyond this page's own files, and no build step to work on
// it: web/ runs as written; the shipped page is these files bundled and minified
// (`cargo xtask page`). Every value that comes from an input or a token is put in the
// page as text, never as HTML.
//
// This entry loads the core, then wires the page's events to the modules in js/:
// one view each (deployments, esc, diagnose), and what they share.

import { $, $$, byId } from "./js/dom.js";
import { init, isPanic, loadConstants, version } from "./js/kit.js";
import { sectionOf } from "./js/sections.js";
import { fatal, status } from "./js/guard.js";
import { onCopy } from "./js/blocks.js";
import { moveAttribute, refreshAttributeRows } from "./js/esc.js";
import { localInputValue } from "./js/diagnose.js";
import { selectView } from "./js/tabs.js";
import { restoreFragment, writeFragment } from "./js/fragment.js";
import { runAll, schedule } from "./js/schedule.js";
import { fillDeploymentsExample, fillDiagnoseExample, fillEscExample } from "./js/examples.js";

function wire() {
  document.addEventListener("input", (event) => {
    const key = sectionOf(event.target);
    if (!key) return;
    if (key === "e") refreshAttributeRows();
    schedule(key);
  });
  document.addEventListener("change", (event) => {
    const key = sectionOf(event.target);
    if (key) schedule(key);
  });
  for (const form of $$("form")) form.addEventListener("submit", (event) => event.preventDefault());

  document.addEventListener("click", (event) => {
    const copy = event.target.closest("button.copy");
    if (copy) return void onCopy(copy);
    const move = event.target.closest("button[data-move]");
    if (move) {
      if (moveAttribute(move)) schedule("e");
      return;
    }
    const tab = event.target.closest('[role="tab"]');
    if (tab) {
      selectView(tab.dataset.view);
      writeFragment();
    }
  });

  $('[role="tablist"]').addEventListener("keydown", (event) => {
    const tabs = $$('[role="tab"]');
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next == null) return;
    event.preventDefault();
    selectView(tabs[next].dataset.view, { focus: true });
    writeFragment();
  });

  byId("d-example").addEventListener("click", fillDeploymentsExample);
  byId("e-example").addEventListener("click", fillEscExample);
  byId("x-example").addEventListener("click", fillDiagnoseExample);
  byId("x-now").addEventListener("click", () => {
    byId("x-at").value = localInputValue(Math.floor(Date.now() / 1000));
    schedule("xt", 0);
  });
  byId("fatal-reload").addEventListener("click", () => location.reload());

  window.addEventListener("hashchange", () => {
    restoreFragment();
    runAll();
  });
  window.addEventListener("error", (event) => {
    if (isPanic(event.error)) fatal("Something went wrong inside the calculator.", `(${event.error.name}: ${event.error.message})`);
  });
  window.addEventListener("unhandledrejection", (event) => {
    if (isPanic(event.reason)) fatal("Something went wrong inside the calculator.", `(${event.reason.name}: ${event.reason.message})`);
  });
}

async function main() {
  // The forms need the core's constants (operations, attributes), so nothing is wired
  // or restored before the module has loaded.
  try {
    await init();
    loadConstants();
  } catch (e) {
    fatal("The calculator could not load its WebAssembly module.", `(${e?.name ?? "Error"}: ${e?.message ?? e})`);
    return;
  }
  wire();
  restoreFragment();
  status.ready = true;
  byId("loading").hidden = true;
  document.documentElement.dataset.ready = "true";
  byId("version").textContent = version();
  runAll();
}

main();
