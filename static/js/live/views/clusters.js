/* Grouping the cards, on the console at the groups step. Every action works
   with the mouse and with the keyboard alone:
   - a card moves by drag and drop, or with its "Move to" list and button;
   - a new group takes the chosen cards (ticked) with it; when they all come
     from one group, that group is split;
   - each group is renamed, merged into another, or deleted (its cards stay,
     ungrouped). */

import { button, el, excerpt, fill, setText } from "../dom.js";

export function createClusterBoard(root, { t, store, write, wallSection }) {
  const form = root.querySelector("[data-cluster-create]");
  const nameInput = form.elements.name;
  const errorNote = root.querySelector("[data-cluster-error]");
  const chosenNote = root.querySelector("[data-cluster-chosen]");
  const chosen = new Set(); // ids of the ticked cards
  let focusAfter = null; // the card whose "Move to" list takes the focus once it has moved
  let active = false;
  let likeness = new Map(); // card id -> the earlier card it likely repeats (the app's hint)

  function showError(message) { setText(errorNote, message || ""); }

  function renderChosen() {
    setText(chosenNote, chosen.size ? fill(t.chosen_cards, { n: chosen.size }) : t.no_card_chosen);
    chosenNote.dataset.count = String(chosen.size);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name) { showError(t.group_name_needed); nameInput.focus(); return; }
    const ids = Array.from(chosen);
    const from = new Set(ids.map((id) => {
      const idea = store.get("idea", id);
      return idea ? idea.cluster_id : null;
    }));
    const source = from.size === 1 ? Array.from(from)[0] : null;
    if (ids.length && source != null) {
      write("cluster.split", { id: source, idea_ids: ids, name });
    } else {
      write("cluster.create", { name, idea_ids: ids });
    }
    chosen.clear();
    nameInput.value = "";
    showError("");
    renderChosen();
  });

  function assign(cardId, clusterId, { keepFocus = false } = {}) {
    const idea = store.get("idea", cardId);
    if (idea && (idea.cluster_id ?? null) === clusterId) { return; }
    if (keepFocus) { focusAfter = cardId; }
    write("cluster.assign", { idea_id: cardId, cluster_id: clusterId });
  }

  /** Cards as the outbox will leave them: a move waiting to be sent shows at once. */
  function overlay(cards, outbox) {
    const byId = new Map(cards.map((card) => [card.id, card]));
    // A chosen card that left the wall (deleted) is chosen no more.
    const before = chosen.size;
    chosen.forEach((id) => { if (!byId.has(id)) { chosen.delete(id); } });
    if (chosen.size !== before) { renderChosen(); }
    outbox.forEach((item) => {
      if (item.op !== "cluster.assign") { return; }
      const card = byId.get(item.data.idea_id);
      if (card) { card.cluster_id = item.data.cluster_id; card.pending = true; }
    });
    return cards;
  }

  function groupOptions(selected) {
    const none = el("option", "", t.no_group);
    none.value = "";
    const options = [none].concat(store.clusters().map((group) => {
      const option = el("option", "", group.name);
      option.value = String(group.id);
      return option;
    }));
    options.forEach((option) => { option.selected = option.value === String(selected ?? ""); });
    return options;
  }

  /** The app's hints ``[{a, b, score}]``: each pair shown once, on its later card. */
  function setHints(pairs) {
    likeness = new Map();
    (Array.isArray(pairs) ? pairs : []).forEach(({ a, b }) => {
      const [first, later] = a < b ? [a, b] : [b, a];
      if (!likeness.has(later)) { likeness.set(later, first); }
    });
  }

  /** The card ``card`` likely repeats, when both are on the wall and not yet in one group. */
  function lookalike(card) {
    const other = likeness.has(card.id) ? store.get("idea", likeness.get(card.id)) : null;
    if (!other || other.deleted || other.hidden) { return null; }
    const together = other.cluster_id != null && other.cluster_id === card.cluster_id;
    return together ? null : other;
  }

  /** One click: the two cards in one group (the group of either, or a new one). */
  function groupThem(card, other) {
    if (other.cluster_id != null) {
      assign(card.id, other.cluster_id);
    } else if (card.cluster_id != null) {
      assign(other.id, card.cluster_id);
    } else {
      write("cluster.create", { name: excerpt(other.text, 40), idea_ids: [other.id, card.id] });
    }
  }

  function hintOf(card, li) {
    const other = lookalike(card);
    if (!other) { return; }
    const hint = el("p", "card-hint");
    hint.append(document.createTextNode(fill(t.looks_like, { text: excerpt(other.text) })), " ");
    hint.append(button(t.group_them, "group-them", () => groupThem(card, other), {
      ariaLabel: fill(t.group_them_label, { a: excerpt(card.text), b: excerpt(other.text) }),
    }));
    li.appendChild(hint);
  }

  // The controls each card gets on the board.
  const extra = {
    signature: (card) => {
      const other = lookalike(card);
      return JSON.stringify([card.cluster_id ?? null, store.clusters().map((g) => [g.id, g.name]),
        other ? [other.id, other.text, other.cluster_id ?? null] : null]);
    },
    build: (card, li) => {
      li.draggable = true;
      const start = excerpt(card.text);
      const box = el("div", "card-move");
      const choose = el("label", "toggle");
      const tick = el("input");
      tick.type = "checkbox";
      tick.dataset.field = "choose";
      tick.checked = chosen.has(card.id);
      tick.setAttribute("aria-label", fill(t.choose_label, { text: start }));
      tick.addEventListener("change", () => {
        if (tick.checked) { chosen.add(card.id); } else { chosen.delete(card.id); }
        renderChosen();
      });
      choose.append(tick, document.createTextNode(` ${t.choose}`));
      const select = el("select");
      select.dataset.field = "move-to";
      select.setAttribute("aria-label", fill(t.move_to_label, { text: start }));
      select.append(...groupOptions(card.cluster_id));
      const move = button(t.move, "move", () => {
        assign(card.id, select.value ? Number(select.value) : null, { keepFocus: true });
      }, { ariaLabel: fill(t.move_label, { text: start }) });
      box.append(choose, select, move);
      li.appendChild(box);
      hintOf(card, li);
    },
  };

  // The controls of each group's head: rename; merge into another; delete.
  const groupTools = {
    signature: (group) => JSON.stringify([group.name, store.clusters().map((g) => [g.id, g.name])]),
    build: (group) => {
      const box = el("div", "group-actions");
      const renameRow = el("div", "group-row");
      const rename = el("input");
      rename.type = "text";
      rename.maxLength = 120;
      rename.value = group.name;
      rename.dataset.field = "rename";
      rename.setAttribute("aria-label", fill(t.rename_label, { name: group.name }));
      const doRename = () => {
        const name = rename.value.trim();
        if (!name) { showError(t.group_name_needed); rename.focus(); return; }
        if (name !== group.name) { write("cluster.rename", { id: group.id, name }); }
      };
      rename.addEventListener("keydown", (event) => {
        if (event.key === "Enter") { event.preventDefault(); doRename(); }
      });
      renameRow.append(rename, button(t.rename, "rename", doRename,
        { ariaLabel: fill(t.rename_button_label, { name: group.name }) }));
      box.appendChild(renameRow);
      const row = el("div", "group-row");
      const others = store.clusters().filter((g) => g.id !== group.id);
      if (others.length) {
        const id = `merge-into-${group.id}`;
        const label = el("label", "group-label", t.merge_into);
        label.htmlFor = id;
        const into = el("select");
        into.id = id;
        into.dataset.field = "merge-into";
        into.setAttribute("aria-label", fill(t.merge_into_label, { name: group.name }));
        others.forEach((g) => {
          const option = el("option", "", g.name);
          option.value = String(g.id);
          into.appendChild(option);
        });
        row.append(label, into, button(t.merge, "merge", () => {
          write("cluster.merge", { id: group.id, into: Number(into.value) });
        }, { ariaLabel: fill(t.merge_label, { name: group.name }) }));
      }
      row.appendChild(button(t.delete_group, "delete-group", () => write("cluster.delete", { id: group.id }),
        { className: "small danger", ariaLabel: fill(t.delete_group_label, { name: group.name }) }));
      box.appendChild(row);
      return box;
    },
  };

  // Drag and drop: onto a group, or onto the cards outside the groups.
  function dropZone(event) {
    const zone = event.target.closest && event.target.closest("[data-drop-cluster]");
    return active && zone && wallSection.contains(zone) ? zone : null;
  }
  wallSection.addEventListener("dragstart", (event) => {
    const card = active && event.target.closest && event.target.closest("li.idea[data-id]");
    if (!card) { return; }
    event.dataTransfer.setData("text/plain", card.dataset.id);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  wallSection.addEventListener("dragend", (event) => {
    const card = event.target.closest && event.target.closest("li.idea");
    if (card) { card.classList.remove("dragging"); }
    wallSection.querySelectorAll(".drop-target").forEach((zone) => zone.classList.remove("drop-target"));
  });
  wallSection.addEventListener("dragover", (event) => {
    const zone = dropZone(event);
    if (!zone) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    zone.classList.add("drop-target");
  });
  wallSection.addEventListener("dragleave", (event) => {
    const zone = dropZone(event);
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("drop-target"); }
  });
  wallSection.addEventListener("drop", (event) => {
    const zone = dropZone(event);
    if (!zone) { return; }
    event.preventDefault();
    zone.classList.remove("drop-target");
    const id = Number(event.dataTransfer.getData("text/plain"));
    if (id) { assign(id, zone.dataset.dropCluster ? Number(zone.dataset.dropCluster) : null); }
  });

  /** The board shows at the groups step only. */
  function setActive(isActive) {
    active = isActive;
    root.hidden = !active;
    if (!active) { chosen.clear(); }
  }

  /** After the wall was drawn: a card moved with the keyboard keeps the focus. */
  function afterRender() {
    if (focusAfter == null) { return; }
    const select = wallSection.querySelector(`li.idea[data-id="${focusAfter}"] [data-field=move-to]`);
    focusAfter = null;
    if (select) { select.focus(); }
  }

  /** A refused group action: said here, not in the "not sent" list. */
  function refused(item, answer) {
    if (!item.op.startsWith("cluster.")) { return false; }
    showError(answer.message);
    return true;
  }

  renderChosen();
  return {
    setActive, overlay, afterRender, refused, setHints,
    get active() { return active; },
    get extra() { return active ? extra : null; },
    get groupTools() { return active ? groupTools : null; },
  };
}
