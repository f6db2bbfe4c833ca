/* Small behaviours shared by every page (no inline scripts: the CSP forbids them). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    var ask = target.closest && target.closest("[data-confirm-click]");
    if (ask && !window.confirm(ask.dataset.confirmClick)) { event.preventDefault(); return; }
    if (target.dataset && target.dataset.copy) {
      var input = document.getElementById(target.dataset.copy);
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value);
      } else {
        document.execCommand("copy");
      }
    }
    if (target.dataset && "print" in target.dataset) { window.print(); }
  });
})();
