// The three views (tabs): which one is on screen.

import { $$, byId } from "./dom.js";

const VIEWS = ["deployments", "esc", "diagnose"];
let view = "deployments";

export const currentView = () => view;

/** Show `next` (an unknown name shows Deployments), hide the others. */
export function selectView(next, { focus = false } = {}) {
  if (!VIEWS.includes(next)) next = "deployments";
  view = next;
  for (const tab of $$('[role="tab"]')) {
    const selected = tab.dataset.view === next;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    byId(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
}
