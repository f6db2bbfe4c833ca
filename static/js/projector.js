/* The projector: live counters of the evening. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("live-config").textContent);

  function show(totals) {
    Object.keys(totals).forEach(function (key) {
      var node = document.querySelector('[data-total="' + key + '"]');
      if (node) { node.textContent = totals[key]; }
    });
  }

  // No visible indicator on the big screen; the state is kept for inspection.
  function setConnection(state) { document.body.dataset.connection = state; }

  var socket = io({ auth: cfg.auth, reconnectionDelayMax: 5000 });
  // As on the overview: a push that overtakes the catch-up answer wins.
  var syncing = false;
  var pushedDuringSync = false;

  function sync() {
    syncing = true;
    pushedDuringSync = false;
    socket.emit("sync", {}, function (res) {
      syncing = false;
      if (res && res.ok) { show(res.totals); }
      if (pushedDuringSync) { sync(); }
    });
  }

  socket.on("connect", function () { setConnection("connected"); sync(); });
  socket.on("disconnect", function () { setConnection("connecting"); });
  socket.on("totals", function (totals) {
    if (syncing) { pushedDuringSync = true; }
    show(totals);
  });
})();
