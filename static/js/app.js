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
    var copy = target.closest && target.closest("[data-copy]");
    if (copy) { copyField(copy); }
    if (target.dataset && "print" in target.dataset) { window.print(); }
  });

  /* The join form's "I am under 15": its suggested pseudonym goes into the
     name field, if nothing was typed there yet (and out again if unticked). */
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.dataset || !box.dataset.pseudonym) { return; }
    var name = box.form && box.form.elements.display_name;
    if (!name) { return; }
    if (box.checked && !name.value.trim()) { name.value = box.dataset.pseudonym; }
    if (!box.checked && name.value === box.dataset.pseudonym) { name.value = ""; }
  });

  /* Copy the field a [data-copy] button names, then say so in the field's
     status line (an aria-live region: "<field id>-status"), if it has one. */
  function copyField(button) {
    var input = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-status");
    function copied() {
      if (!status || !button.dataset.copied) { return; }
      status.textContent = "";  // emptied first: a second copy is announced again
      window.setTimeout(function () { status.textContent = button.dataset.copied; }, 50);
    }
    function byCommand() { if (document.execCommand("copy")) { copied(); } }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(copied, byCommand);
    } else {
      byCommand();
    }
  }
})();
