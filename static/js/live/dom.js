/* Small DOM helpers shared by the views. User text is only ever set as text. */

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

/** A button; ``action`` is its stable hook (tests, styles), whatever the language. */
export function button(label, action, onClick, { className = "small", ariaLabel } = {}) {
  const b = el("button", className, label);
  b.type = "button";
  b.dataset.action = action;
  if (ariaLabel) { b.setAttribute("aria-label", ariaLabel); }
  b.addEventListener("click", onClick);
  return b;
}

/** Set a node's text only when it changes: a live region is not re-announced. */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) { node.textContent = value; }
}

/** ``template`` with its {name} placeholders filled. */
export function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (whole, name) =>
    (name in values ? String(values[name]) : whole));
}

/** The start of a text, to tell buttons apart ("Hide: Une navette…"). */
export function excerpt(text, length = 40) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/** m:ss, or +m:ss past the end. */
export function clock(seconds) {
  const past = seconds < 0;
  const total = Math.abs(seconds);
  const minutes = Math.floor(total / 60);
  const rest = String(total % 60).padStart(2, "0");
  return `${past ? "+" : ""}${minutes}:${rest}`;
}

/**
 * Make ``list``'s children the nodes of ``items``, in order, rebuilding only
 * the items whose signature changed: screen readers announce what is new,
 * and a focused button that did not change keeps the focus.
 * ``cache`` (a Map) is kept by the caller between renders; ``refresh(node,
 * item)``, if given, updates in place what the signature leaves out (an
 * acknowledged card is not announced again).
 */
export function renderKeyed(list, cache, items, { key, signature, build, empty, refresh }) {
  const next = new Map();
  let refocus = null;
  let nodes = items.map((item) => {
    const k = key(item);
    const sig = signature(item);
    const known = cache.get(k);
    if (known && known.signature === sig) {
      if (refresh) { refresh(known.node, item); }
      next.set(k, known);
      return known.node;
    }
    const node = build(item);
    // A keyboard user who just pressed "Hide" stays on that card ("Show again").
    if (known && known.node.contains(document.activeElement)) {
      refocus = { node, wanted: focusKey(document.activeElement) };
    }
    next.set(k, { signature: sig, node });
    return node;
  });
  cache.clear();
  next.forEach((value, k) => cache.set(k, value));
  if (!nodes.length && empty) { nodes = [empty]; }
  nodes.forEach((node, index) => {
    if (list.children[index] !== node) { list.insertBefore(node, list.children[index] || null); }
  });
  while (list.children.length > nodes.length) { list.removeChild(list.lastChild); }
  if (refocus) { focusAgain(refocus.node, refocus.wanted); }
}

/** What a control is, across rebuilds: "Hide" and "Show again" are one
    switch (``data-focus``), other controls go by their action or field. */
function focusKey(node) {
  return node.dataset.focus || node.dataset.action || node.dataset.field || "";
}

/** Focus the control of ``node`` that stands for ``wanted``; without one
    (the button did its job and left), the item itself: never a neighbour. */
function focusAgain(node, wanted) {
  const same = wanted && Array.from(node.querySelectorAll("button, input, select, textarea, a[href]"))
    .find((control) => focusKey(control) === wanted && !control.disabled);
  if (same) { same.focus(); return; }
  if (!node.hasAttribute("tabindex")) { node.tabIndex = -1; }
  node.focus();
}
