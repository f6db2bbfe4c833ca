/* The table's sheet (DESIGN.md §5, step 6): one field per line of the
   challenge's template. The facilitator and the reporter write it; everyone
   else reads it live.

   Each field has a version. An edit says which version its text was based
   on: a screen follows the server's text while its own is unchanged, and
   keeps its own once typed (one edit per field in flight; the next one is
   based on the version the last one made). When someone else changed the
   field meanwhile, the server refuses the edit with their text: both texts
   show, and the writer keeps theirs or takes the other. */

import { button, el, fill, setText } from "../dom.js";

const SAVE_DELAY = 800; // ms after the last keystroke

export function createSheet(root, { t, store, write, canEdit, myName, idPrefix }) {
  const fieldsBox = root.querySelector("[data-sheet-fields]");
  const rows = new Map(); // key -> row
  let signature = null;
  let outbox = [];

  function label(field) {
    return (t.sheet_labels && t.sheet_labels[field.key]) || field.key;
  }

  // The server sends who wrote as a name, or a marker this screen translates.
  function person(by) {
    if (by === "@facilitator") { return t.the_facilitator; }
    if (by === "@organizers") { return t.the_organizers; }
    return by || "";
  }

  function editPending(key) {
    return outbox.some((item) => item.op === "sheet.edit" && item.data.key === key);
  }

  function save(row) {
    clearTimeout(row.timer);
    row.timer = null;
    const local = row.local;
    if (!row.input || !local.dirty || row.conflict) { return; }
    if (editPending(row.key)) { local.again = true; return; } // after the answer
    local.again = false;
    const text = row.input.value;
    if (text.trim() === store.sheetField(row.key).text && local.base === store.sheetField(row.key).version) {
      local.dirty = false;
      return;
    }
    local.sent = { text: text.trim(), base: local.base };
    write("sheet.edit", { key: row.key, text, base_version: local.base });
  }

  function buildConflict(row) {
    const box = el("div", "sheet-conflict");
    box.dataset.conflict = "";
    box.hidden = true;
    const message = el("p", "error");
    message.setAttribute("role", "alert");
    message.dataset.conflictMessage = "";
    const texts = el("div", "conflict-texts");
    const mineBox = el("div", "conflict-text");
    mineBox.appendChild(el("p", "conflict-title", t.conflict_mine));
    const mine = el("p", "sheet-text");
    mine.dataset.conflictMine = "";
    mineBox.appendChild(mine);
    const theirsBox = el("div", "conflict-text");
    const by = el("p", "conflict-title");
    theirsBox.appendChild(by);
    const theirs = el("p", "sheet-text");
    theirs.dataset.conflictTheirs = "";
    theirsBox.appendChild(theirs);
    texts.append(mineBox, theirsBox);
    const tools = el("div", "idea-tools");
    tools.append(
      button(t.keep_mine, "keep-mine", () => resolve(row, true),
        { className: "small primary", ariaLabel: fill(t.keep_mine_label, { field: row.label }) }),
      button(t.take_theirs, "take-theirs", () => resolve(row, false),
        { ariaLabel: fill(t.take_theirs_label, { field: row.label }) }),
    );
    box.append(message, texts, tools);
    return { box, message, mine, theirs, by };
  }

  /** The other text of a conflict: the newest the screen knows. */
  function theirs(row) {
    const field = store.sheetField(row.key);
    const current = row.conflict.current;
    return field.version >= current.version
      ? { text: field.text, version: field.version, by: person(field.edited_by) }
      : current;
  }

  function resolve(row, keepMine) {
    const other = theirs(row);
    row.conflict = null;
    row.local.base = other.version;
    if (keepMine) {
      row.local.dirty = true;
      save(row);
    } else {
      row.input.value = other.text;
      row.local.dirty = false;
      render(outbox);
    }
    row.input.focus();
  }

  function buildRow(field, editable) {
    const id = `${idPrefix}-${field.key}`;
    const node = el("div", "sheet-field");
    node.dataset.key = field.key;
    const row = { key: field.key, label: label(field), node, input: null, text: null, timer: null, conflict: null,
      local: { dirty: false, base: 0, sent: null, again: false } };
    const editing = el("p", "sheet-editing");
    editing.dataset.sheetEditing = "";
    editing.hidden = true;
    row.editing = editing;
    if (editable) {
      const name = el("label", "sheet-label", row.label);
      name.htmlFor = id;
      const input = el("textarea");
      input.id = id;
      input.rows = 3;
      input.maxLength = 2000;
      input.dataset.sheetInput = "";
      input.setAttribute("aria-describedby", `${id}-state`);
      const state = el("p", "sheet-state muted");
      state.id = `${id}-state`;
      state.dataset.sheetState = "";
      row.input = input;
      row.state = state;
      row.ui = buildConflict(row);
      input.addEventListener("input", () => {
        row.local.dirty = true;
        if (row.conflict) { setText(row.ui.mine, input.value); return; }
        setText(state, "");
        state.dataset.state = "typing";
        clearTimeout(row.timer);
        row.timer = setTimeout(() => save(row), SAVE_DELAY);
      });
      input.addEventListener("focus", () => write("sheet.focus", { key: field.key }));
      input.addEventListener("blur", () => {
        save(row);
        write("sheet.focus", { key: null });
      });
      node.append(name, editing, input, state, row.ui.box);
    } else {
      node.appendChild(el("h3", "sheet-label", row.label));
      node.appendChild(editing);
      row.text = el("p", "sheet-text");
      row.text.dataset.sheetText = "";
      node.appendChild(row.text);
    }
    return row;
  }

  function syncRow(row) {
    const field = store.sheetField(row.key);
    // "X is writing" fades after a minute even if X's screen never said it left.
    const writing = field.editing_by && field.editing_at && store.serverNow() - field.editing_at < 60000;
    const by = writing && field.editing_by !== myName() ? person(field.editing_by) : "";
    row.editing.hidden = !by;
    row.editing.dataset.editingBy = by;
    setText(row.editing, by ? fill(t.sheet_editing, { name: by }) : "");
    row.node.dataset.version = String(field.version);
    if (!row.input) {
      setText(row.text, field.text || t.sheet_empty);
      row.text.classList.toggle("muted", !field.text);
      return;
    }
    const local = row.local;
    const pending = editPending(row.key);
    if (local.sent && !pending) {
      // The last edit was answered: the text typed since is based on what it made.
      if (field.text === local.sent.text && field.version >= local.sent.base) { local.base = field.version; }
      local.sent = null;
    }
    row.node.classList.toggle("in-conflict", !!row.conflict);
    row.ui.box.hidden = !row.conflict;
    if (row.conflict) {
      const other = theirs(row);
      setText(row.ui.message, row.conflict.message);
      setText(row.ui.mine, row.input.value);
      setText(row.ui.theirs, other.text);
      const name = person(other.by);
      setText(row.ui.by, name ? fill(t.conflict_theirs_by, { name }) : t.conflict_theirs);
      setText(row.state, "");
      return;
    }
    if (!local.dirty || (!pending && row.input.value.trim() === field.text)) {
      if (row.input.value.trim() !== field.text) { row.input.value = field.text; }
      local.dirty = false;
      local.base = field.version;
    }
    const state = pending ? t.sending : !local.dirty && field.edited_by ? fill(t.sheet_saved_by, { name: person(field.edited_by) }) : "";
    setText(row.state, state);
    row.state.dataset.state = pending ? "sending" : local.dirty ? "typing" : "saved";
    if (local.again && !pending) { setTimeout(() => save(row), 0); }
  }

  function render(currentOutbox) {
    outbox = currentOutbox;
    const table = store.table();
    const template = ((table && table.sheet) || []).map((key) => ({ key }));
    const editable = canEdit();
    const wanted = JSON.stringify([template.map((field) => field.key), editable]);
    if (wanted !== signature) {
      signature = wanted;
      rows.forEach((row) => clearTimeout(row.timer));
      rows.clear();
      fieldsBox.replaceChildren(...template.map((field) => {
        const row = buildRow(field, editable);
        rows.set(field.key, row);
        return row.node;
      }));
    }
    root.dataset.editable = String(editable);
    rows.forEach(syncRow);
  }

  /** A stale edit: both texts show, for the writer to choose. */
  function refused(item, answer) {
    if (item.op !== "sheet.edit" || answer.error !== "sheet_conflict") { return false; }
    const row = rows.get(item.data.key);
    if (!row || !row.input) { return false; }
    row.local.sent = null;
    row.local.dirty = true;
    row.local.again = false;
    row.conflict = {
      message: answer.message || "",
      current: answer.current || { text: "", version: 0, by: "" },
    };
    return true;
  }

  return { render, refused };
}
