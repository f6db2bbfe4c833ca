/* The facilitator's controls: the script's steps, the timer, private ideas
   and their reveal, names shown or hidden, the people at the table (with the
   table's mix and the reporter), and cards posted for someone without a phone. */

import { button, el, fill, renderKeyed, setText } from "../dom.js";
import { createComposer } from "./composer.js";
import { introDetails, introSignature } from "./intro.js";

const ADD_SECONDS = 300;

/** The value the last write of ``op`` still in the outbox asks for, if any. */
function pending(outbox, op, match, pick) {
  const items = outbox.filter((item) => item.op === op && match(item.data || {}));
  return items.length ? pick(items[items.length - 1].data) : undefined;
}

export function createConsole(root, { t, store, write, allKinds, categories }) {
  const q = (selector) => root.querySelector(selector);
  const stepList = q("[data-steps]");
  const prev = q("[data-action=prev-step]");
  const next = q("[data-action=next-step]");
  const pauseButton = q("[data-action=pause]");
  const addTime = q("[data-action=add-time]");
  const reveal = q("[data-action=reveal]");
  const privateIdeas = q("[data-private-ideas]");
  const anonymous = q("[data-setting=anonymous]");
  const people = q("[data-people]");
  const peopleCount = q("[data-people-count]");
  const mixList = q("[data-mix]");
  const reporter = q("[data-reporter]");
  const behalfForm = q("[data-behalf]");
  const behalfWho = behalfForm.elements.participant_id;
  const message = q("[data-console-message]");
  const stepCache = new Map();
  const peopleCache = new Map();
  let outbox = [];

  function go(step) { write("step.go", { step_id: step ? step.id : null }); }

  prev.addEventListener("click", () => { const step = store.previousStep(); if (step) { go(step); } });
  next.addEventListener("click", () => { const step = store.nextStep(); if (step) { go(step); } });
  pauseButton.addEventListener("click", () => {
    write(pauseButton.dataset.paused === "true" ? "timer.resume" : "timer.pause", {});
  });
  addTime.addEventListener("click", () => write("timer.add", { seconds: ADD_SECONDS }));
  reveal.addEventListener("click", () => write("step.reveal", {}));
  anonymous.addEventListener("change", () => write("table.anonymous", { anonymous: anonymous.checked }));

  const behalf = createComposer(behalfForm, {
    t,
    idPrefix: "behalf",
    labels: t.kinds,
    onSubmit: ({ kind, text }) => {
      const who = Number(behalfWho.value);
      if (!who) { behalf.showError(t.choose_participant); behalfWho.focus(); return false; }
      write("idea.post", { participant_id: who, kind, text });
      return true;
    },
  });

  function buildStep(step) {
    const steps = store.steps();
    const li = el("li", "step-item");
    li.dataset.stepId = step.id;
    li.dataset.stepKind = step.kind;
    const label = `${steps.indexOf(step) + 1}. ${step.title} · ${fill(t.minutes, { n: Math.round(step.duration / 60) })}`;
    li.appendChild(button(label, "go", () => go(step), { className: "step-go" }));
    if (step.kind === "diverge") {
      const toggle = el("label", "toggle");
      const box = el("input");
      box.type = "checkbox";
      box.dataset.setting = "private";
      box.addEventListener("change", () => {
        write("step.update", { step_id: step.id, settings: { private: box.checked } });
      });
      toggle.appendChild(box);
      toggle.appendChild(document.createTextNode(` ${t.keep_private} `));
      toggle.appendChild(el("span", "visually-hidden", `(${step.title})`));
      li.appendChild(toggle);
    }
    return li;
  }

  function renderSteps() {
    const steps = store.steps();
    const current = store.currentStep();
    renderKeyed(stepList, stepCache, steps, {
      key: (step) => step.id,
      signature: (step) => JSON.stringify([step.title, step.kind, step.duration, steps.indexOf(step), steps.length]),
      build: buildStep,
    });
    Array.from(stepList.children).forEach((li) => {
      const step = steps.find((s) => String(s.id) === li.dataset.stepId);
      const isCurrent = !!current && step === current;
      li.classList.toggle("current", isCurrent);
      const go = li.querySelector("[data-action=go]");
      if (isCurrent) { go.setAttribute("aria-current", "step"); } else { go.removeAttribute("aria-current"); }
      const box = li.querySelector("[data-setting=private]");
      if (box && step) {
        const wanted = pending(outbox, "step.update", (d) => d.step_id === step.id && d.settings
          && "private" in d.settings, (d) => d.settings.private);
        const settings = step.settings || {};
        // Once revealed, a step's ideas stay public (the server keeps "revealed").
        box.disabled = !!settings.revealed;
        box.checked = !settings.revealed && (wanted !== undefined ? wanted : !!settings.private);
      }
    });
    prev.disabled = !store.previousStep();
    next.disabled = !store.nextStep();
  }

  function renderTimer() {
    const timer = store.timer();
    const paused = !!(timer && timer.paused);
    pauseButton.disabled = !timer;
    addTime.disabled = !timer;
    pauseButton.dataset.paused = String(paused);
    setText(pauseButton, paused ? t.resume : t.pause);
  }

  function renderPrivacy() {
    const table = store.table();
    const hidden = pending(outbox, "table.anonymous", () => true, (d) => d.anonymous);
    anonymous.checked = hidden !== undefined ? hidden : !!(table && table.anonymous);
    const waiting = store.all("idea").filter((idea) => idea.private && !idea.deleted).length;
    // Only during the private round (or for its ideas still waiting after it):
    // revealed before it starts, the round would never be private.
    const step = store.currentStep();
    const privateRound = !!step && step.kind === "diverge" && !!step.settings
      && !!step.settings.private && !step.settings.revealed;
    reveal.hidden = !(waiting || privateRound);
    setText(privateIdeas, waiting || privateRound ? fill(t.private_ideas, { n: waiting }) : "");
    privateIdeas.dataset.count = String(waiting);
  }

  function buildPerson(person) {
    const table = store.table();
    const li = el("li", "person");
    li.dataset.participantId = person.id;
    const head = el("p", "person-name");
    head.appendChild(el("strong", "", person.name));
    head.appendChild(document.createTextNode(` · ${t.categories[person.category] || person.category}`));
    li.appendChild(head);
    const said = introDetails(person, t);
    if (said) { li.appendChild(said); }
    if (table && table.reporter_id === person.id) {
      li.appendChild(el("span", "badge", t.is_reporter));
    } else {
      li.appendChild(button(t.make_reporter, "make-reporter",
        () => write("table.reporter", { participant_id: person.id }),
        { ariaLabel: fill(t.make_reporter_label, { name: person.name }) }));
    }
    li.appendChild(button(t.remove, "remove-person", () => {
      if (window.confirm(fill(t.confirm_remove, { name: person.name }))) {
        write("participant.remove", { participant_id: person.id });
      }
    }, { ariaLabel: fill(t.remove_label, { name: person.name }) }));
    return li;
  }

  function renderPeople() {
    const table = store.table();
    const everyone = store.participants();
    renderKeyed(people, peopleCache, everyone, {
      key: (person) => person.id,
      signature: (person) => introSignature(person) + (table && table.reporter_id === person.id),
      build: buildPerson,
      empty: el("li", "empty muted", t.nobody_yet),
    });
    setText(peopleCount, everyone.length);
    setText(reporter, table && table.reporter ? fill(t.reporter, { name: table.reporter }) : t.no_reporter);

    const mix = store.mix();
    mixList.replaceChildren();
    (categories || Object.keys(t.categories)).filter((category) => mix[category]).forEach((category) => {
      const li = el("li", "mix-item");
      li.dataset.category = category;
      li.appendChild(document.createTextNode(fill(t.label_colon, { label: t.categories[category] })));
      const count = el("strong", "", mix[category]);
      count.dataset.count = "";
      li.appendChild(count);
      mixList.appendChild(li);
    });

    // Who a card can be posted for: keep the choice across updates.
    const chosen = behalfWho.value;
    const options = [el("option", "", t.choose_participant)];
    options[0].value = "";
    everyone.forEach((person) => {
      const option = el("option", "", person.name);
      option.value = String(person.id);
      options.push(option);
    });
    const signature = JSON.stringify(everyone.map((p) => [p.id, p.name]));
    if (behalfWho.dataset.signature !== signature) {
      behalfWho.replaceChildren(...options);
      behalfWho.value = everyone.some((p) => String(p.id) === chosen) ? chosen : "";
      behalfWho.dataset.signature = signature;
    }
  }

  /** A word from the organizers (a table view for moderators carries it). */
  function renderMessage() {
    const table = store.table();
    const text = (table && table.message) || "";
    message.hidden = !text;
    setText(message.querySelector("[data-console-message-text]"), text);
  }

  function render(currentOutbox) {
    outbox = currentOutbox;
    const table = store.table();
    renderMessage();
    renderSteps();
    renderTimer();
    renderPrivacy();
    renderPeople();
    behalf.setKinds(store.cardKinds(allKinds));
    behalf.setOpen(!table || table.open !== false);
  }

  return { render, restore: (data) => {
    if (data.participant_id) { behalfWho.value = String(data.participant_id); }
    behalf.restore(data);
  } };
}
