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

  window.watchEvent(
    cfg.auth,
    function (res) { show(res.totals); },
    { totals: show },
    setConnection
  );
})();
