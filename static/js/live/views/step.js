/* The step bar: the step being run, its question, what comes next, and the
   timer (server time: the store knows the server's clock). */

import { clock, fill, setText } from "../dom.js";

export function createStepBar(root, { t, store, moderator }) {
  const title = root.querySelector("[data-step-title]");
  const position = root.querySelector("[data-step-position]");
  const prompt = root.querySelector("[data-step-prompt]");
  const next = root.querySelector("[data-step-next]");
  const timer = root.querySelector("[data-timer]");
  const value = timer.querySelector("[data-timer-value]");
  const paused = timer.querySelector("[data-timer-paused]");
  const note = timer.querySelector("[data-timer-note]");
  let ticking = null;

  function renderTimer() {
    const state = store.timer();
    timer.hidden = !state;
    if (!state) { timer.dataset.level = "none"; return false; }
    const level = store.timerLevel(state.left);
    const text = clock(state.left);
    setText(value, text);
    timer.dataset.level = level;
    timer.dataset.seconds = String(state.left);
    timer.dataset.paused = String(state.paused);
    paused.hidden = !state.paused;
    // The timer's colour is said in words too (WCAG 1.4.1).
    const words = (t.timer_levels || {})[level] || "";
    setText(note, words);
    note.hidden = !words;
    return !state.paused;
  }

  function tick() {
    if (!renderTimer()) { clearInterval(ticking); ticking = null; }
  }

  function render() {
    const step = store.currentStep();
    const steps = store.steps();
    // A phone shows the bar once the script has started; the console always.
    root.hidden = !step && !moderator;
    root.dataset.stepKind = step ? step.kind : "none";
    setText(title, step ? step.title : t.not_started);
    setText(position, step ? fill(t.step_of, { n: steps.indexOf(step) + 1, total: steps.length }) : "");
    setText(prompt, step ? step.prompt : "");
    prompt.hidden = !(step && step.prompt);
    const upcoming = store.nextStep();
    setText(next, upcoming ? fill(t.step_next, { title: upcoming.title }) : "");
    next.hidden = !upcoming;
    if (renderTimer()) {
      if (!ticking) { ticking = setInterval(tick, 250); }
    } else if (ticking) {
      clearInterval(ticking);
      ticking = null;
    }
  }

  return { render };
}
