/* A participant's phone: the screen of the table's current step, fed by the
   live connection (DESIGN.md §5-§6). */

import { fill, setText } from "./live/dom.js";
import { connect } from "./live/protocol.js";
import { KINDS, createStore } from "./live/store.js";
import { createPhoneCommit } from "./live/views/commit.js";
import { createComposer } from "./live/views/composer.js";
import { createIntro } from "./live/views/intro.js";
import { createResult } from "./live/views/result.js";
import { createRoomVote } from "./live/views/roomvote.js";
import { createSheet } from "./live/views/sheet.js";
import { createStatus } from "./live/views/status.js";
import { createStepBar } from "./live/views/step.js";
import { createPhoneVote } from "./live/views/vote.js";
import { createWall, wallCards } from "./live/views/wall.js";

const cfg = JSON.parse(document.getElementById("live-config").textContent);
const t = cfg.i18n;
const q = (selector) => document.querySelector(selector);

const store = createStore();
const page = q("[data-live]");
const brief = q("[data-brief] details");
const reporter = q("[data-reporter]");
const reporterNote = q("[data-reporter-note]");
const privateNote = q("[data-private-count]");
const composerForm = q("[data-composer]");
const wallSection = q("[data-wall-section]");
const messageNote = q("[data-message]");
const sheetSection = q("[data-sheet]");
const sheetNote = q("[data-sheet-note]");
const commitSection = q("[data-commit]");
const resultSection = q("[data-result]");
// Steps whose screen has no wall under it.
const WITHOUT_WALL = ["intro", "commit", "plenary"];
const SCREENS = ["intro", "brief", "diverge", "cluster", "vote", "sheet", "commit", "plenary"];
// Screens where people write: the brief's question stays in sight.
const BRIEF_OPEN = ["wall", "brief", "diverge"];
let live = null;
let screen = null;

function write(op, data) { live.write(op, data); }

function myName() {
  const me = store.get("participant", cfg.me);
  return me ? me.name : "";
}

function isReporter() {
  const table = store.table();
  return !!table && table.reporter_id === cfg.me;
}

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
  groupsRoot: q("[data-groups]"),
  looseTitle: q("[data-loose-title]"),
  onEdit: (card) => { composer.edit(card); render(); composerForm.scrollIntoView({ block: "nearest" }); },
  onDelete: (card) => {
    if (window.confirm(t.confirm_delete)) { write("idea.delete", { target: card.client_id }); }
  },
  onHide: () => {},
});

const stepSection = q("[data-step]");
const stepBar = createStepBar(stepSection, { t, store, moderator: false });

/** While people write, the step bar sticks to the top: the page's scroll
    padding (app.css) keeps a card scrolled or tabbed to below it, not under it. */
function clearStepBar() {
  const sticky = !stepSection.hidden && getComputedStyle(stepSection).position === "sticky";
  const height = sticky ? Math.ceil(stepSection.getBoundingClientRect().height) + 8 : 0;
  document.documentElement.style.setProperty("--sticky-top", `${height}px`);
}
new ResizeObserver(clearStepBar).observe(stepSection);
const intro = createIntro(q("[data-intro]"), { t, me: cfg.me, onSave: (data) => write("intro.save", data) });
const vote = createPhoneVote({ t, store, me: cfg.me, write, status: q("[data-vote-status]"), panel: q("[data-vote]") });
const sheet = createSheet(sheetSection, {
  t,
  store,
  write,
  idPrefix: "sheet",
  myName,
  canEdit: () => screen === "sheet" && isReporter(),
});
const commit = createPhoneCommit(commitSection, { t, store, me: cfg.me, write });
const result = createResult(resultSection, { t, store });
const roomVote = createRoomVote(q("[data-room-vote]"), { t, store, write });

/** Which screen the table's current step asks for. */
function screenFor(step) {
  if (!step) { return "wall"; }
  return SCREENS.includes(step.kind) ? step.kind : "step";
}

function renderSheetNote(table) {
  let note = t.sheet_facilitator_writes;
  if (isReporter()) {
    note = t.sheet_you_write;
  } else if (table && table.reporter) {
    note = fill(t.sheet_reporter_writes, { name: table.reporter });
  }
  setText(sheetNote, note);
  sheetNote.hidden = screen !== "sheet";
}

function render() {
  if (!live) { return; }
  const table = store.table();
  const open = !table || table.open !== false;
  const outbox = live.outbox();
  const step = store.currentStep();
  const next = screenFor(step);
  if (next !== screen) {
    // The brief is open while people write, and folds away for the later steps.
    brief.open = BRIEF_OPEN.includes(next);
    screen = next;
    page.dataset.screen = screen;
    clearStepBar();
  }
  // The reporter hears it, and what it means; the others, who it is.
  setText(reporter, table && table.reporter && !isReporter() ? fill(t.reporter, { name: table.reporter }) : "");
  setText(reporterNote, isReporter() ? t.you_reporter : "");
  stepBar.render();

  q("[data-intro]").hidden = screen !== "intro";
  intro.render(store, outbox, open);

  composer.setKinds(store.cardKinds(KINDS));
  composer.setOpen(open, table && table.status);
  composerForm.hidden = !(screen === "wall" || screen === "diverge" || composer.busy);

  const waiting = store.privateCount();
  privateNote.hidden = !waiting || WITHOUT_WALL.includes(screen);
  privateNote.dataset.count = String(waiting);
  setText(privateNote, waiting === 1 ? t.private_one : fill(t.private_many, { n: waiting }));

  vote.render(outbox);

  sheetSection.hidden = !(screen === "sheet" || screen === "plenary");
  renderSheetNote(table);
  sheet.render(outbox);

  commitSection.hidden = screen !== "commit";
  commit.render(outbox, open);

  resultSection.hidden = screen !== "plenary";
  result.render();
  roomVote.render(outbox);

  wallSection.hidden = WITHOUT_WALL.includes(screen);
  wall.render(wallCards(store, outbox, { moderator: false, me: cfg.me }),
    { open, groups: store.clusters(), extra: vote.extra });
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
  onRefusal: (item, answer) => vote.refused(item, answer) || sheet.refused(item, answer)
    || commit.refused(item, answer),
});
render();
