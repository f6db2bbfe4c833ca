/* The organizers' control room: every table's step, time left, counts, last
   activity and console, on server time; late and stalled tables filtered;
   steps pushed and messages sent to the selected tables through the one
   write path (one write envelope per table), through the outbox every live
   screen uses: a write made offline is sent once the room is back. Texts
   are filled in with fill(), never String.replace with a string: "$&" in a
   step's title would be read as a pattern. */
import { fill } from "./live/dom.js";
import { connect } from "./live/protocol.js";

(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("live-config").textContent);
  var t = cfg.i18n;
  var connection = document.querySelector("[data-connection]");
  var rowsBody = document.querySelector("[data-rows]");
  var tools = document.querySelector("[data-room-tools]");
  var result = document.querySelector("[data-room-result]");
  var tables = new Map(); // table id -> summary (table view + number, name, console…)
  var counts = {}; // table id (text) -> {participants, ideas}
  var recent = new Map(); // table id -> latest ideas, newest first
  var offset = 0; // server time minus this screen's time
  var STALLED_MS = 5 * 60 * 1000;
  var pluralRule = new Intl.PluralRules(document.documentElement.lang || "fr");

  /** A counted message in the right form ({n} filled in): the view sends
      each one's singular and plural (see organizer.plural_forms). */
  function counted(key, n, values) {
    var forms = t.plural[key];
    return fill(forms[pluralRule.select(n) === "one" ? 0 : 1], Object.assign({ n: n }, values));
  }

  function serverNow() { return Date.now() + offset; }
  function row(id) { return rowsBody.querySelector('[data-table="' + id + '"]'); }

  function secondsLeft(table) {
    if (!table.timer) { return null; }
    if (table.timer.left !== null && table.timer.left !== undefined) { return table.timer.left; }
    if (!table.timer.ends_at) { return null; }
    return Math.ceil((table.timer.ends_at - serverNow()) / 1000);
  }
  function isLate(table) { var left = secondsLeft(table); return left !== null && left <= 0; }
  function isStalled(table) {
    return table.step_id !== null && table.open &&
      (!table.last_activity || serverNow() - table.last_activity > STALLED_MS);
  }

  function clockText(seconds) {
    var sign = seconds < 0 ? "+" : "";
    var s = Math.abs(seconds);
    return sign + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function renderRow(table) {
    var node = row(table.id);
    if (!node) { return; }
    var script = stepsOf(table);
    var index = script.findIndex(function (s) { return s.id === table.step_id; });
    node.querySelector("[data-step]").textContent = index < 0 ? t.not_started :
      fill(t.step_of, { n: index + 1, total: script.length, title: script[index].title });
    var left = secondsLeft(table);
    var leftCell = node.querySelector("[data-left]");
    leftCell.textContent = left === null ? "–" :
      clockText(left) + (table.timer.left !== null && table.timer.left !== undefined ? " (" + t.paused + ")" : "");
    leftCell.dataset.level = left === null ? "" : left <= 30 ? "red" : left <= 120 ? "amber" : "";
    // Never by colour alone (WCAG 1.4.1): a step about to end says so in words.
    if (left !== null && left > 0 && left <= 120) { leftCell.textContent += " · " + t.ending; }
    var minutes = table.last_activity ? Math.floor((serverNow() - table.last_activity) / 60000) : null;
    node.querySelector("[data-activity]").textContent = minutes === null ? t.never :
      minutes < 1 ? t.just_now : fill(t.minutes_ago, { n: minutes });
    // The table's mix: the creative challenge wants a deliberately diverse table.
    var mix = table.mix || {};
    node.querySelector("[data-mix]").textContent = Object.keys(mix).sort(function (a, b) {
      return mix[b] - mix[a];
    }).map(function (key) { return (t.categories[key] || key) + " " + mix[key]; }).join(" · ");
    var consoleCell = node.querySelector("[data-console]");
    consoleCell.textContent = table.console ? t.console_on : t.console_off;
    consoleCell.dataset.state = table.console ? "on" : "off";
    node.dataset.late = isLate(table);
    node.dataset.stalled = isStalled(table);
    // The red bar of a late or stalled table is said in words too.
    node.querySelector("[data-flags]").textContent = [isLate(table) ? t.late : "",
      isStalled(table) ? t.stalled : ""].filter(Boolean).join(" · ");
    var c = counts[String(table.id)];
    if (c) {
      node.querySelector('[data-count="participants"]').textContent = c.participants;
      node.querySelector('[data-count="ideas"]').textContent = c.ideas;
    }
  }

  function renderRecent(id) {
    var node = row(id);
    if (!node) { return; }
    var list = node.querySelector("[data-recent]");
    list.replaceChildren();
    (recent.get(id) || []).forEach(function (idea) {
      var li = document.createElement("li");
      li.textContent = idea.text; // user text is always text
      list.appendChild(li);
    });
  }

  function addIdea(idea) {
    var list = (recent.get(idea.table_id) || []).filter(function (i) { return i.id !== idea.id; });
    if (!idea.deleted && !idea.hidden && !idea.withheld && !idea.private) { list.unshift(idea); }
    list.sort(function (a, b) { return b.id - a.id; });
    recent.set(idea.table_id, list.slice(0, 3));
    renderRecent(idea.table_id);
  }

  function setTotal(key, value) {
    var node = document.querySelector('[data-total="' + key + '"]');
    if (node) { node.textContent = value; }
  }

  function arrange() {
    var filter = tools.querySelector('input[name="filter"]:checked').value;
    var sort = tools.querySelector('select[name="sort"]').value;
    var all = Array.from(tables.values());
    var late = 0, stalled = 0, consoles = 0;
    all.forEach(function (table) {
      renderRow(table);
      late += isLate(table); stalled += isStalled(table); consoles += !!table.console;
      var shown = filter === "all" || (filter === "late" ? isLate(table) : isStalled(table));
      row(table.id).hidden = !shown;
    });
    setTotal("late", late); setTotal("stalled", stalled); setTotal("consoles", consoles);
    var key = {
      number: function (x) { return x.number; },
      left: function (x) { var l = secondsLeft(x); return l === null ? Infinity : l; },
      activity: function (x) { return x.last_activity || 0; }
    }[sort];
    // Rows move only when the order changes (this runs every second), and
    // the control that had the keyboard focus keeps it when they do.
    var order = all.sort(function (a, b) { return key(a) - key(b) || a.number - b.number; })
      .map(function (table) { return row(table.id); });
    var rows = rowsBody.children;
    if (order.some(function (tr, i) { return rows[i] !== tr; })) {
      var focused = rowsBody.contains(document.activeElement) ? document.activeElement : null;
      order.forEach(function (tr) { rowsBody.appendChild(tr); });
      if (focused && document.activeElement !== focused) { focused.focus(); }
    }
    var participants = 0, ideas = 0;
    Object.keys(counts).forEach(function (id) { participants += counts[id].participants; ideas += counts[id].ideas; });
    setTotal("participants", participants); setTotal("ideas", ideas); setTotal("tables", all.length);
  }

  function selected() {
    return Array.from(rowsBody.querySelectorAll("tr")).filter(function (tr) {
      return !tr.hidden && tr.querySelector("[data-select]").checked;
    }).map(function (tr) { return tables.get(Number(tr.dataset.table)); }).filter(Boolean);
  }

  // One write per table (none: a write to the whole evening); its answer
  // once the server has it, a refusal reported by the caller.
  function write(tableId, op, data) { return live.send(op, data, tableId); }

  function report(answers, doneKey) {
    var refused = answers.filter(function (a) { return !a.ok; });
    var text = counted(doneKey, answers.length - refused.length);
    if (refused.length) {
      text += " " + counted("failed", refused.length, { reason: refused[0].message || "" });
    }
    result.textContent = text;
  }

  // One write moves every selected table, however many: after saying how
  // many tables go to which step, and only if the organizer agrees.
  tools.querySelector("[data-push-step]").addEventListener("click", function () {
    var select = tools.querySelector('select[name="step_kind"]');
    var kind = select.value;
    var chosen = selected();
    if (!chosen.length) { result.textContent = t.none_selected; return; }
    var withStep = chosen.filter(function (table) {
      return stepsOf(table).some(function (s) { return s.kind === kind; });
    });
    var without = chosen.length - withStep.length;
    if (!withStep.length) { result.textContent = counted("no_step", without); return; }
    var step = select.selectedOptions[0].textContent;
    if (!window.confirm(counted("confirm_move", withStep.length, { step: step }))) { return; }
    var ids = withStep.map(function (table) { return table.id; });
    write(null, "tables.step", { kind: kind, table_ids: ids }).then(function (res) {
      if (!res.ok) { result.textContent = res.message; return; }
      result.textContent = counted("moved", withStep.length) +
        (without ? " " + counted("no_step", without) : "");
    });
  });

  tools.querySelector("[data-send-message]").addEventListener("click", function () {
    var input = tools.querySelector('input[name="message"]');
    var text = input.value.trim();
    var chosen = selected();
    if (!chosen.length) { result.textContent = t.none_selected; return; }
    if (!text) { input.focus(); return; }
    Promise.all(chosen.map(function (table) {
      return write(table.id, "console.message", { text: text });
    })).then(function (answers) {
      report(answers, "sent");
      if (answers.every(function (a) { return a.ok; })) { input.value = ""; }
    });
  });

  tools.addEventListener("change", arrange);
  document.querySelector("[data-select-all]").addEventListener("change", function (event) {
    rowsBody.querySelectorAll("tr:not([hidden]) [data-select]").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // --- the plenary on the projector --------------------------------------------------

  var plenaryTools = document.querySelector("[data-plenary-tools]");
  var plenaryState = { mode: "off" };

  function showPlenaryState(state) {
    plenaryState = state;
    var text = t["plenary_" + state.mode] || "";
    if (state.mode === "table") {
      var table = tables.get(state.table_id);
      text = state.auto ? fill(t.plenary_turns, { s: state.auto }) :
        fill(t.plenary_table, { n: table ? table.number : "" });
      plenaryTools.querySelector('[name="table_id"]').value = String(state.table_id);
    }
    plenaryTools.querySelector("[data-plenary-state]").textContent = text;
  }

  plenaryTools.addEventListener("click", function (event) {
    var action = event.target.dataset && event.target.dataset.plenary;
    if (!action) { return; }
    var select = plenaryTools.querySelector('[name="table_id"]');
    var ids = Array.from(select.options).map(function (o) { return Number(o.value); });
    var at = ids.indexOf(Number(select.value));
    var data = { mode: ["off", "cloud", "themes"].indexOf(action) >= 0 ? action : "table" };
    if (action === "previous" || action === "next") {
      at = (at + (action === "next" ? 1 : ids.length - 1)) % ids.length;
    }
    if (data.mode === "table") { data.table_id = ids[at]; }
    if (action === "turns") { data.auto = Number(plenaryTools.querySelector('[name="auto"]').value) || 0; }
    write(null, "plenary.show", data).then(function (res) {
      if (!res.ok) { result.textContent = res.message; return; }
      showPlenaryState(Object.assign({}, data, { auto: data.auto || 0 }));
    });
  });

  // --- the room's vote on the themes ----------------------------------------------
  var roomVoteTools = document.querySelector("[data-room-vote-tools]");
  roomVoteTools.addEventListener("click", function (event) {
    var action = event.target.dataset && event.target.dataset.roomVote;
    if (!action) { return; }
    var data = action === "open" ? {
      mode: roomVoteTools.querySelector('[name="mode"]').value,
      budget: Number(roomVoteTools.querySelector('[name="budget"]').value) || 0,
    } : {};
    var said = roomVoteTools.querySelector("[data-room-vote-result]");
    write(null, "room_vote." + action, data).then(function (res) {
      said.textContent = res.ok ? t["room_vote_" + (action === "open" ? "open" : "closed")] : res.message;
    });
  });

  // Steps are entities of their own: a table names its script's steps in order.
  var steps = new Map(); // step id -> its latest view
  function stepsOf(table) {
    return (table.step_ids || []).map(function (id) { return steps.get(id); }).filter(Boolean);
  }
  function keepStep(step) {
    var known = steps.get(step.id);
    if (!known || known.seq <= step.seq) { steps.set(step.id, step); }
  }

  function applyChange(change) {
    if (change.type === "idea") { addIdea(change); return; }
    if (change.type === "step") { keepStep(change); return; }
    if (change.type !== "table") { return; }
    var known = tables.get(change.id);
    if (known && known.seq > change.seq) { return; }
    // Pushes carry the live state only: keep what the catch-up gave (number, console…).
    tables.set(change.id, Object.assign({}, known || {}, change));
  }

  function setNow(now) { if (now) { offset = now - Date.now(); } }

  // The buttons wait for the first catch-up: until then no table is known.
  function ready() {
    document.querySelectorAll("[data-push-step], [data-send-message], [data-plenary], [data-room-vote]")
      .forEach(function (button) { button.disabled = false; });
  }

  var live = connect({
    auth: cfg.auth,
    event: cfg.auth.event,
    role: "organizer",
    onSync: function (res) {
      setNow(res.now);
      res.tables.forEach(function (table) {
        (table.steps || []).forEach(keepStep);
        tables.set(table.id, table);
      });
      showPlenaryState(res.plenary);
      counts = res.counts;
      recent.clear();
      res.recent.slice().reverse().forEach(addIdea);
      rowsBody.querySelectorAll("tr").forEach(function (tr) { renderRecent(Number(tr.dataset.table)); });
      arrange();
      ready();
    },
    pushes: {
      counts: function (c) { counts = c; arrange(); },
      mixes: function (mixes) {
        tables.forEach(function (table) { table.mix = mixes[String(table.id)] || {}; });
        arrange();
      },
      changes: function (push) { setNow(push.now); push.changes.forEach(applyChange); arrange(); },
      plenary: showPlenaryState,
      presence: function (p) {
        var table = tables.get(p.table_id);
        if (table) { table.console = p.console; arrange(); }
      }
    },
    // A write waiting for a while (posting too fast, the database away) says why.
    onMessage: function (text) { if (text) { result.textContent = text; } },
    onConnection: function (state) {
      // Out of reach for a while is said like any lost connection here.
      var shown = state === "lost" ? "offline" : state;
      connection.textContent = t[shown];
      connection.dataset.state = shown;
    }
  });
  // Time left and "last activity" move on their own.
  setInterval(arrange, 1000);
})();
