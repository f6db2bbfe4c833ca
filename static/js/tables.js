/* The evening's page: typing one's table number narrows the list of tables
   to the ones it can be (the form works without this too). */
(function () {
  "use strict";
  var form = document.querySelector("[data-find-table]");
  var list = document.querySelector("[data-tables]");
  var none = document.querySelector("[data-no-table]");
  if (!form || !list) { return; }
  var input = form.elements.number;
  var items = Array.prototype.slice.call(list.children);

  function narrow() {
    var typed = input.value.replace(/\D/g, "").replace(/^0+(?=\d)/, "");
    var shown = 0;
    items.forEach(function (item) {
      var match = !typed || item.dataset.number.indexOf(typed) === 0;
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    none.hidden = shown > 0;
  }

  input.addEventListener("input", narrow);
  narrow(); // a number kept by the browser on going back
})();
