/* The table's wall of cards, on a phone or the console. */

import { button, el, excerpt, fill, renderKeyed, setText } from "../dom.js";

/**
 * What the wall should show: the ideas the store lets this screen see, with
 * this device's writes still in its outbox laid over them (marked pending).
 */
export function wallCards(store, outbox, { moderator, me, participantName }) {
  // An author still sees their own ideas the facilitator set aside, with a word why.
  const setAside = moderator ? [] : store.all("idea").filter((idea) => idea.hidden && !idea.deleted
    && !idea.withheld && me != null && idea.author_id === me);
  const cards = store.visibleIdeas({ moderator }).concat(setAside)
    .sort((a, b) => b.id - a.id)
    .map((idea) => ({ ...idea }));
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
  return pending.reverse().concat(cards)
    .filter((card) => !card.deleted && (moderator || !card.hidden || (me != null && card.author_id === me)));
}

/**
 * ``list`` holds the cards outside any group (every card while there is no
 * group); ``groupsRoot`` the table's groups, each a section of its own, and
 * ``looseTitle`` the heading of the cards left out of the groups.
 */
export function createWall(list, { t, moderator, me, onEdit, onDelete, onHide, groupsRoot, looseTitle }) {
  const cache = new Map();
  const groupCache = new Map(); // cluster id -> its section
  const emptyNote = el("li", "empty muted", t.empty_wall);

  function isMine(card) { return !moderator && card.author_id === me && me != null; }

  function build(card, open, extra) {
    const mine = isMine(card);
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
    if (card.pending) { meta.appendChild(pendingMark()); }
    if (card.private) { meta.appendChild(el("span", "private-mark", ` · ${t.private_mark}`)); }
    if (card.hidden && moderator) { meta.appendChild(el("span", "hidden-mark", ` · ${t.hidden}`)); }
    li.appendChild(meta);
    li.appendChild(el("p", "idea-text", card.text));
    if (card.hidden && mine) { li.appendChild(el("p", "set-aside", t.set_aside)); }

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
      const toggle = button(show ? t.show : t.hide, show ? "show" : "hide",
        () => onHide(card, !show),
        { ariaLabel: fill(show ? t.show_label : t.hide_label, { text: start }) });
      toggle.dataset.focus = "visibility"; // one switch: the focus stays on it
      tools.appendChild(toggle);
    }
    if (tools.childNodes.length) { li.appendChild(tools); }
    if (extra && card.id != null) { extra.build(card, li); }
    return li;
  }

  function pendingMark() { return el("span", "pending-mark", ` · ${t.waiting}`); }

  /** What an answer changes on a card without rebuilding it: being sent,
      its number (a rebuilt card would be announced a second time). */
  function refresh(li, card) {
    li.classList.toggle("pending", !!card.pending);
    if (card.id != null) { li.dataset.id = card.id; }
    const mark = li.querySelector(".idea-meta .pending-mark");
    if (card.pending && !mark) {
      const meta = li.querySelector(".idea-meta");
      meta.insertBefore(pendingMark(), meta.querySelector(".private-mark, .hidden-mark"));
    } else if (!card.pending && mark) {
      mark.remove();
    }
  }

  function renderCards(target, targetCache, cards, open, extra, empty) {
    renderKeyed(target, targetCache, cards, {
      // One key from posting to acknowledgement: a card this screen wrote
      // keeps its node when the server numbers it.
      key: (card) => (card.client_id ? `c${card.client_id}` : `i${card.id}`),
      signature: (card) => JSON.stringify([(moderator || extra) ? card.id != null : null, card.kind, card.text,
        isMine(card) ? "" : card.author, card.author_id, !!card.hidden, !!card.private, open,
        extra ? extra.signature(card) : ""]),
      build: (card) => build(card, open, extra),
      refresh,
      empty,
    });
  }

  function buildGroup(group) {
    const section = el("section", "group");
    section.dataset.clusterId = group.id;
    section.dataset.dropCluster = group.id;
    const titleId = `${list.id || "wall"}-group-${group.id}`;
    section.setAttribute("aria-labelledby", titleId);
    const head = el("div", "group-head");
    const title = el("h3", "group-name");
    title.id = titleId;
    const name = el("span", "", group.name);
    name.dataset.groupName = "";
    const count = el("span", "group-count muted");
    count.dataset.groupCount = "";
    title.append(name, count);
    head.appendChild(title);
    const tools = el("div", "group-tools");
    head.appendChild(tools);
    const cards = el("ul", "wall");
    cards.dataset.groupCards = "";
    section.append(head, cards);
    const empty = el("li", "empty muted", t.empty_group);
    return { section, name, count, tools, cards, empty, cache: new Map(), toolsSignature: null };
  }

  /**
   * Rebuild only the cards that changed: screen readers announce new cards
   * only. ``groups`` (the table's groups, in order) sorts the cards into
   * them; ``extra`` ({signature, build}) adds a step's controls to each card
   * and ``groupTools`` ({signature, build}) to each group's head.
   */
  function render(cards, { open, groups = [], extra = null, groupTools = null }) {
    const known = new Set(groups.map((group) => group.id));
    const loose = groups.length ? cards.filter((card) => !known.has(card.cluster_id)) : cards;
    renderCards(list, cache, loose, open, extra, cards.length ? null : emptyNote);
    if (looseTitle) { looseTitle.hidden = !groups.length || !loose.length; }
    if (!groupsRoot) { return; }
    groupsRoot.hidden = !groups.length;
    const sections = groups.map((group) => {
      let known = groupCache.get(group.id);
      if (!known) { known = buildGroup(group); }
      return [group, known];
    });
    groupCache.clear();
    sections.forEach(([group, known], index) => {
      groupCache.set(group.id, known);
      if (groupsRoot.children[index] !== known.section) {
        groupsRoot.insertBefore(known.section, groupsRoot.children[index] || null);
      }
      const inside = cards.filter((card) => card.cluster_id === group.id);
      setText(known.name, group.name);
      setText(known.count, ` · ${inside.length === 1 ? t.cards_one : fill(t.cards_many, { n: inside.length })}`);
      known.section.dataset.count = String(inside.length);
      renderCards(known.cards, known.cache, inside, open, extra, known.empty);
      const signature = groupTools ? groupTools.signature(group, inside) : "";
      if (signature !== known.toolsSignature) {
        const focused = known.tools.contains(document.activeElement) ? document.activeElement : null;
        const wanted = focused && (focused.dataset.action || focused.dataset.field);
        known.tools.replaceChildren(...(groupTools ? [groupTools.build(group, inside)] : []));
        known.toolsSignature = signature;
        if (wanted) {
          const again = known.tools.querySelector(`[data-action="${wanted}"], [data-field="${wanted}"]`);
          if (again) { again.focus(); }
        }
      }
    });
    while (groupsRoot.children.length > sections.length) { groupsRoot.removeChild(groupsRoot.lastChild); }
  }

  return { render };
}
