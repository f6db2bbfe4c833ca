/* The dot vote (DESIGN.md §5, step 5): N votes each, at most M on one card,
   results hidden until the facilitator closes the vote. A phone sees its own
   votes only (the others' are placeholders); the console sees who voted,
   not for what; once closed, the ranking shows everywhere. */

import { button, el, excerpt, fill, setText } from "../dom.js";

const VOTE_OPS = ["vote.cast", "vote.withdraw"];

/** The current step when it is a vote. */
export function voteStep(store) {
  const step = store.currentStep();
  return step && step.kind === "vote" ? step : null;
}

export function voteState(step) {
  return (step && step.settings && step.settings.state) || "ready";
}

function rules(step, t) {
  const settings = (step && step.settings) || {};
  const text = fill(t.vote_rules, { votes: settings.votes ?? 3, max: settings.max_per_card ?? 2 });
  return settings.no_self_vote ? `${text} ${t.vote_no_self}` : text;
}

function votesText(n, t) { return n === 1 ? t.votes_one : fill(t.votes_many, { n }); }

/** Fill ``list`` (an ol) with the ranking: the most voted cards first, with their votes. */
export function renderRanking(list, rows, t, limit) {
  const items = (rows || []).slice(0, limit || undefined);
  const signature = JSON.stringify(items.map((row) => [row.idea.id, row.idea.kind, row.idea.text, row.votes]));
  if (list.dataset.signature === signature) { return; }
  list.dataset.signature = signature;
  const nodes = items.map(({ idea, votes }) => {
    const li = el("li", `ranked kind-${idea.kind}`);
    li.dataset.ideaId = idea.id;
    li.dataset.votes = votes;
    li.appendChild(el("span", "ranked-text", idea.text));
    li.appendChild(el("span", "ranked-votes", votesText(votes, t)));
    return li;
  });
  list.replaceChildren(...(nodes.length ? nodes : [el("li", "empty muted", t.no_votes)]));
}

/** Where this device's votes are: the server's answer, with the outbox laid over it. */
function myVotes(store, step, me, outbox) {
  const counts = new Map();
  const add = (id, n) => counts.set(id, Math.max(0, (counts.get(id) || 0) + n));
  store.votes(step.id).forEach((vote) => {
    if (vote.participant_id === me && vote.idea_id != null) { add(vote.idea_id, 1); }
  });
  outbox.forEach((item) => {
    if (item.op === "vote.cast" && !item.data.participant_id) { add(item.data.idea_id, 1); }
    if (item.op === "vote.withdraw" && !item.data.participant_id) { add(item.data.idea_id, -1); }
  });
  return counts;
}

/**
 * The phone's vote: votes left and refusals in the step bar (always in
 * sight), a vote and a take-back button on every card while the vote is
 * open, the ranking once it is closed.
 */
export function createPhoneVote({ t, store, me, write, status, panel }) {
  const left = status.querySelector("[data-votes-left]");
  const errorNote = status.querySelector("[data-vote-error]");
  const stateNote = panel.querySelector("[data-vote-state]");
  const rulesNote = panel.querySelector("[data-vote-rules]");
  const results = panel.querySelector("[data-vote-results]");
  const rankingList = panel.querySelector("[data-ranking]");
  let step = null;
  let mine = new Map();
  let error = null;
  let errorStep = null;

  function act(op, card) {
    error = null;
    write(op, { idea_id: card.id });
  }

  const extra = {
    signature: (card) => {
      const settings = step.settings || {};
      return JSON.stringify([voteState(step), mine.get(card.id) || 0, (settings.results || {})[card.id] || 0]);
    },
    build: (card, li) => {
      const state = voteState(step);
      const settings = step.settings || {};
      const box = el("div", "vote-tools");
      const start = excerpt(card.text);
      if (state === "closed") {
        const n = (settings.results || {})[card.id] || 0;
        const count = el("span", "vote-count", votesText(n, t));
        count.dataset.votes = String(n);
        box.appendChild(count);
      } else if (state === "open") {
        const n = mine.get(card.id) || 0;
        const count = el("span", "my-votes", fill(t.my_votes, { n }));
        count.dataset.myVotes = String(n);
        count.hidden = !n;
        box.appendChild(count);
        if (settings.no_self_vote && card.author_id === me) {
          box.appendChild(el("span", "muted", t.own_card));
        } else {
          box.appendChild(button(t.vote, "vote", () => act("vote.cast", card),
            { className: "small primary", ariaLabel: fill(t.vote_label, { text: start }) }));
        }
        if (n) {
          box.appendChild(button(t.unvote, "unvote", () => act("vote.withdraw", card),
            { ariaLabel: fill(t.unvote_label, { text: start }) }));
        }
      }
      if (box.childNodes.length) { li.appendChild(box); }
    },
  };

  function render(outbox) {
    step = voteStep(store);
    status.hidden = !step;
    panel.hidden = !step;
    if (!step) { return; }
    if (errorStep !== step.id) { error = null; errorStep = step.id; }
    const state = voteState(step);
    mine = myVotes(store, step, me, outbox);
    const budget = (step.settings && step.settings.votes) ?? 3;
    const spent = Array.from(mine.values()).reduce((a, b) => a + b, 0);
    const rest = Math.max(0, budget - spent);
    left.hidden = state !== "open";
    left.dataset.left = String(rest);
    setText(left, rest === 0 ? t.votes_left_none : rest === 1 ? t.votes_left_one : fill(t.votes_left_many, { n: rest }));
    setText(errorNote, error ? error.message : "");
    errorNote.dataset.error = error ? error.code : "";
    panel.dataset.state = state;
    setText(stateNote, t.vote_states[state]);
    setText(rulesNote, rules(step, t));
    results.hidden = state !== "closed";
    if (state === "closed") { renderRanking(rankingList, store.ranking(), t); }
  }

  /** A vote refused (none left, card full, own card, vote closed): said in the step bar. */
  function refused(item, answer) {
    if (!VOTE_OPS.includes(item.op)) { return false; }
    error = { code: answer.error || "", message: answer.message || "" };
    return true;
  }

  return {
    render, refused,
    get extra() { return step ? extra : null; },
  };
}

/**
 * The console's vote: its rules, open and close, how many people have voted
 * and how many votes are cast (not for what), a vote for someone without a
 * phone, then the ranking.
 */
export function createConsoleVote(panel, { t, store, write }) {
  const q = (selector) => panel.querySelector(selector);
  const rulesNote = q("[data-vote-rules]");
  const stateNote = q("[data-vote-state]");
  const openButton = q("[data-action=vote-open]");
  const closeButton = q("[data-action=vote-close]");
  const progress = q("[data-vote-progress]");
  const behalf = q("[data-vote-behalf]");
  const who = behalf.elements.participant_id;
  const card = behalf.elements.idea_id;
  const errorNote = q("[data-vote-error]");
  const results = q("[data-vote-results]");
  const rankingList = q("[data-ranking]");
  let error = "";

  openButton.addEventListener("click", () => write("vote.open", {}));
  closeButton.addEventListener("click", () => write("vote.close", {}));

  function onBehalf(op) {
    const participant = Number(who.value);
    const idea = Number(card.value);
    if (!participant || !idea) { error = t.choose_vote; setText(errorNote, error); return; }
    error = "";
    setText(errorNote, "");
    write(op, { participant_id: participant, idea_id: idea });
  }
  q("[data-action=vote-for]").addEventListener("click", () => onBehalf("vote.cast"));
  q("[data-action=unvote-for]").addEventListener("click", () => onBehalf("vote.withdraw"));

  function fillSelect(select, items, placeholder) {
    const signature = JSON.stringify(items);
    if (select.dataset.signature === signature) { return; }
    const chosen = select.value;
    const first = el("option", "", placeholder);
    first.value = "";
    select.replaceChildren(first, ...items.map(([value, label]) => {
      const option = el("option", "", label);
      option.value = String(value);
      return option;
    }));
    select.value = items.some(([value]) => String(value) === chosen) ? chosen : "";
    select.dataset.signature = signature;
  }

  function render() {
    const step = voteStep(store);
    panel.hidden = !step;
    if (!step) { return; }
    const state = voteState(step);
    panel.dataset.state = state;
    setText(rulesNote, rules(step, t));
    setText(stateNote, t.vote_states[state]);
    // The button just pressed disappears: the keyboard's focus goes to the
    // one that takes its place, not to the page.
    const focused = document.activeElement;
    openButton.hidden = state === "open";
    setText(openButton, state === "closed" ? t.vote_reopen : t.vote_open);
    closeButton.hidden = state !== "open";
    if (focused === openButton && openButton.hidden) { closeButton.focus(); }
    if (focused === closeButton && closeButton.hidden) { openButton.focus(); }
    const votes = store.votes(step.id);
    const voters = new Set(votes.map((vote) => vote.participant_id).filter((id) => id != null));
    progress.dataset.voters = String(voters.size);
    progress.dataset.votes = String(votes.length);
    setText(progress, fill(t.vote_progress, { voters: voters.size, people: store.participants().length, votes: votes.length }));
    behalf.hidden = state !== "open";
    fillSelect(who, store.participants().map((p) => [p.id, p.name]), t.choose_participant);
    fillSelect(card, store.visibleIdeas().filter((idea) => !idea.private)
      .map((idea) => [idea.id, excerpt(idea.text, 60)]), t.choose_card);
    setText(errorNote, error);
    results.hidden = state !== "closed";
    if (state === "closed") { renderRanking(rankingList, store.ranking({ moderator: true }), t); }
  }

  function refused(item, answer) {
    if (!VOTE_OPS.includes(item.op) && !["vote.open", "vote.close"].includes(item.op)) { return false; }
    error = answer.message || "";
    return true;
  }

  return { render, refused };
}
