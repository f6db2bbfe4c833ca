/* The round of introductions: the phone's form (who I am, what I bring,
   what I expect) and the table's introductions. */

import { el, renderKeyed, setText } from "../dom.js";

const FIELDS = ["intro", "brings", "expects"];

/** What a participant said of themselves, as a description list (or null). */
export function introDetails(person, t) {
  const said = FIELDS.filter((field) => person[field]);
  if (!said.length) { return null; }
  const dl = el("dl", "intro-details");
  said.forEach((field) => {
    dl.appendChild(el("dt", "", t.intro_fields[field]));
    const dd = el("dd", "", person[field]);
    dd.dataset.field = field;
    dl.appendChild(dd);
  });
  return dl;
}

export function introSignature(person) {
  return JSON.stringify([person.name, person.category, person.intro, person.brings, person.expects]);
}

export function createIntro(root, { t, me, onSave }) {
  const form = root.querySelector("[data-intro-form]");
  const status = root.querySelector("[data-intro-status]");
  const list = root.querySelector("[data-intros]");
  const cache = new Map();
  const emptyNote = el("li", "empty muted", t.no_intros);
  let dirty = false; // typed here and not yet sent: never overwritten
  let filled = false;

  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = {};
    FIELDS.forEach((field) => { data[field] = form.elements[field].value.trim(); });
    onSave(data);
    dirty = false;
  });

  function build(person) {
    const li = el("li", "person");
    li.dataset.participantId = person.id;
    const head = el("p", "person-name");
    head.appendChild(el("strong", "", person.id === me ? `${person.name} (${t.you})` : person.name));
    head.appendChild(document.createTextNode(` · ${t.categories[person.category] || person.category}`));
    li.appendChild(head);
    li.appendChild(introDetails(person, t) || el("p", "muted", t.no_intro));
    return li;
  }

  /** Put back a refused introduction, to send it again. */
  function restore(data) {
    FIELDS.forEach((field) => { form.elements[field].value = data[field] || ""; });
    dirty = true;
    form.elements.intro.focus();
  }

  function render(store, outbox, open) {
    form.querySelector("[type=submit]").disabled = !open;
    const mine = store.get("participant", me);
    if (mine && !dirty && !filled) {
      FIELDS.forEach((field) => { form.elements[field].value = mine[field] || ""; });
      filled = true;
    }
    const sending = outbox.some((item) => item.op === "intro.save");
    const shared = mine && FIELDS.some((field) => mine[field]);
    setText(status, sending ? t.sending : shared ? t.intro_saved : "");
    status.dataset.state = sending ? "sending" : shared ? "saved" : "none";
    renderKeyed(list, cache, store.participants(), {
      key: (person) => person.id,
      signature: introSignature,
      build,
      empty: emptyNote,
    });
  }

  return { render, restore };
}
