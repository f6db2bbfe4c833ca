/* The table's wall of cards, on a phone or the console. */

import { button, el, excerpt, fill, renderKeyed } from "../dom.js";

/**
 * What the wall should show: the ideas the store lets this screen see, with
 * this device's writes still in its outbox laid over them (marked pending).
 */
export function wallCards(store, outbox, { moderator, me, participantName }) {
  const cards = store.visibleIdeas({ moderator }).map((idea) => ({ ...idea }));
  const byClientId = new Map();
  cards.forEach((card) => {
    if (card.client_id && (moderator || card.author_id === me)) { byClientId.set(card.client_id, card); }
  });
  const pending = [];
  outbox.forEach((item) => {
    const data = item.data || {};
    if (item.op === "idea.post" && !byClientId.has(item.client_id) && !store.all("idea").some(
      (idea) => idea.client_id === item.client_id)) {
      const card = {
        id: null,
        client_id: item.client_id,
        author_id: moderator ? data.participant_id : me,
        author: moderator ? participantName(data.participant_id) : "",
        kind: data.kind,
        text: data.text,
        hidden: false,
        private: false,
        pending: true,
      };
      byClientId.set(card.client_id, card);
      pending.push(card);
      return;
    }
    const target = item.op === "idea.hide"
      ? cards.find((card) => card.id === data.id)
      : byClientId.get(data.target);
    if (!target) { return; }
    if (item.op === "idea.edit") { target.text = data.text; target.kind = data.kind; }
    if (item.op === "idea.delete") { target.deleted = true; }
    if (item.op === "idea.hide") { target.hidden = data.hidden; }
    target.pending = true;
  });
  return pending.reverse().concat(cards).filter((card) => !card.deleted && (moderator || !card.hidden));
}

export function createWall(list, { t, moderator, me, onEdit, onDelete, onHide }) {
  const cache = new Map();
  const emptyNote = el("li", "empty muted", t.empty_wall);

  function build(card, open) {
    const mine = !moderator && card.author_id === me && me != null;
    const li = el("li", `idea kind-${card.kind}`);
    li.classList.toggle("mine", mine);
    li.classList.toggle("pending", !!card.pending);
    li.classList.toggle("hidden-idea", !!card.hidden);
    li.classList.toggle("private-idea", !!card.private);
    if (card.id != null) { li.dataset.id = card.id; }
    if (card.client_id) { li.dataset.clientId = card.client_id; }
    li.dataset.kind = card.kind;

    const meta = el("p", "idea-meta");
    meta.appendChild(el("span", "kind", (t.kinds && t.kinds[card.kind]) || card.kind));
    const author = mine ? t.you : card.author;
    if (author) {
      meta.appendChild(document.createTextNode(" · "));
      const name = el("span", "idea-author", author);
      name.dataset.author = "";
      meta.appendChild(name);
    }
    if (card.pending) { meta.appendChild(el("span", "pending-mark", ` · ${t.sending}`)); }
    if (card.private) { meta.appendChild(el("span", "private-mark", ` · ${t.private_mark}`)); }
    if (card.hidden) { meta.appendChild(el("span", "hidden-mark", ` · ${t.hidden}`)); }
    li.appendChild(meta);
    li.appendChild(el("p", "idea-text", card.text));

    const start = excerpt(card.text);
    const tools = el("div", "idea-tools");
    if (mine && open) {
      tools.appendChild(button(t.edit, "edit", () => onEdit(card),
        { ariaLabel: fill(t.edit_label, { text: start }) }));
      tools.appendChild(button(t.delete, "delete", () => onDelete(card),
        { ariaLabel: fill(t.delete_label, { text: start }) }));
    }
    if (moderator && card.id != null) {
      const show = !!card.hidden;
      tools.appendChild(button(show ? t.show : t.hide, show ? "show" : "hide",
        () => onHide(card, !show),
        { ariaLabel: fill(show ? t.show_label : t.hide_label, { text: start }) }));
    }
    if (tools.childNodes.length) { li.appendChild(tools); }
    return li;
  }

  /** Rebuild only the cards that changed: screen readers announce new cards only. */
  function render(cards, { open }) {
    renderKeyed(list, cache, cards, {
      key: (card) => (card.id != null ? `i${card.id}` : `c${card.client_id}`),
      signature: (card) => JSON.stringify([card.id, card.kind, card.text, card.author, card.author_id,
        !!card.pending, !!card.hidden, !!card.private, open]),
      build: (card) => build(card, open),
      empty: emptyNote,
    });
  }

  return { render };
}
