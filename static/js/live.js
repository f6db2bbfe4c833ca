/* The live wall of one table, on a participant's phone or the facilitator's
   console. Nothing posted is ever lost (DESIGN.md §6):
   - every write gets a client id and waits in an outbox kept in localStorage;
   - it leaves the outbox only when the server acknowledges it;
   - after every (re)connect the page asks for all changes since the last
     sequence number it saw, then resends its outbox. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("live-config").textContent);
  var t = cfg.i18n;
  var isConsole = cfg.role === "facilitator";
  var outboxKey = "outbox:" + cfg.table;

  var ideas = new Map(); // server id -> latest payload
  var seenSeqs = new Set();
  var lastSeq = 0; // every change up to this sequence number is known
  var people = new Map();
  var state = { open: true, reporter_id: null, reporter: "" };
  var flushing = false;
  var refused = false;
  var editing = null; // client id of the idea being edited

  function $(selector) { return document.querySelector(selector); }
  var wall = $("[data-wall]");
  var connection = $("[data-connection]");
  var pendingNote = $("[data-pending]");
  var composer = $("[data-composer]");
  var textarea = composer && composer.querySelector("textarea");
  // Inside the composer: the pending note also carries a data-count attribute.
  var charCount = composer && composer.querySelector("[data-count]");
  var errorNote = $("[data-error]");

  // crypto.randomUUID needs a secure context; a venue's LAN address is plain http.
  function newClientId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- outbox ---------------------------------------------------------------

  function loadOutbox() {
    try { return JSON.parse(localStorage.getItem(outboxKey)) || []; } catch (e) { return []; }
  }
  function saveOutbox(box) { localStorage.setItem(outboxKey, JSON.stringify(box)); }
  function enqueue(op, data) {
    var box = loadOutbox();
    box.push({ key: newClientId(), op: op, data: data });
    saveOutbox(box);
    render();
    flush();
  }
  function dequeue(key) {
    saveOutbox(loadOutbox().filter(function (item) { return item.key !== key; }));
  }

  function flush() {
    // The console never writes through the outbox (and must not send the
    // outbox of a phone page opened in the same browser).
    if (isConsole || flushing || refused || !socket.connected) { return; }
    var box = loadOutbox();
    if (!box.length) { render(); return; }
    var item = box[0];
    flushing = true;
    socket.timeout(10000).emit(item.op, item.data, function (err, res) {
      flushing = false;
      if (err) { // no acknowledgement in time: keep it, the server dedups a resend
        setTimeout(flush, 2000);
        return;
      }
      if (res && res.ok) {
        dequeue(item.key);
        apply(res.idea);
        showError("");
      } else if (res && (res.error === "rate_limited" || res.error === "forbidden")) {
        showError(res.message);
        if (res.error === "rate_limited") { setTimeout(flush, (res.retry_after || 5) * 1000); }
        render();
        return;
      } else { // refused for good (too long, evening closed…): keep the text, say why
        dequeue(item.key);
        var message = res ? res.message : "";
        showError(message);
        if (item.op !== "delete_idea") { keepUnsent(item, message); }
      }
      render();
      flush();
    });
  }

  // Writes the server refused for good stay on the phone, with the reason,
  // until the participant writes them again or dismisses them.
  var unsentKey = "unsent:" + cfg.table;
  function loadUnsent() {
    try { return JSON.parse(localStorage.getItem(unsentKey)) || []; } catch (e) { return []; }
  }
  function saveUnsent(list) { localStorage.setItem(unsentKey, JSON.stringify(list)); }
  function keepUnsent(item, message) {
    saveUnsent(loadUnsent().concat([{ key: item.key, text: item.data.text, message: message }]));
  }
  function dropUnsent(key) {
    saveUnsent(loadUnsent().filter(function (u) { return u.key !== key; }));
    render();
  }

  // --- state from the server ------------------------------------------------

  function apply(idea) {
    if (!idea) { return; }
    var known = ideas.get(idea.id);
    if (!known || known.seq < idea.seq) { ideas.set(idea.id, idea); }
    // Advance only over contiguous numbers, so a gap is fetched at the next sync.
    if (idea.seq > lastSeq) { seenSeqs.add(idea.seq); }
    while (seenSeqs.has(lastSeq + 1)) { seenSeqs.delete(lastSeq + 1); lastSeq += 1; }
  }

  function sync() {
    socket.timeout(10000).emit("sync", { since: lastSeq }, function (err, res) {
      if (err) { if (socket.connected) { setTimeout(sync, 2000); } return; }
      if (!res || !res.ok) { return; }
      res.ideas.forEach(apply);
      lastSeq = Math.max(lastSeq, res.seq);
      seenSeqs.forEach(function (seq) { if (seq <= lastSeq) { seenSeqs.delete(seq); } });
      if (res.participants) {
        res.participants.forEach(function (p) { people.set(p.id, p); });
      }
      setState(res.state);
      render();
      flush();
    });
  }

  // A sequence number was skipped (a broadcast lost on its way): fetch the
  // missing changes soon rather than at the next reconnect.
  var gapTimer = null;
  function catchUpIfGap() {
    if (!seenSeqs.size || gapTimer) { return; }
    gapTimer = setTimeout(function () {
      gapTimer = null;
      if (seenSeqs.size && socket.connected) { sync(); }
    }, 2000);
  }

  function setState(newState) {
    state = newState;
    document.querySelectorAll("[data-reporter]").forEach(function (el) {
      el.textContent = state.reporter ? t.reporter.replace("{name}", state.reporter) : (isConsole ? t.no_reporter : "");
    });
    if (composer) {
      composer.querySelector("[data-submit]").disabled = !state.open;
      if (!state.open) { showError(t.closed); }
      else if (errorNote && errorNote.textContent === t.closed) { showError(""); }
    }
  }

  // --- connection -------------------------------------------------------------

  var socket = io({ auth: cfg.auth, reconnectionDelayMax: 5000 });

  function setConnection(key) {
    connection.textContent = t[key];
    connection.dataset.state = key;
  }

  socket.on("connect", function () { setConnection("connected"); sync(); });
  socket.on("disconnect", function () { setConnection(navigator.onLine ? "connecting" : "offline"); });
  socket.on("connect_error", function (err) {
    if (err && err.message === "unauthorized") { refused = true; setConnection("refused"); return; }
    setConnection(navigator.onLine ? "connecting" : "offline");
  });
  socket.on("idea", function (idea) { apply(idea); render(); catchUpIfGap(); });
  // The facilitator link was replaced: this console must stop at once.
  socket.on("revoked", function () { refused = true; socket.disconnect(); setConnection("refused"); });
  socket.on("state", setState);
  socket.on("participant", function (p) { people.set(p.id, p); render(); });

  // Phones know before Socket.IO does that the network is gone or back.
  window.addEventListener("offline", function () { socket.disconnect(); setConnection("offline"); });
  window.addEventListener("online", function () { if (!refused) { socket.connect(); } });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !socket.connected && !refused && navigator.onLine) {
      socket.connect();
    }
  });

  // --- rendering --------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; } // user text is always text
    return node;
  }

  function button(label, action, onClick) {
    var b = el("button", "small", label);
    b.type = "button";
    b.dataset.action = action; // stable hook for tests and styles, whatever the language
    b.addEventListener("click", onClick);
    return b;
  }

  // What this screen should show: the server's ideas with this phone's
  // unsent writes laid over them.
  function cards() {
    var list = [];
    var byClientId = new Map();
    ideas.forEach(function (idea) {
      var card = Object.assign({}, idea);
      if (!isConsole && card.author_id === cfg.me) { byClientId.set(card.client_id, card); }
      list.push(card);
    });
    if (!isConsole) {
      loadOutbox().forEach(function (item) {
        var card = byClientId.get(item.data.client_id);
        if (item.op === "post_idea" && !card) {
          card = { id: Infinity, client_id: item.data.client_id, author_id: cfg.me, author: "",
            kind: item.data.kind, text: item.data.text, hidden: false, deleted: false };
          byClientId.set(card.client_id, card);
          list.push(card);
        } else if (card && item.op === "edit_idea") {
          card.text = item.data.text; card.kind = item.data.kind;
        } else if (card && item.op === "delete_idea") {
          card.deleted = true;
        }
        if (card) { card.pending = true; }
      });
    }
    return list.filter(function (card) {
      return !card.deleted && (isConsole || !card.hidden);
    }).sort(function (a, b) { return b.id - a.id; });
  }

  function renderCard(card) {
    var mine = !isConsole && card.author_id === cfg.me;
    var li = el("li", "idea kind-" + card.kind + (mine ? " mine" : "") +
      (card.pending ? " pending" : "") + (card.hidden ? " hidden-idea" : ""));
    if (card.id !== Infinity) { li.dataset.id = card.id; }
    li.dataset.clientId = card.client_id;
    var meta = el("p", "idea-meta");
    meta.appendChild(el("span", "kind", t.kinds[card.kind] || card.kind));
    meta.appendChild(document.createTextNode(" · " + (mine ? t.you : card.author)));
    if (card.pending) { meta.appendChild(el("span", "pending-mark", " · " + t.sending)); }
    if (card.hidden) { meta.appendChild(el("span", "hidden-mark", " · " + t.hidden)); }
    li.appendChild(meta);
    li.appendChild(el("p", "idea-text", card.text));
    var tools = el("div", "idea-tools");
    if (mine && state.open) {
      tools.appendChild(button(t.edit, "edit", function () { startEditing(card); }));
      tools.appendChild(button(t["delete"], "delete", function () {
        if (window.confirm(t.confirm_delete)) { enqueue("delete_idea", { client_id: card.client_id }); }
      }));
    }
    if (isConsole) {
      tools.appendChild(button(card.hidden ? t.show : t.hide, card.hidden ? "show" : "hide", function () {
        socket.emit("hide_idea", { id: card.id, hidden: !card.hidden }, function (res) {
          if (res && res.ok) { apply(res.idea); render(); }
        });
      }));
    }
    if (tools.childNodes.length) { li.appendChild(tools); }
    return li;
  }

  function renderPeople() {
    var list = $("[data-people]");
    if (!list) { return; }
    list.replaceChildren();
    people.forEach(function (p) {
      var li = el("li", "person");
      li.appendChild(el("strong", "", p.name));
      li.appendChild(document.createTextNode(" · " + (t.categories[p.category] || p.category)));
      if (p.brings) { li.appendChild(el("span", "muted", " · " + p.brings)); }
      if (state.reporter_id === p.id) {
        li.appendChild(el("span", "badge", t.is_reporter));
      } else {
        li.appendChild(button(t.make_reporter, "make-reporter", function () {
          socket.emit("set_reporter", { participant_id: p.id }, function (res) {
            if (res && res.ok) { setState(res.state); render(); }
          });
        }));
      }
      list.appendChild(li);
    });
    $("[data-people-count]").textContent = people.size;
  }

  var rendered = new Map(); // card key -> {signature, node}
  var emptyNote = el("li", "empty muted", t.empty_wall);

  // Rebuild only the cards that changed and move only what moved, so that
  // screen readers announce new cards, not the whole wall at every change.
  function renderWall() {
    var next = new Map();
    var nodes = cards().map(function (card) {
      var key = card.author_id + ":" + card.client_id;
      var signature = JSON.stringify([card.id, card.kind, card.text, card.author,
        !!card.pending, card.hidden, state.open]);
      var known = rendered.get(key);
      var node = known && known.signature === signature ? known.node : renderCard(card);
      next.set(key, { signature: signature, node: node });
      return node;
    });
    rendered = next;
    if (!nodes.length) { nodes = [emptyNote]; }
    nodes.forEach(function (node, index) {
      if (wall.children[index] !== node) { wall.insertBefore(node, wall.children[index] || null); }
    });
    while (wall.children.length > nodes.length) { wall.removeChild(wall.lastChild); }
  }

  function render() {
    renderWall();
    if (pendingNote) {
      var n = loadOutbox().length;
      pendingNote.textContent = n === 0 ? "" : n === 1 ? t.pending_one : t.pending_many.replace("{n}", n);
      pendingNote.dataset.count = n;
    }
    renderPeople();
    renderUnsent();
  }

  function renderUnsent() {
    var section = $("[data-unsent]");
    if (!section) { return; }
    var list = section.querySelector("[data-unsent-list]");
    var unsent = loadUnsent();
    section.hidden = !unsent.length;
    list.replaceChildren();
    unsent.forEach(function (u) {
      var li = el("li", "unsent-item");
      li.appendChild(el("p", "idea-text", u.text));
      li.appendChild(el("p", "error", u.message));
      var tools = el("div", "idea-tools");
      tools.appendChild(button(t.write_again, "write-again", function () {
        stopEditing();
        textarea.value = u.text;
        updateCount();
        dropUnsent(u.key);
        textarea.focus();
      }));
      tools.appendChild(button(t.dismiss, "dismiss", function () { dropUnsent(u.key); }));
      li.appendChild(tools);
      list.appendChild(li);
    });
  }

  // --- composing ---------------------------------------------------------------

  function showError(message) { if (errorNote) { errorNote.textContent = message || ""; } }

  function setKind(kind) {
    var radio = composer.querySelector('input[name="kind"][value="' + kind + '"]');
    if (radio) { radio.checked = true; }
  }

  function startEditing(card) {
    editing = card.client_id;
    textarea.value = card.text;
    setKind(card.kind);
    composer.querySelector("[data-submit]").textContent = t.save;
    composer.querySelector("[data-cancel]").hidden = false;
    updateCount();
    textarea.focus();
  }

  function stopEditing() {
    editing = null;
    textarea.value = "";
    composer.querySelector("[data-submit]").textContent = t.post;
    composer.querySelector("[data-cancel]").hidden = true;
    updateCount();
  }

  function updateCount() {
    var left = textarea.maxLength - textarea.value.length;
    charCount.textContent = t.chars_left.replace("{n}", left);
  }

  if (composer) {
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = textarea.value.trim();
      if (!text) { showError(t.empty); textarea.focus(); return; }
      var kind = composer.querySelector('input[name="kind"]:checked').value;
      if (editing) {
        enqueue("edit_idea", { client_id: editing, kind: kind, text: text });
      } else {
        enqueue("post_idea", { client_id: newClientId(), kind: kind, text: text });
      }
      showError("");
      stopEditing();
      textarea.focus();
    });
    composer.querySelector("[data-cancel]").addEventListener("click", stopEditing);
    textarea.addEventListener("input", updateCount);
    updateCount();
  }

  setConnection(navigator.onLine ? "connecting" : "offline");
  render();
})();
