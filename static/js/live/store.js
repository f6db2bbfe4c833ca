/* The live state of one table, as one screen knows it (DESIGN.md §6).

   Pure: no DOM, no socket. It keeps the latest view of every entity (by type
   and id), the sequence numbers seen, the server's clock, and answers the
   questions the views ask (current step, visible ideas, time left…). */

/** Every kind of card, in the order offered when a step does not choose:
    the first is the one chosen by default. */
export const KINDS = ["idea", "need", "resource", "feature", "question"];

const WARNING = 120; // seconds left when a timer turns amber
const DANGER = 30; // … and red

// How much of an entity a view shows: a placeholder shows nothing; the
// author's own view carries more fields than the table's.
function richness(entity) {
  return entity.withheld ? 0 : Object.keys(entity).length;
}

export function createStore({ clock = () => Date.now() } = {}) {
  const entities = new Map(); // type -> Map(id -> entity)
  const beyond = new Set(); // seqs seen past a gap
  let lastSeq = 0; // every change up to this number is known
  let topSeq = 0; // the highest number seen
  let epoch = null; // the server's, as of the last catch-up
  let offset = 0; // server clock minus this device's clock, in ms

  function byType(type) {
    if (!entities.has(type)) { entities.set(type, new Map()); }
    return entities.get(type);
  }

  function noteSeq(seq) {
    if (typeof seq !== "number" || seq <= lastSeq) { return; }
    topSeq = Math.max(topSeq, seq);
    beyond.add(seq);
    while (beyond.has(lastSeq + 1)) { beyond.delete(lastSeq + 1); lastSeq += 1; }
  }

  /** Keep the newer view of an entity; on a tie, the one that shows more. */
  function apply(change) {
    if (!change || !change.type || change.id === undefined) { return false; }
    const known = byType(change.type).get(change.id);
    let changed = false;
    if (!known || change.seq > known.seq || (change.seq === known.seq && richness(change) > richness(known))) {
      byType(change.type).set(change.id, change);
      changed = true;
    }
    noteSeq(change.seq);
    return changed;
  }

  function applyAll(changes) {
    let changed = false;
    (changes || []).forEach((change) => { changed = apply(change) || changed; });
    return changed;
  }

  /** A catch-up answer: every change up to ``result.seq`` is now known.
      With ``reset`` (numbers this screen saw were lost in a power cut, and
      may be reused), what it knew is replaced by the answer. */
  function catchUp(result) {
    if (result.reset) {
      entities.clear();
      beyond.clear();
      lastSeq = 0;
      topSeq = 0;
    }
    if (typeof result.epoch === "string") { epoch = result.epoch; }
    applyAll(result.changes);
    if (typeof result.seq === "number") { lastSeq = Math.max(lastSeq, result.seq); }
    topSeq = Math.max(topSeq, lastSeq);
    beyond.forEach((seq) => { if (seq <= lastSeq) { beyond.delete(seq); } });
    while (beyond.has(lastSeq + 1)) { beyond.delete(lastSeq + 1); lastSeq += 1; }
    if (typeof result.now === "number") { setServerNow(result.now); }
  }

  function setServerNow(now) { offset = now - clock(); }
  function serverNow() { return clock() + offset; }

  function get(type, id) { return byType(type).get(id); }
  function all(type) { return Array.from(byType(type).values()); }

  function table() { return all("table")[0] || null; }
  /** The script's steps in order (each step is an entity of its own). */
  function steps() {
    const t = table();
    return t ? (t.step_ids || []).map((id) => get("step", id)).filter(Boolean) : [];
  }
  function stepIndex() {
    const t = table();
    return t && t.step_id != null ? steps().findIndex((s) => s.id === t.step_id) : -1;
  }
  function currentStep() { const i = stepIndex(); return i >= 0 ? steps()[i] : null; }
  function previousStep() { const i = stepIndex(); return i > 0 ? steps()[i - 1] : null; }
  function nextStep() {
    const i = stepIndex();
    return steps()[i + 1] || null; // no step yet: the first one
  }

  /** The card kinds to offer, the first chosen by default: the diverge
      step's own; between steps every kind, those of the table's script
      first (a need-finding table writes needs, a creative one ideas). */
  function cardKinds(allKinds = KINDS) {
    const own = (step) => ((step && step.kind === "diverge" && step.settings && step.settings.card_kinds)
      || []).filter((kind) => allKinds.includes(kind));
    const offered = own(currentStep());
    if (offered.length) { return offered; }
    const script = steps().find((step) => own(step).length);
    const first = script ? own(script) : [];
    return first.concat(allKinds.filter((kind) => !first.includes(kind)));
  }

  /** Ideas whose content this screen may show, newest first. Phones do not
      show hidden ideas, not even their author's. */
  function visibleIdeas({ moderator = false } = {}) {
    return all("idea")
      .filter((idea) => !idea.deleted && !idea.withheld && (moderator || !idea.hidden))
      .sort((a, b) => b.id - a.id);
  }

  /** Other people's ideas kept private until the facilitator reveals them. */
  function privateCount() {
    return all("idea").filter((i) => i.withheld && i.private && !i.deleted && !i.hidden).length;
  }

  /** The people at the table (not those the facilitator took off it). */
  function participants() { return all("participant").filter((p) => !p.removed).sort((a, b) => a.id - b.id); }

  /** The table's groups, in their order. */
  function clusters() {
    return all("cluster").filter((c) => !c.deleted).sort((a, b) => a.position - b.position || a.id - b.id);
  }

  /** The last closed vote's tally as [{idea, votes}], most voted first
      (only the cards this screen may see). */
  function ranking({ moderator = false } = {}) {
    const closed = steps().filter((s) => s.kind === "vote" && s.settings && s.settings.state === "closed");
    const step = closed[closed.length - 1];
    if (!step) { return null; }
    const visible = new Map(visibleIdeas({ moderator }).map((idea) => [idea.id, idea]));
    return Object.entries(step.settings.results || {})
      .map(([id, votes]) => ({ idea: visible.get(Number(id)), votes }))
      .filter((row) => row.idea && row.votes > 0)
      .sort((a, b) => b.votes - a.votes || a.idea.id - b.idea.id);
  }

  /** The active votes of a vote step (placeholders included). */
  function votes(stepId) {
    return all("vote").filter((v) => v.step_id === stepId && v.active).sort((a, b) => a.id - b.id);
  }

  /** A sheet field by key ({text: "", version: 0} until first written). */
  function sheetField(key) {
    return all("sheet_field").find((f) => f.key === key) || { key, text: "", version: 0, edited_by: "", editing_by: "" };
  }

  /** Commitments not taken back, in the order they were made. */
  function commitments() {
    return all("commitment").filter((c) => !c.withdrawn && c.role).sort((a, b) => a.id - b.id);
  }

  /** The table's mix: how many participants per actor category. */
  function mix() {
    const counts = {};
    participants().forEach((p) => { counts[p.category] = (counts[p.category] || 0) + 1; });
    return counts;
  }

  /** The timer: seconds left (negative past the end), paused or not; null without one. */
  function timer() {
    const t = table();
    const state = t && t.timer;
    if (!state) { return null; }
    if (state.left != null) { return { left: state.left, paused: true }; }
    if (state.ends_at == null) { return null; }
    return { left: Math.ceil((state.ends_at - serverNow()) / 1000), paused: false };
  }

  function timeLeft() { const t = timer(); return t ? t.left : null; }

  /** ok | warning (amber) | danger (red) | overtime. */
  function timerLevel(left) {
    if (left == null) { return "none"; }
    if (left < 0) { return "overtime"; }
    if (left <= DANGER) { return "danger"; }
    if (left <= WARNING) { return "warning"; }
    return "ok";
  }

  return {
    apply, applyAll, catchUp, setServerNow, serverNow, get, all,
    get lastSeq() { return lastSeq; },
    get topSeq() { return topSeq; },
    get epoch() { return epoch; },
    hasGap() { return beyond.size > 0; },
    table, steps, currentStep, previousStep, nextStep, cardKinds,
    visibleIdeas, privateCount, participants, mix, timer, timeLeft, timerLevel,
    clusters, ranking, votes, sheetField, commitments,
  };
}
