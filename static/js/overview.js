/* The organizer's live overview: counters and latest ideas of every table. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("live-config").textContent);
  var connection = document.querySelector("[data-connection]");
  var recent = new Map(); // table id -> latest ideas, newest first

  function card(tableId) { return document.querySelector('[data-table="' + tableId + '"]'); }

  function setCounts(tableId, counts) {
    var node = card(tableId);
    if (!node) { return; }
    node.querySelector('[data-count="participants"]').textContent = counts.participants;
    node.querySelector('[data-count="ideas"]').textContent = counts.ideas;
  }

  function renderRecent(tableId) {
    var node = card(tableId);
    if (!node) { return; }
    var list = node.querySelector("[data-recent]");
    list.replaceChildren();
    (recent.get(tableId) || []).forEach(function (idea) {
      var li = document.createElement("li");
      li.textContent = idea.text; // user text is always text
      list.appendChild(li);
    });
  }

  function addIdea(idea) {
    var list = (recent.get(idea.table_id) || []).filter(function (i) { return i.id !== idea.id; });
    if (!idea.deleted && !idea.hidden) { list.unshift(idea); }
    list.sort(function (a, b) { return b.id - a.id; });
    recent.set(idea.table_id, list.slice(0, 3));
    renderRecent(idea.table_id);
  }

  var socket = io({ auth: cfg.auth, reconnectionDelayMax: 5000 });
  // A catch-up answer may have been computed before a push that arrived
  // first: if anything was pushed meanwhile, catch up once more.
  var syncing = false;
  var pushedDuringSync = false;

  function sync() {
    syncing = true;
    pushedDuringSync = false;
    socket.emit("sync", {}, function (res) {
      syncing = false;
      if (!res || !res.ok) { return; }
      Object.keys(res.counts).forEach(function (id) { setCounts(id, res.counts[id]); });
      recent.clear();
      res.recent.slice().reverse().forEach(addIdea);
      document.querySelectorAll("[data-table]").forEach(function (node) {
        renderRecent(Number(node.dataset.table));
      });
      if (pushedDuringSync) { sync(); }
    });
  }

  function setConnection(key) {
    connection.textContent = cfg.i18n[key];
    connection.dataset.state = key;
  }

  socket.on("connect", function () { setConnection("connected"); sync(); });
  socket.on("disconnect", function () { setConnection("offline"); });
  socket.on("table_counts", function (data) {
    if (syncing) { pushedDuringSync = true; }
    setCounts(data.table_id, data);
  });
  socket.on("idea", function (idea) {
    if (syncing) { pushedDuringSync = true; }
    addIdea(idea);
  });
})();
