/* The form that posts a card (or edits one): kinds offered by the current
   step, a label that names the chosen kind, characters left. */

import { el, fill, setText } from "../dom.js";

export function createComposer(form, { t, idPrefix, onSubmit, labels = t.your_kind }) {
  const kindsBox = form.querySelector("[data-kinds]");
  const textarea = form.querySelector("textarea");
  const label = form.querySelector("[data-text-label]");
  const count = form.querySelector("[data-count]");
  const errorNote = form.querySelector("[data-error]");
  const submit = form.querySelector("[data-submit]");
  const cancel = form.querySelector("[data-cancel]");
  let base = []; // the kinds the step offers
  let extra = null; // a kind offered for the card being edited or written again
  let offered = [];
  let editing = null; // the card being edited
  let open = true;

  function chosen() {
    const radio = form.querySelector('input[name="kind"]:checked');
    return radio ? radio.value : offered[0];
  }

  function renderLabel() {
    const kind = chosen();
    setText(label, labels[kind] || labels.idea);
  }

  function check(kind) {
    const radio = form.querySelector(`input[name="kind"][value="${kind}"]`);
    if (radio) { radio.checked = true; }
    renderLabel();
  }

  /** Offer ``kinds`` (and the kind of the card being edited or written
      again); when the kinds change, the first one is chosen. */
  function setKinds(kinds) {
    const changed = kinds.join() !== base.join();
    base = kinds.slice();
    renderKinds(changed);
  }

  function renderKinds(reset) {
    const wanted = extra && !base.includes(extra) ? base.concat([extra]) : base.slice();
    if (!reset && wanted.join() === offered.join()) { return; }
    const previous = chosen();
    const keep = !reset && wanted.includes(previous) ? previous : wanted[0];
    const focused = document.activeElement && kindsBox.contains(document.activeElement);
    offered = wanted;
    kindsBox.replaceChildren();
    offered.forEach((kind) => {
      const id = `${idPrefix}-kind-${kind}`;
      const option = el("label", "kind-option");
      option.htmlFor = id;
      const radio = el("input");
      radio.type = "radio";
      radio.name = "kind";
      radio.value = kind;
      radio.id = id;
      radio.checked = kind === keep;
      radio.addEventListener("change", renderLabel);
      option.appendChild(radio);
      option.appendChild(document.createTextNode(` ${(t.kinds && t.kinds[kind]) || kind}`));
      kindsBox.appendChild(option);
    });
    if (editing) { check(editing.kind); }
    if (focused) { form.querySelector('input[name="kind"]:checked').focus(); }
    renderLabel();
  }

  function updateCount() {
    count.textContent = fill(t.chars_left, { n: textarea.maxLength - textarea.value.length });
  }

  function showError(message) { setText(errorNote, message || ""); }

  function edit(card) {
    editing = card;
    extra = card.kind;
    renderKinds(false);
    check(card.kind);
    textarea.value = card.text;
    submit.textContent = t.save;
    if (cancel) { cancel.hidden = false; }
    updateCount();
    textarea.focus();
  }

  function stopEditing() {
    editing = null;
    extra = null;
    textarea.value = "";
    submit.textContent = t.post;
    if (cancel) { cancel.hidden = true; }
    updateCount();
  }

  /** Put a refused text back in the form, to write it again. */
  function restore({ text, kind }) {
    stopEditing();
    extra = kind || null;
    renderKinds(false);
    if (kind) { check(kind); }
    textarea.value = text || "";
    updateCount();
    textarea.focus();
  }

  /** Open or not; ``status`` (draft | closed) says why not. */
  function setOpen(isOpen, status) {
    open = isOpen;
    submit.disabled = !open;
    const why = status === "draft" ? t.draft : t.closed;
    if (!open) { showError(why); } else if ([t.closed, t.draft].includes(errorNote.textContent)) { showError(""); }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!open) { return; }
    const text = textarea.value.trim();
    if (!text) { showError(t.empty); textarea.focus(); return; }
    if (onSubmit({ kind: chosen(), text, editing }) === false) { return; }
    showError("");
    stopEditing();
    textarea.focus();
  });
  if (cancel) { cancel.addEventListener("click", stopEditing); }
  textarea.addEventListener("input", updateCount);
  updateCount();

  return {
    setKinds, edit, stopEditing, restore, setOpen, showError,
    get editing() { return editing; },
    get busy() { return editing !== null || textarea.value.trim() !== ""; },
  };
}
