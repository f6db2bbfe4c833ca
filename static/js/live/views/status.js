/* What a participant must understand about the network: the connection,
   the writes waiting to be sent, and those refused for good ("Not sent"). */

import { button, el, excerpt, fill, setText } from "../dom.js";

export function createStatus({ t, connection, pendingNote, unsentSection, pendingWords, restorers, onDismiss }) {
  const unsentList = unsentSection && unsentSection.querySelector("[data-unsent-list]");
  let shown = null; // the list as last rendered: rebuilt only when it changes
  let state = "connecting";
  let waiting = ""; // the count of writes waiting, in words

  // Connected, a write waits only for its answer: its card says so, and a
  // screen reader hears of it once (the card), not twice.
  function renderPending() { setText(pendingNote, state === "connected" ? "" : waiting); }

  function setConnection(name) {
    state = name;
    setText(connection, t[name]);
    connection.dataset.state = name;
    renderPending();
  }

  function text(item) {
    const data = item.data || {};
    if (typeof data.text === "string") { return data.text; }
    return ["intro", "brings", "expects"].map((field) => data[field]).filter(Boolean).join(" · ");
  }

  function renderUnsent(unsent) {
    const signature = JSON.stringify(unsent);
    if (!unsentSection || signature === shown) { return; }
    shown = signature;
    unsentSection.hidden = !unsent.length;
    unsentList.replaceChildren();
    unsent.forEach((item) => {
      const li = el("li", "unsent-item");
      li.dataset.clientId = item.client_id;
      li.dataset.op = item.op;
      const said = text(item);
      if (said) { li.appendChild(el("p", "idea-text", said)); }
      li.appendChild(el("p", "error", item.message));
      const tools = el("div", "idea-tools");
      const restore = restorers[item.op];
      if (restore) {
        tools.appendChild(button(t.write_again, "write-again", () => {
          onDismiss(item.client_id);
          restore(item.data || {});
        }, { ariaLabel: said ? `${fill(t.label_colon, { label: t.write_again })}${excerpt(said)}` : undefined }));
      }
      tools.appendChild(button(t.dismiss, "dismiss", () => onDismiss(item.client_id),
        { ariaLabel: said ? `${fill(t.label_colon, { label: t.dismiss })}${excerpt(said)}` : undefined }));
      li.appendChild(tools);
      unsentList.appendChild(li);
    });
  }

  function render(outbox, unsent) {
    const n = outbox.length;
    // A phone counts its ideas; votes, sheet lines and commitments are changes.
    const ideas = outbox.every((item) => item.op.startsWith("idea."));
    const words = pendingWords || (ideas
      ? { one: t.pending_one, many: t.pending_many }
      : { one: t.changes_pending_one, many: t.changes_pending_many });
    waiting = n === 0 ? "" : n === 1 ? words.one : fill(words.many, { n });
    renderPending();
    pendingNote.dataset.count = String(n);
    renderUnsent(unsent);
  }

  return { setConnection, render };
}
