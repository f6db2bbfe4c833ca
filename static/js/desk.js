/* The synthesis desk (issue 18): every table's ideas as they arrive, as the
   table's phones see them, and the evening's themes, edited by the team.

   One store per table, caught up by its own numbers (a push that skips one
   asks for a catch-up, as a phone does), and one for the evening's own
   stream (the themes). Writes go through the one protocol and its outbox.
   User text is only ever set as text. */
import { button, el, excerpt, fill, setText } from "./live/dom.js";
import { connect } from "./live/protocol.js";
import { createStore } from "./live/store.js";

const cfg = JSON.parse(document.getElementById("live-config").textContent);
const t = cfg.i18n;
const tables = new Map(); // table id -> {id, number, name, challenge, brief, store}
const evening = createStore(); // the evening's own stream: its themes
const connection = document.querySelector("[data-connection]");
const filters = document.querySelector("[data-desk-filters]");
const tablesNode = document.querySelector("[data-desk-tables]");
const themesNode = document.querySelector("[data-desk-themes]");
const statusNode = document.querySelector("[data-desk-status]");
const messageNode = document.querySelector("[data-desk-message]");
const GAP_DELAY = 2000;
let gapTimer = null;
let renderTimer = null;
const openThemes = new Set(); // themes whose ideas are shown
let hints = []; // the app's likely duplicates: [{a, b, score}], the likeliest first
const saying = new Map(); // "a-b" (a < b) -> apart or not, as this screen said, until answered
const hintsNode = document.querySelector("[data-desk-duplicates]");
const chosen = new Map(); // theme id -> ideas chosen to split off
let openApart = false; // the list of pairs said not the same is open

/** Lowercase without accents: "Mobilité" is found by "mobilite". */
function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function tableEntry(id, info) {
  let entry = tables.get(id);
  if (!entry) {
    entry = { id, number: 0, name: "", challenge: "", brief: "", store: createStore() };
    tables.set(id, entry);
  }
  if (info) {
    Object.assign(entry, {
      number: info.number, name: info.name, challenge: info.challenge, brief: info.brief || "",
    });
  }
  return entry;
}

function themes() {
  return evening.all("theme").filter((theme) => !theme.deleted)
    .sort((a, b) => Number(a.suggested) - Number(b.suggested) || a.id - b.id);
}

/** Where a table stands: diverging, done, not started or its step's title. */
function tableState(store) {
  const step = store.currentStep();
  const steps = store.steps();
  if (!step) { return { key: "waiting", label: t.not_started }; }
  if (step.kind === "diverge") { return { key: "diverging", label: t.diverging }; }
  if (steps.indexOf(step) === steps.length - 1) { return { key: "done", label: t.done }; }
  return { key: "other", label: step.title };
}

// --- the protocol ---------------------------------------------------------------

function asked() {
  const known = {};
  tables.forEach((entry, id) => {
    const store = entry.store;
    known[id] = { since: store.lastSeq, seen: store.topSeq, epoch: store.epoch };
  });
  return { tables: known };
}

function checkGaps() {
  if (gapTimer) { return; }
  const gap = () => Array.from(tables.values()).some((entry) => entry.store.hasGap()) || evening.hasGap();
  if (!gap()) { return; }
  gapTimer = setTimeout(() => {
    gapTimer = null;
    if (gap()) { live.sync(); }
  }, GAP_DELAY);
}

function onSync(answer) {
  if (Array.isArray(answer.duplicates)) { hints = answer.duplicates; }
  Object.entries(answer.tables || {}).forEach(([id, caught]) => {
    tableEntry(Number(id), caught).store.catchUp(caught);
  });
  // Then the evening's own stream, from the last number this screen knows.
  live.socket.emit(
    "sync", { stream: "evening", since: evening.lastSeq, seen: evening.topSeq, epoch: evening.epoch },
    (res) => { if (res && res.ok) { evening.catchUp(res); scheduleRender(); } },
  );
  scheduleRender();
}

function onTables(push) {
  (push && push.changes || []).forEach((change) => {
    if (typeof change.table_id === "number") { tableEntry(change.table_id).store.apply(change); }
  });
  checkGaps();
  scheduleRender();
}

function onEvening(push) {
  evening.applyAll(push && push.changes);
  checkGaps();
  scheduleRender();
}

function showMessage(text) { setText(messageNode, text || ""); }

/** A rename refused because a teammate changed the theme meanwhile: the
    current state is shown, the typed name is kept in the field. */
function onRefusal(item, answer) {
  if (answer.current) { evening.apply(answer.current); scheduleRender(); }
  showMessage(answer.message || "");
  return true;
}

const live = connect({
  auth: cfg.auth,
  event: cfg.event,
  role: "desk",
  onConnection: (state) => {
    setText(connection, t.connection[state] || state);
    connection.dataset.state = state;
  },
  onMessage: showMessage,
  onRefusal,
  onSync,
  asked,
  pushes: {
    tables: onTables,
    evening: onEvening,
    duplicates: (push) => { hints = (push && push.pairs) || []; scheduleRender(); },
  },
  onUpdate: scheduleRender,
});
live.socket.on("revoked", () => { showMessage(t.revoked); });

function write(op, data) {
  live.send(op, data).then((answer) => {
    if (answer && answer.ok) {
      evening.applyAll(answer.changes);
      showMessage("");
      scheduleRender();
    } else if (answer) {
      onRefusal(null, answer);
    }
  });
}

// --- rendering --------------------------------------------------------------------

function scheduleRender() {
  if (renderTimer) { return; }
  renderTimer = setTimeout(() => { renderTimer = null; render(); }, 100);
}

/** Redraw ``node`` with ``draw`` keeping the keyboard's place (and what
    was being typed) on the control with the same key. */
function keepingFocus(node, draw) {
  const active = document.activeElement;
  const key = active && node.contains(active) ? active.dataset.key : null;
  const typed = key && active.tagName === "INPUT" ? active.value : null;
  draw();
  if (!key) { return; }
  const again = node.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (again) {
    if (typed !== null) { again.value = typed; }
    again.focus();
  }
}

function render() {
  keepingFocus(themesNode, renderThemes);
  keepingFocus(hintsNode, renderHints);
  keepingFocus(tablesNode, renderTables);
  renderStatus();
}

function ideaIndex() {
  const ideas = new Map();
  tables.forEach((entry) => {
    entry.store.visibleIdeas().forEach((idea) => { ideas.set(idea.id, { idea, table: entry }); });
  });
  return ideas;
}

function renderThemes() {
  const ideas = ideaIndex();
  const list = el("ul", "desk-theme-list");
  themes().forEach((theme) => {
    const found = (theme.idea_ids || []).map((id) => ideas.get(id)).filter(Boolean);
    const tableCount = new Set(found.map((f) => f.table.id)).size;
    const item = el("li", "desk-theme");
    item.dataset.theme = theme.id;
    item.dataset.suggested = theme.suggested;
    const head = el("div", "desk-theme-head");
    const label = el("input");
    label.type = "text";
    label.maxLength = 120;
    label.value = theme.label;
    label.dataset.key = `label-${theme.id}`;
    label.dataset.version = theme.version;
    label.setAttribute("aria-label", fill(t.theme_name, { label: theme.label }));
    const rename = () => {
      const value = label.value.trim();
      if (value && value !== theme.label) {
        write("theme.update", { theme_id: theme.id, label: value, base_version: theme.version });
      }
    };
    label.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); rename(); } });
    head.append(label, button(t.rename, "rename", rename, {
      ariaLabel: fill(t.rename_theme, { label: theme.label }),
    }));
    if (theme.suggested) {
      head.append(el("span", "badge", t.suggested));
      head.append(button(t.accept, "accept", () => write("theme.accept", { theme_id: theme.id }), {
        ariaLabel: fill(t.accept_theme, { label: theme.label }),
      }));
    }
    head.append(button(theme.suggested ? t.ignore : t.remove, "remove",
      () => write("theme.delete", { theme_id: theme.id }),
      { className: "small danger", ariaLabel: fill(t.remove_theme, { label: theme.label }) }));
    head.querySelectorAll("button").forEach((b) => { b.dataset.key = `${b.dataset.action}-${theme.id}`; });
    item.append(head);
    item.append(el("p", "muted", fill(t.gathers, { ideas: found.length, tables: tableCount })
      + ((theme.keywords || []).length ? " · " + theme.keywords.join(", ") : "")));
    item.append(themeIdeas(theme, found));
    if (themes().length > 1) { item.append(mergeForm(theme)); }
    list.append(item);
  });
  const empty = el("p", "muted", t.no_themes);
  empty.hidden = themes().length > 0;
  themesNode.replaceChildren(list, empty);
}

/** A theme's ideas, pinned quotes first: pin or unpin one, or choose some
    to split off into a new theme. Open or closed, and what is chosen, stay
    across the redraws the live updates cause. */
function themeIdeas(theme, found) {
  const pinned = theme.pinned || [];
  const chosen = chosenIdeas(theme.id);
  const ordered = [
    ...pinned.map((id) => found.find((f) => f.idea.id === id)).filter(Boolean),
    ...found.filter((f) => !pinned.includes(f.idea.id)),
  ];
  const details = el("details", "desk-theme-ideas");
  details.open = openThemes.has(theme.id);
  details.addEventListener("toggle", () => {
    if (details.open) { openThemes.add(theme.id); } else { openThemes.delete(theme.id); }
  });
  const summary = el("summary", null, fill(t.theme_ideas, { n: found.length }));
  summary.dataset.key = `ideas-${theme.id}`;
  details.append(summary);
  const list = el("ul", "desk-quotes");
  ordered.forEach(({ idea }) => {
    const li = el("li");
    li.dataset.idea = idea.id;
    const box = el("input");
    box.type = "checkbox";
    box.id = `choose-${theme.id}-${idea.id}`;
    box.dataset.key = box.id;
    box.checked = chosen.has(idea.id);
    box.addEventListener("change", () => {
      if (box.checked) { chosen.add(idea.id); } else { chosen.delete(idea.id); }
    });
    const label = el("label", null, idea.text);
    label.htmlFor = box.id;
    const isPinned = pinned.includes(idea.id);
    const pin = button(isPinned ? t.unpin : t.pin, "pin",
      () => write("theme.pin", { theme_id: theme.id, idea_id: idea.id, pinned: !isPinned }),
      { ariaLabel: fill(isPinned ? t.unpin_quote : t.pin_quote, { text: excerpt(idea.text) }) });
    pin.setAttribute("aria-pressed", String(isPinned));
    pin.dataset.key = `pin-${theme.id}-${idea.id}`;
    li.append(box, " ", label, " ", pin);
    list.append(li);
  });
  details.append(list);
  const form = el("form", "inline-fields desk-split");
  const field = el("div", "field");
  const name = el("input");
  name.type = "text";
  name.maxLength = 120;
  name.required = true;
  name.id = `split-${theme.id}`;
  name.dataset.key = name.id;
  const nameLabel = el("label", null, t.split_name);
  nameLabel.htmlFor = name.id;
  field.append(nameLabel, name);
  const submit = el("button", "small", t.split);
  submit.type = "submit";
  submit.dataset.key = `split-go-${theme.id}`;
  form.append(field, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const ideaIds = found.map((f) => f.idea.id).filter((id) => chosen.has(id));
    if (!ideaIds.length) { showMessage(t.split_none); return; }
    write("theme.split", { theme_id: theme.id, idea_ids: ideaIds, label: name.value.trim() });
    chosen.clear();
    name.value = "";
  });
  details.append(form);
  return details;
}

function chosenIdeas(themeId) {
  if (!chosen.has(themeId)) { chosen.set(themeId, new Set()); }
  return chosen.get(themeId);
}

/** Merge a theme into another, chosen from a list: keyboard and screen reader alike. */
function mergeForm(theme) {
  const form = el("form", "inline-fields desk-merge");
  const select = el("select");
  select.id = `merge-${theme.id}`;
  select.dataset.key = select.id;
  select.setAttribute("aria-label", fill(t.merge_into, { label: theme.label }));
  select.append(new Option(fill(t.merge_into, { label: excerpt(theme.label, 30) }), ""));
  themes().filter((other) => other.id !== theme.id)
    .forEach((other) => select.append(new Option(other.label, String(other.id))));
  const submit = el("button", "small", t.merge);
  submit.type = "submit";
  submit.dataset.key = `merge-go-${theme.id}`;
  form.append(select, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (select.value) { write("theme.merge", { theme_id: theme.id, into_id: Number(select.value) }); }
  });
  return form;
}

/** The app's likely duplicates across (and within) tables: a hint, never
    merged by itself. One click puts both ideas in one theme (the theme of
    either, or a new one); "not the same" hides the pair on this screen. */
function pairKey(a, b) { return a < b ? `${a}-${b}` : `${b}-${a}`; }

/** The pairs the team said are not the same (shared through the evening's
    stream), with what this screen said that is not answered yet. */
function apartPairs() {
  const said = new Set();
  evening.all("apart").forEach((pair) => { if (pair.apart) { said.add(pairKey(pair.a, pair.b)); } });
  saying.forEach((apart, key) => { if (apart) { said.add(key); } else { said.delete(key); } });
  return said;
}

/** Say (or take back) that two ideas are not the same, for the whole team. */
function sayApart(a, b, apart) {
  const key = pairKey(a, b);
  saying.set(key, apart);
  scheduleRender();
  live.send("hints.apart", { a, b, apart }).then((answer) => {
    if (saying.get(key) === apart) { saying.delete(key); }
    if (answer && answer.ok) {
      evening.applyAll(answer.changes);
    } else if (answer) {
      onRefusal(null, answer);
    }
    scheduleRender();
  });
}

function renderHints() {
  const ideas = ideaIndex();
  const apart = apartPairs();
  const shown = hints.filter((pair) => ideas.has(pair.a) && ideas.has(pair.b)
    && !apart.has(pairKey(pair.a, pair.b))
    && !together(pair.a, pair.b)).slice(0, 20);
  const says = (found) => fill(t.hint_idea, { number: found.table.number, text: found.idea.text });
  const list = el("ul", "desk-duplicates");
  shown.forEach((pair) => {
    const [a, b] = [ideas.get(pair.a), ideas.get(pair.b)];
    const li = el("li", "card");
    const key = pairKey(pair.a, pair.b);
    li.dataset.pair = key;
    li.append(el("p", null, says(a)), el("p", null, says(b)));
    const joined = button(t.same_theme, "same-theme", () => sameTheme(a.idea, b.idea), {
      ariaLabel: fill(t.same_theme_of, { a: excerpt(a.idea.text), b: excerpt(b.idea.text) }),
    });
    const separate = button(t.not_same, "not-same", () => sayApart(pair.a, pair.b, true), {
      ariaLabel: fill(t.not_same_of, { a: excerpt(a.idea.text), b: excerpt(b.idea.text) }),
    });
    joined.dataset.key = `same-${key}`;
    separate.dataset.key = `apart-${key}`;
    li.append(joined, " ", separate);
    list.append(li);
  });
  const empty = el("p", "muted", t.no_duplicates);
  empty.hidden = shown.length > 0;
  hintsNode.replaceChildren(list, empty, saidApart(apart, ideas, says));
}

/** The pairs said not the same, each of which a member may take back. */
function saidApart(apart, ideas, says) {
  const pairs = [...apart].map((key) => key.split("-").map(Number))
    .filter(([a, b]) => ideas.has(a) && ideas.has(b));
  const details = el("details", "desk-apart");
  details.hidden = pairs.length === 0;
  details.open = openApart;
  details.addEventListener("toggle", () => { openApart = details.open; });
  details.append(el("summary", null, fill(t.said_apart, { n: pairs.length })));
  const list = el("ul");
  pairs.forEach(([a, b]) => {
    const key = pairKey(a, b);
    const li = el("li");
    li.dataset.apart = key;
    li.append(el("p", null, says(ideas.get(a))), el("p", null, says(ideas.get(b))));
    const again = button(t.hint_again, "hint-again", () => sayApart(a, b, false), {
      ariaLabel: fill(t.hint_again_of, {
        a: excerpt(ideas.get(a).idea.text), b: excerpt(ideas.get(b).idea.text),
      }),
    });
    again.dataset.key = `again-${key}`;
    li.append(again);
    list.append(li);
  });
  details.append(list);
  return details;
}

/** Both ideas in one theme of the team's (a suggestion holding both is the app's, not yet). */
function together(a, b) {
  const theme = themes().find((found) => found.id === themeOf(a));
  return Boolean(theme && !theme.suggested && themeOf(b) === theme.id);
}

/** One click: both ideas in the theme of either (a suggestion is taken up
    then), or in a new theme named after the first. */
function sameTheme(a, b) {
  const target = themes().find((theme) => theme.id === (themeOf(a.id) || themeOf(b.id)));
  if (!target) {
    write("theme.create", { label: excerpt(a.text, 60), idea_ids: [a.id, b.id] });
    return;
  }
  if (target.suggested) { write("theme.accept", { theme_id: target.id }); }
  [a, b].filter((idea) => themeOf(idea.id) !== target.id)
    .forEach((idea) => write("theme.move", { idea_id: idea.id, theme_id: target.id }));
}

function themeOf(ideaId) {
  const found = themes().find((theme) => (theme.idea_ids || []).includes(ideaId));
  return found ? found.id : "";
}

function themeSelect(idea) {
  const select = el("select");
  select.dataset.key = `move-${idea.id}`;
  select.setAttribute("aria-label", fill(t.theme_of, { text: idea.text.slice(0, 60) }));
  select.append(new Option(t.no_theme, ""));
  themes().forEach((theme) => select.append(new Option(theme.label, String(theme.id))));
  select.value = String(themeOf(idea.id));
  select.addEventListener("change", () => {
    write("theme.move", { idea_id: idea.id, theme_id: select.value ? Number(select.value) : null });
  });
  return select;
}

function shownTables() {
  const form = filters.elements;
  const table = form.table.value;
  const challenge = form.challenge.value;
  const state = form.state.value;
  return Array.from(tables.values())
    .filter((entry) => (!table || String(entry.id) === table)
      && (!challenge || entry.challenge === challenge)
      && (!state || tableState(entry.store).key === state))
    .sort((a, b) => a.number - b.number);
}

function renderTables() {
  const words = fold(filters.elements.search.value).split(/\s+/).filter(Boolean);
  const matches = (idea) => {
    const text = fold(idea.text);
    return words.every((word) => text.includes(word));
  };
  const nodes = [];
  let shown = 0;
  shownTables().forEach((entry) => {
    const store = entry.store;
    const ideas = store.visibleIdeas().filter(matches).sort((a, b) => a.id - b.id);
    if (words.length && !ideas.length) { return; }
    const article = el("article", "card desk-table");
    article.dataset.table = entry.id;
    const state = tableState(store);
    const heading = el("h3", null, fill(t.table_title, { number: entry.number, name: entry.name }));
    heading.id = `desk-table-${entry.id}`;
    article.setAttribute("aria-labelledby", heading.id);
    const badge = el("span", `badge desk-state-${state.key}`, state.label);
    badge.dataset.state = state.key;
    heading.append(" ", badge);
    article.append(heading);
    if (entry.brief) { article.append(el("p", "muted", entry.brief)); }
    const groups = new Map(store.clusters().map((c) => [c.id, c.name]));
    const tally = new Map((store.ranking() || []).map((row) => [row.idea.id, row.votes]));
    const list = el("ul", "desk-ideas");
    ideas.forEach((idea) => {
      const li = el("li", "desk-idea");
      li.dataset.idea = idea.id;
      li.append(el("span", "desk-idea-text", idea.text));
      const facts = [];
      if (idea.cluster_id && groups.get(idea.cluster_id)) { facts.push(fill(t.group, { name: groups.get(idea.cluster_id) })); }
      if (tally.get(idea.id)) { facts.push(fill(t.votes, { n: tally.get(idea.id) })); }
      if (facts.length) { li.append(" ", el("span", "muted", facts.join(" · "))); }
      li.append(" ", themeSelect(idea));
      list.append(li);
      shown += 1;
    });
    article.append(list);
    const sheet = (store.table() && store.table().sheet || [])
      .map((key) => store.sheetField(key)).filter((field) => field.text);
    if (sheet.length) {
      const dl = el("dl", "desk-sheet");
      sheet.forEach((field) => dl.append(el("dt", null, (t.sheet_labels[entry.challenge] || {})[field.key] || field.key), el("dd", null, field.text)));
      article.append(dl);
    }
    nodes.push(article);
  });
  tablesNode.replaceChildren(...nodes);
  tablesNode.dataset.shown = shown;
}

function renderStatus() {
  const states = { diverging: 0, done: 0 };
  tables.forEach((entry) => {
    const key = tableState(entry.store).key;
    if (key in states) { states[key] += 1; }
  });
  setText(statusNode, fill(t.status, { tables: tables.size, diverging: states.diverging, done: states.done }));
  // The table filter lists every table once known.
  const select = filters.elements.table;
  if (select.options.length - 1 !== tables.size) {
    const chosen = select.value;
    select.replaceChildren(new Option(t.all_tables, ""));
    Array.from(tables.values()).sort((a, b) => a.number - b.number).forEach((entry) => {
      select.append(new Option(fill(t.table_title, { number: entry.number, name: entry.name }), String(entry.id)));
    });
    select.value = chosen;
  }
}

filters.addEventListener("input", scheduleRender);
filters.addEventListener("change", scheduleRender);
filters.addEventListener("submit", (e) => e.preventDefault());

document.querySelector("[data-new-theme]").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = e.target.elements.label;
  const label = input.value.trim();
  if (!label) { return; }
  write("theme.create", { label });
  input.value = "";
});
