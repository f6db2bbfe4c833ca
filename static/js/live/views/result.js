/* The table's result, read-only (the plenary step): its most voted cards
   with their votes and how many people committed. The sheet shows above it. */

import { fill, setText } from "../dom.js";
import { renderSummary } from "./commit.js";
import { renderRanking } from "./vote.js";

const TOP = 5;

export function createResult(root, { t, store, moderator = false }) {
  const top = root.querySelector("[data-result-top]");
  const count = root.querySelector("[data-commitments-count]");
  const summary = root.querySelector("[data-result-summary]");
  let shown = null;

  function render() {
    renderRanking(top, store.ranking({ moderator }) || [], t, TOP);
    const commitments = store.commitments();
    count.dataset.count = String(commitments.length);
    setText(count, commitments.length === 1 ? t.committed_one : fill(t.committed_many, { n: commitments.length }));
    const signature = JSON.stringify(commitments.map((c) => [c.role, c.hours_per_month]));
    if (signature !== shown) { shown = signature; renderSummary(summary, commitments, t); }
  }

  return { render };
}
