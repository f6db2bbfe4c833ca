/* The room's vote on the evening's themes (issue 18): whatever the table's
   step, once the organizers open it every phone shows the themes and its
   budget, dots to spread or themes to rank; a ballot is sent whole (the
   last one counts) through the outbox. Once closed, the results. */

import { button, el, fill, setText } from "../dom.js";

export function createRoomVote(section, { t, store, write }) {
  const rules = section.querySelector("[data-room-vote-rules]");
  const list = section.querySelector("[data-room-vote-themes]");
  const left = section.querySelector("[data-room-vote-left]");
  const send = section.querySelector("[data-room-vote-send]");
  const state = section.querySelector("[data-room-vote-state]");
  const results = section.querySelector("[data-room-vote-results]");
  let draft = null; // {vote: opened_at, points: {theme id: n}, ranking: [ids]}

  function current() {
    const table = store.table();
    return table ? table.room_vote : null;
  }

  /** This phone's ballot in ``vote``: the outbox's last, else the server's. */
  function sent(vote, outbox) {
    const queued = outbox.filter((item) => item.op === "room_vote.cast" && item.data.vote === vote.opened_at);
    if (queued.length) { return { points: pointsOf(vote, queued[queued.length - 1].data), pending: true }; }
    const ballot = store.all("room_ballot").find((b) => b.vote === vote.opened_at && b.points);
    return { points: ballot ? ballot.points : {}, pending: false };
  }

  function pointsOf(vote, data) {
    if (vote.mode !== "ranking") { return data.points || {}; }
    const points = {};
    (data.ranking || []).forEach((id, rank) => { points[String(id)] = vote.budget - rank; });
    return points;
  }

  function spent() { return Object.values(draft.points).reduce((a, b) => a + b, 0); }

  function submit(vote) {
    const data = vote.mode === "ranking" ? { ranking: draft.ranking } : { points: draft.points };
    write("room_vote.cast", { ...data, vote: vote.opened_at });
  }

  function renderDots(vote) {
    const nodes = vote.themes.map((theme) => {
      const key = String(theme.id);
      const n = draft.points[key] || 0;
      const li = el("li", "room-vote-theme");
      li.dataset.theme = theme.id;
      const label = el("span", "room-vote-label", theme.label);
      const count = el("output", "room-vote-count", n);
      count.setAttribute("aria-label", fill(t.room_points_of, { n, label: theme.label }));
      const less = button("−", "less", () => {
        draft.points[key] = Math.max(0, n - 1);
        draw();
      }, { ariaLabel: fill(t.room_less, { label: theme.label }) });
      const more = button("+", "more", () => {
        draft.points[key] = n + 1;
        draw();
      }, { ariaLabel: fill(t.room_more, { label: theme.label }) });
      less.disabled = n === 0;
      more.disabled = spent() >= vote.budget;
      less.dataset.key = `less-${theme.id}`;
      more.dataset.key = `more-${theme.id}`;
      li.append(label, less, count, more);
      return li;
    });
    list.replaceChildren(...nodes);
    setText(left, fill(t.room_left, { n: vote.budget - spent() }));
  }

  function renderRanking(vote) {
    const byId = new Map(vote.themes.map((theme) => [theme.id, theme]));
    const ranked = draft.ranking.map((id, rank) => {
      const li = el("li", "room-vote-theme ranked-theme", fill(t.room_rank, { n: rank + 1, label: byId.get(id).label }));
      li.dataset.theme = id;
      li.append(" ", button(t.room_unrank, "unrank", () => {
        draft.ranking = draft.ranking.filter((other) => other !== id);
        draw();
      }, { ariaLabel: fill(t.room_unrank_theme, { label: byId.get(id).label }) }));
      li.lastChild.dataset.key = `unrank-${id}`;
      return li;
    });
    const full = draft.ranking.length >= vote.budget;
    const others = vote.themes.filter((theme) => !draft.ranking.includes(theme.id)).map((theme) => {
      const li = el("li", "room-vote-theme");
      li.dataset.theme = theme.id;
      li.append(el("span", "room-vote-label", theme.label), " ");
      const add = button(t.room_rank_next, "rank", () => {
        draft.ranking = draft.ranking.concat([theme.id]);
        draw();
      }, { ariaLabel: fill(t.room_rank_theme, { label: theme.label }) });
      add.disabled = full;
      add.dataset.key = `rank-${theme.id}`;
      li.append(add);
      return li;
    });
    list.replaceChildren(...ranked, ...others);
    setText(left, fill(t.room_ranks_left, { n: vote.budget - draft.ranking.length }));
  }

  function renderResults(vote) {
    const nodes = (vote.results || []).map((row) => {
      const li = el("li", null, row.label);
      li.dataset.theme = row.id;
      li.append(" ", el("span", "muted", fill(t.room_result, { points: row.points, voters: row.voters })));
      return li;
    });
    results.replaceChildren(...nodes);
  }

  let lastOutbox = [];
  function render(outbox) {
    lastOutbox = outbox;
    draw();
  }

  /** Redraw, the keyboard's place kept on the control with the same key. */
  function draw() {
    const active = document.activeElement;
    const key = active && list.contains(active) ? active.dataset.key : null;
    drawVote();
    const again = key && list.querySelector(`[data-key="${key}"]`);
    if (again && !again.disabled) { again.focus(); } else if (key) { send.focus(); }
  }

  function drawVote() {
    const vote = current();
    section.hidden = !vote;
    if (!vote) { return; }
    section.dataset.state = vote.state;
    const open = vote.state === "open";
    list.hidden = left.hidden = send.hidden = !open;
    results.hidden = open;
    if (!open) {
      setText(rules, t.room_closed);
      setText(state, "");
      renderResults(vote);
      return;
    }
    const mine = sent(vote, lastOutbox);
    if (!draft || draft.vote !== vote.opened_at) {
      const points = { ...mine.points };
      const ranking = Object.keys(points).sort((a, b) => points[b] - points[a]).map(Number);
      draft = { vote: vote.opened_at, points, ranking };
    }
    setText(rules, fill(vote.mode === "ranking" ? t.room_rules_ranking : t.room_rules_dots, { n: vote.budget }));
    if (vote.mode === "ranking") { renderRanking(vote); } else { renderDots(vote); }
    const draftPoints = vote.mode === "ranking" ? pointsOf(vote, { ranking: draft.ranking }) : draft.points;
    const same = JSON.stringify(clean(draftPoints)) === JSON.stringify(clean(mine.points));
    setText(state, mine.pending ? t.room_sending : same && Object.keys(clean(mine.points)).length ? t.room_sent : t.room_not_sent);
    send.onclick = () => submit(vote);
  }

  function clean(points) {
    const kept = {};
    Object.keys(points).sort().forEach((key) => { if (points[key]) { kept[key] = points[key]; } });
    return kept;
  }

  return { render };
}
