/* Commitments and the alignment of interests (DESIGN.md §1, §5 step 7):
   each person says openly whether they would carry the table's result,
   contribute to it or be kept informed, what they bring, what they expect
   in return and how much time they have. A contact is asked for only when
   the person agrees to be contacted, and is never shown on a screen. */

import { button, el, fill, setText } from "../dom.js";

export const ROLES = ["carry", "contribute", "follow"];
const MAX_HOURS = 200;

/** The commitment form (a phone's own, or the console's for someone without a phone). */
export function createCommitForm(form, { t, onSave, who }) {
  const contactBox = form.querySelector("[data-contact]");
  const errorNote = form.querySelector("[data-error]");
  const fields = form.elements;
  let dirty = false;

  function showContact() {
    contactBox.hidden = !fields.consent.checked;
    fields.contact.required = fields.consent.checked;
  }

  function showError(message) { setText(errorNote, message || ""); }

  function read() {
    const role = fields.role.value;
    const hours = fields.hours_per_month.value.trim();
    return {
      role,
      contribution: fields.contribution.value.trim(),
      expects: fields.expects.value.trim(),
      hours_per_month: hours === "" ? null : Number(hours),
      consent: fields.consent.checked,
      contact: fields.consent.checked ? fields.contact.value.trim() : "",
    };
  }

  /** Show a commitment (or an empty form); the contact is never sent back. */
  function setValues(commitment) {
    const c = commitment || {};
    ROLES.forEach((role) => { form.querySelector(`[name=role][value=${role}]`).checked = c.role === role; });
    fields.contribution.value = c.contribution || "";
    fields.expects.value = c.expects || "";
    fields.hours_per_month.value = c.hours_per_month == null ? "" : String(c.hours_per_month);
    fields.consent.checked = !!c.consent;
    fields.contact.value = c.contact || "";
    showContact();
    dirty = false;
  }

  form.addEventListener("input", () => { dirty = true; });
  fields.consent.addEventListener("change", showContact);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = read();
    if (who && !who()) { showError(t.choose_participant); return; }
    if (!ROLES.includes(data.role)) { showError(t.choose_role); form.querySelector("[name=role]").focus(); return; }
    const hours = data.hours_per_month;
    if (hours !== null && !(Number.isInteger(hours) && hours >= 0 && hours <= MAX_HOURS)) {
      showError(t.bad_hours);
      fields.hours_per_month.focus();
      return;
    }
    if (data.consent && !data.contact) { showError(t.contact_needed); fields.contact.focus(); return; }
    showError("");
    onSave(data);
    dirty = false;
  });
  showContact();

  return {
    fill: setValues, showError,
    restore(data) { setValues(data); dirty = true; },
    setOpen(open) { form.querySelector("[type=submit]").disabled = !open; },
    get dirty() { return dirty; },
  };
}

function hoursText(hours, t) {
  return hours == null ? "" : fill(t.hours_per_month_value, { n: hours });
}

/** How many people carry, contribute, follow, and their hours a month. */
export function renderSummary(box, commitments, t) {
  const counts = { carry: 0, contribute: 0, follow: 0 };
  let hours = 0;
  commitments.forEach((c) => { counts[c.role] += 1; hours += c.hours_per_month || 0; });
  const parts = ROLES.map((role) => {
    const span = el("span", "role-count");
    span.dataset.roleCount = role;
    span.dataset.count = String(counts[role]);
    span.appendChild(document.createTextNode(fill(t.label_colon, { label: t.role_counts[role] })));
    span.appendChild(el("strong", "", counts[role]));
    return span;
  });
  const total = el("span", "role-count");
  total.dataset.hoursTotal = String(hours);
  total.textContent = fill(t.hours_total, { n: hours });
  box.replaceChildren(...parts, total);
}

function sorted(store) {
  return store.commitments().sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || a.id - b.id);
}

function name(store, id) {
  const person = store.get("participant", id);
  return person ? person.name : "";
}

/** The alignment as a list (a phone, 360 px wide). */
export function renderAlignmentList(list, summary, store, t, { me }) {
  const items = sorted(store);
  const signature = JSON.stringify(items.map((c) => [c.participant_id, c.role, c.contribution, c.expects,
    c.hours_per_month, name(store, c.participant_id)]));
  if (list.dataset.signature === signature) { return; }
  list.dataset.signature = signature;
  renderSummary(summary, items, t);
  list.replaceChildren(...(items.length ? items.map((c) => {
    const li = el("li", `commitment role-${c.role}`);
    li.dataset.participantId = c.participant_id;
    li.dataset.role = c.role;
    const head = el("p", "person-name");
    const who = name(store, c.participant_id);
    head.appendChild(el("strong", "", c.participant_id === me ? `${who} (${t.you})` : who));
    head.appendChild(document.createTextNode(` · ${t.role_names[c.role]}`));
    li.appendChild(head);
    const dl = el("dl", "intro-details");
    [["contribution", c.contribution], ["expects", c.expects], ["hours", hoursText(c.hours_per_month, t)]]
      .filter(([, value]) => value)
      .forEach(([field, value]) => {
        dl.appendChild(el("dt", "", t.commit_fields[field]));
        const dd = el("dd", "", value);
        dd.dataset.field = field;
        dl.appendChild(dd);
      });
    if (dl.childNodes.length) { li.appendChild(dl); }
    return li;
  }) : [el("li", "empty muted", t.no_commitments)]));
}

/** The alignment as a table, interests side by side (the console). */
export function renderAlignmentTable(body, summary, store, t, { onWithdraw }) {
  const items = sorted(store);
  const signature = JSON.stringify(items.map((c) => [c.participant_id, c.role, c.contribution, c.expects,
    c.hours_per_month, c.consent, name(store, c.participant_id)]));
  if (body.dataset.signature === signature) { return; }
  body.dataset.signature = signature;
  renderSummary(summary, items, t);
  body.replaceChildren(...(items.length ? items.map((c) => {
    const tr = el("tr", `commitment role-${c.role}`);
    tr.dataset.participantId = c.participant_id;
    tr.dataset.role = c.role;
    const who = name(store, c.participant_id);
    const th = el("th", "", who);
    th.scope = "row";
    tr.appendChild(th);
    tr.appendChild(el("td", "", t.role_names[c.role]));
    [["contribution", c.contribution], ["expects", c.expects], ["hours", hoursText(c.hours_per_month, t)]]
      .forEach(([field, value]) => {
        const td = el("td", "", value);
        td.dataset.field = field;
        tr.appendChild(td);
      });
    const tools = el("td");
    if (c.consent) { tools.appendChild(el("span", "badge", t.consent_given)); }
    tools.appendChild(button(t.withdraw, "withdraw-commitment", () => onWithdraw(c),
      { ariaLabel: fill(t.withdraw_for_label, { name: who }) }));
    tr.appendChild(tools);
    return tr;
  }) : [(() => {
    const tr = el("tr");
    const td = el("td", "muted", t.no_commitments);
    td.colSpan = 6;
    tr.appendChild(td);
    return tr;
  })()]));
}

/** The phone's commitment: the form, its state, and the table's alignment. */
export function createPhoneCommit(root, { t, store, me, write }) {
  const form = root.querySelector("[data-commit-form]");
  const status = root.querySelector("[data-commit-status]");
  const withdraw = root.querySelector("[data-action=withdraw-commitment]");
  const list = root.querySelector("[data-alignment]");
  const summary = root.querySelector("[data-alignment-summary]");
  let filled = false;
  // What this phone typed stays in the form once sent (the contact is never sent back).
  const commit = createCommitForm(form, { t, onSave: (data) => { filled = true; write("commit.save", data); } });
  withdraw.addEventListener("click", () => { write("commit.withdraw", {}); filled = false; });

  function render(outbox, open) {
    commit.setOpen(open);
    const mine = store.all("commitment").find((c) => c.participant_id === me);
    const sending = outbox.some((item) => item.op === "commit.save" || item.op === "commit.withdraw");
    if (!commit.dirty && !filled && !sending) {
      commit.fill(mine && !mine.withdrawn ? mine : null);
      filled = !!(mine && !mine.withdrawn);
    }
    const committed = !!(mine && !mine.withdrawn);
    withdraw.hidden = !committed || !open;
    setText(status, sending ? t.sending : committed ? t.commit_saved : "");
    status.dataset.state = sending ? "sending" : committed ? "saved" : "none";
    renderAlignmentList(list, summary, store, t, { me });
  }

  function refused(item, answer) {
    if (item.op !== "commit.save") { return false; }
    commit.restore(item.data);
    commit.showError(answer.message);
    return true;
  }

  return { render, refused };
}

/** The console's view: the alignment, and a commitment recorded for someone without a phone. */
export function createConsoleCommit(root, { t, store, write }) {
  const form = root.querySelector("[data-commit-behalf]");
  const who = form.elements.participant_id;
  const body = root.querySelector("[data-alignment]");
  const summary = root.querySelector("[data-alignment-summary]");
  const commit = createCommitForm(form, {
    t,
    who: () => Number(who.value),
    onSave: (data) => {
      write("commit.save", { ...data, participant_id: Number(who.value) });
      who.value = ""; // ready for the next person
      commit.fill(null);
    },
  });
  who.addEventListener("change", () => {
    const chosen = store.commitments().find((c) => c.participant_id === Number(who.value));
    commit.fill(chosen || null);
  });

  function render(open) {
    commit.setOpen(open);
    const people = store.participants();
    const signature = JSON.stringify(people.map((p) => [p.id, p.name]));
    if (who.dataset.signature !== signature) {
      const chosen = who.value;
      const first = el("option", "", t.choose_participant);
      first.value = "";
      who.replaceChildren(first, ...people.map((p) => {
        const option = el("option", "", p.name);
        option.value = String(p.id);
        return option;
      }));
      who.value = people.some((p) => String(p.id) === chosen) ? chosen : "";
      who.dataset.signature = signature;
    }
    renderAlignmentTable(body, summary, store, t, {
      onWithdraw: (c) => write("commit.withdraw", { participant_id: c.participant_id }),
    });
  }

  function refused(item, answer) {
    if (item.op !== "commit.save") { return false; }
    commit.restore(item.data);
    if (item.data.participant_id) { who.value = String(item.data.participant_id); }
    commit.showError(answer.message);
    return true;
  }

  return { render, refused };
}
