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

  var socket = io({ auth: cfg.auth, reconnectionDelayMax: 5000 });
  socket.on("connect", function () {
    socket.emit("sync", {}, function (res) { if (res && res.ok) { show(res.totals); } });
  });
  socket.on("totals", show);
})();
