/* The facilitator's console: the script, the timer, the wall and the people
   of one table. Its actions go through an outbox of their own, so that a
   tablet on a flaky Wi-Fi keeps them (DESIGN.md §6). */

import { setText } from "./live/dom.js";
import { connect } from "./live/protocol.js";
import { KINDS, createStore } from "./live/store.js";
import { createConsole } from "./live/views/console.js";
import { createStatus } from "./live/views/status.js";
import { createStepBar } from "./live/views/step.js";
import { createWall, wallCards } from "./live/views/wall.js";

const cfg = JSON.parse(document.getElementById("live-config").textContent);
const t = cfg.i18n;
const q = (selector) => document.querySelector(selector);

const store = createStore();
const messageNote = q("[data-message]");
let live = null;

function write(op, data) { live.write(op, data); }

function participantName(id) {
  const person = store.get("participant", id);
  return person ? person.name : "";
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
  onEdit: () => {},
  onDelete: () => {},
  onHide: (card, hidden) => write("idea.hide", { id: card.id, hidden }),
});

const stepBar = createStepBar(q("[data-step]"), { t, store, moderator: true });

function render() {
  if (!live) { return; }
  const table = store.table();
  const outbox = live.outbox();
  stepBar.render();
  controls.render(outbox);
  wall.render(wallCards(store, outbox, { moderator: true, me: null, participantName }),
    { open: !table || table.open !== false });
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
});
render();
