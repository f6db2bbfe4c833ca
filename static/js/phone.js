/* A participant's phone: the screen of the table's current step, fed by the
   live connection (DESIGN.md §5-§6). */

import { fill, setText } from "./live/dom.js";
import { connect } from "./live/protocol.js";
import { KINDS, createStore } from "./live/store.js";
import { createComposer } from "./live/views/composer.js";
import { createIntro } from "./live/views/intro.js";
import { createStatus } from "./live/views/status.js";
import { createStepBar } from "./live/views/step.js";
import { createWall, wallCards } from "./live/views/wall.js";

const cfg = JSON.parse(document.getElementById("live-config").textContent);
const t = cfg.i18n;
const q = (selector) => document.querySelector(selector);

const store = createStore();
const page = q("[data-live]");
const brief = q("[data-brief] details");
const reporter = q("[data-reporter]");
const privateNote = q("[data-private-count]");
const composerForm = q("[data-composer]");
const wallSection = q("[data-wall-section]");
const messageNote = q("[data-message]");
let live = null;
let screen = null;

function write(op, data) { live.write(op, data); }

const status = createStatus({
  t,
  connection: q("[data-connection]"),
  pendingNote: q("[data-pending]"),
  unsentSection: q("[data-unsent]"),
  restorers: {
    "idea.post": (data) => { composer.restore(data); render(); },
    "idea.edit": (data) => { composer.restore(data); render(); },
    "intro.save": (data) => intro.restore(data),
  },
  onDismiss: (clientId) => live.dismiss(clientId),
});

const composer = createComposer(composerForm, {
  t,
  idPrefix: "idea",
  onSubmit: ({ kind, text, editing }) => {
    if (editing) {
      write("idea.edit", { target: editing.client_id, kind, text });
    } else {
      write("idea.post", { kind, text });
    }
    return true;
  },
});

const wall = createWall(q("[data-wall]"), {
  t,
  moderator: false,
  me: cfg.me,
  onEdit: (card) => { composer.edit(card); render(); composerForm.scrollIntoView({ block: "nearest" }); },
  onDelete: (card) => {
    if (window.confirm(t.confirm_delete)) { write("idea.delete", { target: card.client_id }); }
  },
  onHide: () => {},
});

const stepBar = createStepBar(q("[data-step]"), { t, store, moderator: false });
const intro = createIntro(q("[data-intro]"), { t, me: cfg.me, onSave: (data) => write("intro.save", data) });

/** Which screen the table's current step asks for. */
function screenFor(step) {
  if (!step) { return "wall"; }
  if (["intro", "brief", "diverge"].includes(step.kind)) { return step.kind; }
  return "step"; // steps without their own screen yet: the question and the wall
}

function render() {
  if (!live) { return; }
  const table = store.table();
  const open = !table || table.open !== false;
  const outbox = live.outbox();
  const step = store.currentStep();
  const next = screenFor(step);
  if (next !== screen) {
    // The brief opens when its step starts, and folds away when it ends.
    if (next === "brief") { brief.open = true; } else if (screen === "brief") { brief.open = false; }
    screen = next;
    page.dataset.screen = screen;
  }
  if (reporter) {
    setText(reporter, table && table.reporter ? fill(t.reporter, { name: table.reporter }) : "");
  }
  stepBar.render();

  q("[data-intro]").hidden = screen !== "intro";
  intro.render(store, outbox, open);

  composer.setKinds(store.cardKinds(KINDS));
  composer.setOpen(open);
  composerForm.hidden = !(screen === "wall" || screen === "diverge" || composer.busy);

  const waiting = store.privateCount();
  privateNote.hidden = !waiting || screen === "intro";
  privateNote.dataset.count = String(waiting);
  setText(privateNote, waiting === 1 ? t.private_one : fill(t.private_many, { n: waiting }));

  wallSection.hidden = screen === "intro";
  wall.render(wallCards(store, outbox, { moderator: false, me: cfg.me }), { open });
  status.render(outbox, live.unsent());
}

live = connect({
  auth: cfg.auth,
  table: cfg.table,
  role: "participant",
  store,
  onUpdate: render,
  onConnection: status.setConnection,
  onMessage: (message) => setText(messageNote, message),
});
render();
