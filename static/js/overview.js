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

  window.watchEvent(
    cfg.auth,
    function (res) {
      Object.keys(res.counts).forEach(function (id) { setCounts(id, res.counts[id]); });
      recent.clear();
      res.recent.slice().reverse().forEach(addIdea);
      document.querySelectorAll("[data-table]").forEach(function (node) {
        renderRecent(Number(node.dataset.table));
      });
    },
    {
      counts: function (counts) {
        Object.keys(counts).forEach(function (id) { setCounts(id, counts[id]); });
      },
      idea: addIdea,
    },
    function (state) {
      connection.textContent = cfg.i18n[state];
      connection.dataset.state = state;
    }
  );
})();
