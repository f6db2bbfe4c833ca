/* The facilitator's console: the script, the timer, the wall and the people
   of one table, and the step being run (groups, vote, sheet, commitments,
   result). Its actions go through an outbox of their own, so that a tablet
   on a flaky Wi-Fi keeps them (DESIGN.md §6). */

import { setText } from "./live/dom.js";
import { connect } from "./live/protocol.js";
import { KINDS, createStore } from "./live/store.js";
import { createClusterBoard } from "./live/views/clusters.js";
import { createConsoleCommit } from "./live/views/commit.js";
import { createConsole } from "./live/views/console.js";
import { createResult } from "./live/views/result.js";
import { createSheet } from "./live/views/sheet.js";
import { createStatus } from "./live/views/status.js";
import { createStepBar } from "./live/views/step.js";
import { createConsoleVote } from "./live/views/vote.js";
import { createWall, wallCards } from "./live/views/wall.js";

const cfg = JSON.parse(document.getElementById("live-config").textContent);
const t = cfg.i18n;
// A console is a laptop or a tablet, and keeps actions rather than ideas.
t.offline = t.offline_device;
t.lost = t.lost_device;
const q = (selector) => document.querySelector(selector);

const store = createStore();
const messageNote = q("[data-message]");
const sheetSection = q("[data-sheet]");
const commitSection = q("[data-commit]");
const resultSection = q("[data-result]");
let live = null;

function write(op, data) { live.write(op, data); }

function participantName(id) {
  const person = store.get("participant", id);
  return person ? person.name : "";
}

function stepKind() {
  const step = store.currentStep();
  return step ? step.kind : null;
}

const controls = createConsole(q("[data-console]"), { t, store, write, allKinds: KINDS, categories: cfg.categories });

const status = createStatus({
  t,
  connection: q("[data-connection]"),
  pendingNote: q("[data-pending]"),
  unsentSection: q("[data-unsent]"),
  pendingWords: { one: t.changes_pending_one, many: t.changes_pending_many },
  restorers: { "idea.post": (data) => controls.restore(data) },
  onDismiss: (clientId) => live.dismiss(clientId),
});

const wall = createWall(q("[data-wall]"), {
  t,
  moderator: true,
  me: null,
  groupsRoot: q("[data-groups]"),
  looseTitle: q("[data-loose-title]"),
  onEdit: () => {},
  onDelete: () => {},
  onHide: (card, hidden) => write("idea.hide", { id: card.id, hidden }),
});

const stepBar = createStepBar(q("[data-step]"), { t, store, moderator: true });
const board = createClusterBoard(q("[data-cluster-board]"), { t, store, write, wallSection: q("[data-wall-section]") });
const vote = createConsoleVote(q("[data-vote-panel]"), { t, store, write });
const sheet = createSheet(sheetSection, {
  t,
  store,
  write,
  idPrefix: "sheet",
  myName: () => "@facilitator", // as the server marks the facilitator's writing
  canEdit: () => true,
});
const commit = createConsoleCommit(commitSection, { t, store, write });
const result = createResult(resultSection, { t, store, moderator: true });

function render() {
  if (!live) { return; }
  const table = store.table();
  const open = !table || table.open !== false;
  const outbox = live.outbox();
  const kind = stepKind();
  stepBar.render();
  controls.render(outbox);

  vote.render();
  sheetSection.hidden = !(kind === "sheet" || kind === "plenary");
  sheet.render(outbox);
  commitSection.hidden = !(kind === "commit" || kind === "plenary");
  commit.render(open);
  resultSection.hidden = kind !== "plenary";
  result.render();

  board.setActive(kind === "cluster");
  const cards = wallCards(store, outbox, { moderator: true, me: null, participantName });
  wall.render(board.overlay(cards, outbox), {
    open, groups: store.clusters(), extra: board.extra, groupTools: board.groupTools,
  });
  board.afterRender();
  status.render(outbox, live.unsent());
}

live = connect({
  auth: cfg.auth,
  table: cfg.table,
  role: "console",
  store,
  onUpdate: render,
  onConnection: status.setConnection,
  onMessage: (message) => setText(messageNote, message),
  onRefusal: (item, answer) => board.refused(item, answer) || vote.refused(item, answer)
    || sheet.refused(item, answer) || commit.refused(item, answer),
  // The app's likely duplicates at this table, while grouping: hints only.
  onSync: (answer) => board.setHints(answer.duplicates),
  pushes: { duplicates: (push) => { board.setHints(push && push.pairs); render(); } },
});
render();
