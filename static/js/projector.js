/* The projector: how to join and the live counters; in plenary, each table's
   result in turn (turns computed from server time, so every projector shows
   the same table) or the evening's word cloud. */
import { connect } from "./live/protocol.js";

(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("live-config").textContent);
  var t = cfg.i18n;
  var plenary = { mode: "off", tables: [] };
  var offset = 0;

  function $(selector) { return document.querySelector(selector); }
  function serverNow() { return Date.now() + offset; }

  function showTotals(totals) {
    Object.keys(totals).forEach(function (key) {
      var node = document.querySelector('[data-total="' + key + '"]');
      if (node) { node.textContent = totals[key]; }
    });
  }

  function currentTable() {
    var tables = plenary.tables;
    if (!tables.length) { return null; }
    var start = Math.max(0, tables.findIndex(function (x) { return x.id === plenary.table_id; }));
    var turns = plenary.auto ? Math.floor((serverNow() - plenary.since) / (plenary.auto * 1000)) : 0;
    var index = (start + Math.max(0, turns)) % tables.length;
    return { table: tables[index], index: index };
  }

  var shownKey = null;
  function render() {
    var mode = plenary.mode;
    $("[data-join]").hidden = mode !== "off";
    $("[data-plenary]").hidden = mode !== "table";
    $("[data-cloud]").hidden = mode !== "cloud";
    $("[data-themes]").hidden = mode !== "themes";
    $("[data-room-results]").hidden = mode !== "room_vote";
    $("[data-corner]").hidden = mode === "off";
    document.body.dataset.mode = mode;
    if (mode === "table") { renderTable(); }
    if (mode === "cloud") { renderCloud(); }
    if (mode === "themes") { renderThemes(); }
    if (mode === "room_vote") { renderRoomResults(); }
  }

  function renderRoomResults() {
    var vote = plenary.vote || {};
    var rows = vote.state === "closed" ? vote.results || [] : [];
    var list = $("[data-room-result-list]");
    list.replaceChildren();
    rows.forEach(function (row) {
      list.appendChild(themeItem(row, t.room_points.replace("{points}", row.points).replace("{voters}", row.voters)));
    });
    $("[data-room-results-none]").hidden = rows.length > 0;
  }

  /** A theme on the wall: its label (user text, always text) and one line about it. */
  function themeItem(theme, line) {
    var li = document.createElement("li");
    li.dataset.theme = theme.id;
    var label = document.createElement("h2");
    label.textContent = theme.label;
    var about = document.createElement("p");
    about.className = "room-theme-tables";
    about.textContent = line;
    li.append(label, about);
    return li;
  }

  function renderThemes() {
    var list = $("[data-theme-list]");
    list.replaceChildren();
    (plenary.themes || []).forEach(function (theme) {
      var li = themeItem(theme, theme.tables === 1 ? t.theme_tables_one : t.theme_tables_many.replace("{n}", theme.tables));
      var quotes = document.createElement("ul");
      theme.quotes.forEach(function (text) {
        var quote = document.createElement("li");
        quote.textContent = text;
        quotes.appendChild(quote);
      });
      li.append(quotes);
      list.appendChild(li);
    });
    $("[data-themes-none]").hidden = (plenary.themes || []).length > 0;
  }

  function renderTable() {
    var found = currentTable();
    if (!found) { return; }
    var table = found.table;
    var key = JSON.stringify(table);
    if (key === shownKey) { return; } // redraw only on change: the screen does not flicker
    shownKey = key;
    $("[data-plenary-position]").textContent = t.position.replace("{n}", table.number)
      .replace("{i}", found.index + 1).replace("{total}", plenary.tables.length);
    $("[data-plenary-challenge]").textContent = t.challenges[table.challenge] || "";
    $("[data-plenary-name]").textContent = table.name;
    $("[data-plenary-brief]").textContent = table.brief_title;
    var sheet = $("[data-plenary-sheet]");
    sheet.replaceChildren();
    (table.sheet || []).forEach(function (field) {
      var dt = document.createElement("dt");
      dt.textContent = (t.sheet_labels[table.challenge] || {})[field.key] || field.key;
      var dd = document.createElement("dd");
      dd.textContent = field.text; // user text is always text
      sheet.append(dt, dd);
    });
    var list = $("[data-plenary-top]");
    list.replaceChildren();
    table.top.forEach(function (card) {
      var li = document.createElement("li");
      var text = document.createElement("span");
      text.className = "plenary-card";
      text.textContent = card.text; // user text is always text
      var votes = document.createElement("span");
      votes.className = "plenary-votes";
      votes.textContent = card.votes === 1 ? t.votes_one : t.votes_many.replace("{n}", card.votes);
      li.append(text, " ", votes);
      list.appendChild(li);
    });
    $("[data-plenary-none]").hidden = table.top.length > 0;
    $("[data-plenary-reporter]").textContent = table.reporter || t.nobody;
    $("[data-plenary-commitments]").textContent = table.commitments;
    fitPlenary();
  }

  // The plenary fits the screen whatever the sheet's length: the largest type
  // that fits, between FIT_MIN (below it, the stylesheet's floor keeps the
  // text readable) and FIT_MAX (a short result in large type); when even the
  // smallest does not fit, long fields fold to fewer lines and the type grows back.
  // Type grows beyond its usual size only while no field has to fold.
  var FIT_MIN = 0.6;
  var FIT_MAX = 1.6;
  var MAX_LINES = 4;
  function fitPlenary() {
    var section = $("[data-plenary]");
    if (section.hidden) { return; }
    function set(fit, lines) {
      section.style.setProperty("--fit", fit);
      section.style.setProperty("--lines", lines);
      section.style.setProperty("--card-lines", Math.min(lines, 3));
      section.style.setProperty("--title-lines", Math.min(lines, 2));
    }
    var folding = section.querySelectorAll(".fold-title, .plenary-sheet dd, .plenary-card");
    function folded() {
      return Array.prototype.some.call(folding, function (node) {
        return node.scrollHeight > node.clientHeight + 1;
      });
    }
    function overflows() {
      return section.scrollHeight > section.clientHeight + 1
        || section.scrollWidth > section.clientWidth + 1
        || (Number(section.style.getPropertyValue("--fit")) > 1 && folded());
    }
    for (var lines = MAX_LINES; lines >= 1; lines--) {
      set(FIT_MAX, lines);
      if (!overflows()) { break; }
      set(FIT_MIN, lines);
      if (overflows() && lines > 1) { continue; }
      var low = FIT_MIN;
      var high = FIT_MAX;
      for (var step = 0; step < 7; step++) { // to within 1 %
        var middle = (low + high) / 2;
        set(middle, lines);
        if (overflows()) { high = middle; } else { low = middle; }
      }
      set(low, lines);
      break;
    }
    section.dataset.fitted = "true";
    section.dataset.fittedFor = window.innerWidth + "x" + window.innerHeight;
  }
  window.addEventListener("resize", fitPlenary);

  function renderCloud() {
    var list = $("[data-cloud-words]");
    list.replaceChildren();
    var top = plenary.cloud.length ? plenary.cloud[0][1] : 1;
    plenary.cloud.forEach(function (pair) {
      var li = document.createElement("li");
      li.textContent = pair[0];
      li.dataset.count = pair[1];
      // From 1.2 to 4.5 rem by frequency: the most used words stand out.
      li.style.fontSize = (1.2 + 3.3 * Math.sqrt(pair[1] / top)) + "rem";
      list.appendChild(li);
    });
  }

  function setPlenary(data) {
    if (data.now) { offset = data.now - Date.now(); }
    plenary = data;
    shownKey = null;
    render();
  }

  // No visible indicator on the big screen; the state is kept for inspection.
  function setConnection(state) { document.body.dataset.connection = state; }

  var live = connect({
    auth: cfg.auth,
    event: cfg.auth.event,
    role: "projector",
    onSync: function (res) { showTotals(res.totals); setPlenary(Object.assign({ now: res.now }, res.plenary)); },
    pushes: { totals: showTotals, plenary: setPlenary },
    onConnection: setConnection
  });
  // Timed turns move by themselves; results voted meanwhile arrive every 30 s.
  setInterval(render, 1000);
  setInterval(function () {
    if (plenary.mode !== "off" && live.socket.connected) { live.sync(); }
  }, 30000);
})();
