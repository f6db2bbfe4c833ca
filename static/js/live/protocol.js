/* The connection of a live screen, and its outbox (DESIGN.md §6).

   - Every write gets a client id and waits in an outbox kept in localStorage;
     it leaves the outbox only when the server answers it.
   - Writes are sent one at a time; without an answer in 10 s the same write
     is sent again (the server answers a resend from its receipt).
   - A temporary refusal stays first in line and is retried later; a
     permanent one moves to a "not sent" list, with its reason, and never
     blocks the writes behind it. So does a write that met an unexpected
     server error three times (a database away is retried without limit).
   - On every (re)connect the screen asks for every change since the last
     sequence number it knows, and again 2 s after a number went missing
     (seen in a later push, or in the table's beacon).
   - A screen of the whole evening (organizers' room, projector) has no
     table's numbers: its catch-up is the evening's current state, and a push
     heard while one was on its way may be older than the answer, so the
     screen catches up once more. It says it is connected only once a
     catch-up has arrived: before, it shows nothing it can vouch for.

   The vendored Socket.IO client is a classic script: it defines ``io``. */

const ACK_TIMEOUT = 10000;
const RESEND_DELAY = 2000; // after an unanswered write
const GAP_DELAY = 2000; // a missing number is fetched if still missing then
const SERVER_ERROR_DELAY = 5000;
// Still not connected after this long, with the network up (the laptop
// asleep or restarting): the screen says the room is out of reach.
const LOST_DELAY = 4000;
// A write met an unexpected server error this many times: it is set aside
// in the "not sent" list, so that it never blocks the writes behind it.
const MAX_SERVER_ERRORS = 3;

/** A version 4 UUID. crypto.randomUUID needs a secure context, and a venue's
    LAN address is plain http. */
export function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

function stored(key) {
  try { return JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return []; }
}

function store(key, list) {
  try { localStorage.setItem(key, JSON.stringify(list)); } catch (e) { /* full or blocked: kept in memory only */ }
}

/**
 * Connect a screen of table ``table`` with its ``store``, or of the evening
 * ``event`` (without a store), as ``role``.
 * ``onUpdate()`` is called whenever the store, the outbox or the not-sent
 * list changed; ``onConnection(state)`` with connected | connecting |
 * lost (connecting for a while) | offline | refused; ``onMessage(text)`` with a refusal to show (or "").
 * ``onRefusal(item, answer)`` may take a permanent refusal for a screen of
 * its own (a vote over budget, a sheet conflict to resolve): when it returns
 * true, the write leaves the outbox without going to the "not sent" list.
 * Every catch-up answer also goes to ``onSync(answer)`` (a screen of the
 * evening keeps it all; a console, the hints that come with it); a screen
 * of the evening gets every catch-up answer in ``onSync(answer)``
 * and the pushes it names in ``pushes`` ({event name: handler}); what it
 * asks a catch-up for is ``asked()`` (the synthesis desk: every table's numbers).
 */
export function connect({
  auth, table, event, role, store: state, onUpdate = () => {}, onConnection,
  onMessage = () => {}, onRefusal, onSync = () => {}, pushes = {}, asked = () => ({}),
}) {
  // An evening's screen keeps its outbox apart from every table's.
  const scope = state ? table : `event:${event}`;
  const outboxKey = `outbox:${scope}:${role}`;
  const unsentKey = `unsent:${scope}:${role}`;
  const waiting = new Map(); // client id -> resolve of send(), in this page only
  let sending = null; // the write waiting for its answer
  let generation = 0; // bumped at every disconnect: late answers are ignored
  let waitTimer = null; // a pause before sending again
  let refused = false;
  let syncing = false;
  let syncAgain = false;
  let gapTimer = null;
  let behindTimer = null; // a beacon said the table is further on

  const socket = io({
    auth,
    // Behind several processes, the proxy sends every request carrying a
    // table's code to that table's process (deploy/nginx.conf); the server
    // never reads it: who may do what comes from the auth and the cookie.
    // An evening's screen carries none: the proxy keeps it by address.
    query: state ? { table } : {},
    // A WebSocket first: one connection; long-polling only if the network
    // refuses WebSockets (it carries the code too, so it follows the same route).
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
  });

  // --- outbox ------------------------------------------------------------------

  function outbox() { return stored(outboxKey); }
  function unsent() { return stored(unsentKey); }

  /** A new write; ``tableId``: the table an organizer's write is for
      (none: the whole evening). */
  function entry(op, data, tableId) {
    const item = { client_id: newClientId(), op, data };
    if (tableId !== undefined && tableId !== null) { item.table_id = tableId; }
    return item;
  }

  function queue(item) {
    store(outboxKey, outbox().concat([item]));
    onUpdate();
    flush();
  }

  /** Queue a write; its client id. */
  function write(op, data, tableId) {
    const item = entry(op, data, tableId);
    queue(item);
    return item.client_id;
  }

  /** Queue a write; a promise of the server's answer (``ok``, or a
      permanent refusal, which the caller shows: it skips the "not sent"
      list). Offline, it waits in the outbox like any write. */
  function send(op, data, tableId) {
    const item = entry(op, data, tableId);
    // Waited for before it can leave: its answer may come at once.
    const answer = new Promise((resolve) => { waiting.set(item.client_id, resolve); });
    queue(item);
    return answer;
  }

  function settle(clientId, res) {
    const resolve = waiting.get(clientId);
    waiting.delete(clientId);
    if (resolve) { resolve(res); }
    return Boolean(resolve);
  }

  function drop(clientId) {
    store(outboxKey, outbox().filter((item) => item.client_id !== clientId));
  }

  function dismiss(clientId) {
    store(unsentKey, unsent().filter((item) => item.client_id !== clientId));
    onUpdate();
  }

  /** Count one more server error against ``item``; how many so far. */
  function failedAgain(item) {
    const list = outbox();
    const found = list.find((queued) => queued.client_id === item.client_id);
    if (!found) { return MAX_SERVER_ERRORS; }
    found.errors = (found.errors || 0) + 1;
    store(outboxKey, list);
    return found.errors;
  }

  function later(delay) {
    clearTimeout(waitTimer);
    waitTimer = setTimeout(() => { waitTimer = null; flush(); }, delay);
  }

  function answered(item, res) {
    sending = null;
    if (res && res.ok) {
      drop(item.client_id);
      if (state) {
        if (typeof res.now === "number") { state.setServerNow(res.now); }
        state.applyAll(res.changes);
      }
      settle(item.client_id, res);
      onMessage("");
      onUpdate();
      checkGap();
      flush();
      return;
    }
    const message = (res && res.message) || "";
    const givenUp = res && res.error === "server_error" && failedAgain(item) >= MAX_SERVER_ERRORS;
    if (res && res.permanent === false && !givenUp) {
      // Temporary (posting too fast, a server hiccup): first in line, later.
      onMessage(message);
      onUpdate();
      later(res.retry_after ? res.retry_after * 1000 : SERVER_ERROR_DELAY);
      return;
    }
    // Refused for good: shown where it belongs, or kept on this device with
    // the reason, out of the way.
    drop(item.client_id);
    if (settle(item.client_id, res || {}) || (onRefusal && onRefusal(item, res || {}))) {
      onUpdate();
      flush();
      return;
    }
    store(unsentKey, unsent().concat([{ ...item, message }]));
    onMessage(message);
    onUpdate();
    flush();
  }

  function flush() {
    if (sending || waitTimer || refused || !socket.connected) { return; }
    const item = outbox()[0];
    if (!item) { return; }
    sending = item;
    const mine = generation;
    const envelope = { op: item.op, client_id: item.client_id, data: item.data };
    if (item.table_id !== undefined) { envelope.table_id = item.table_id; }
    socket.timeout(ACK_TIMEOUT).emit(
      "write",
      envelope,
      (err, res) => {
        if (mine !== generation) { return; } // disconnected meanwhile: sent again on reconnect
        if (err) { // no answer in time: send the same write again
          sending = null;
          later(RESEND_DELAY);
          return;
        }
        answered(item, res);
      },
    );
  }

  // --- catching up ---------------------------------------------------------------

  function sync() {
    if (refused || !socket.connected) { return; }
    if (syncing) { syncAgain = true; return; }
    syncing = true;
    syncAgain = false;
    const mine = generation;
    // With the numbers it saw and the server's epoch: after a power cut the
    // server tells a screen that saw lost numbers to start again (reset).
    const question = state ? { since: state.lastSeq, seen: state.topSeq, epoch: state.epoch } : asked();
    socket.timeout(ACK_TIMEOUT).emit("sync", question, (err, res) => {
      if (mine !== generation) { return; }
      syncing = false;
      if (err) { setTimeout(sync, RESEND_DELAY); return; }
      if (res && res.ok) {
        if (state) { state.catchUp(res); } else { setConnection("connected"); }
        onSync(res);
        onUpdate();
        checkGap();
      } else if (res && res.permanent === false) {
        // Asked too often (or the database away): asked again later.
        setTimeout(sync, res.retry_after ? res.retry_after * 1000 : SERVER_ERROR_DELAY);
      }
      if (syncAgain) { sync(); }
      flush();
    });
  }

  // A number was skipped (a push lost on its way): fetch the missing changes
  // soon, not only at the next reconnect.
  function checkGap() {
    if (!state || gapTimer || !state.hasGap()) { return; }
    gapTimer = setTimeout(() => {
      gapTimer = null;
      if (state.hasGap()) { sync(); }
    }, GAP_DELAY);
  }

  // --- connection --------------------------------------------------------------------

  let connection = null;
  let lostTimer = null;

  function setConnection(name) {
    if (name !== "connecting") {
      clearTimeout(lostTimer);
      lostTimer = null;
    } else if (connection === "lost") {
      return; // still out of reach: trying again changes nothing to say
    } else if (!lostTimer) {
      lostTimer = setTimeout(() => {
        lostTimer = null;
        if (!socket.connected && !refused && connection === "connecting") { setConnection("lost"); }
      }, LOST_DELAY);
    }
    connection = name;
    onConnection(name);
  }
  function lost() { return navigator.onLine ? "connecting" : "offline"; }

  function stop() {
    refused = true;
    socket.disconnect();
    setConnection("refused");
  }

  // A table's screen is live at once (its store is its own); an evening's
  // once its first catch-up has arrived.
  socket.on("connect", () => { setConnection(state ? "connected" : "connecting"); sync(); });
  socket.on("disconnect", () => {
    generation += 1;
    sending = null;
    syncing = false;
    if (!refused) { setConnection(lost()); }
  });
  socket.on("connect_error", (err) => {
    if (err && err.message === "unauthorized") { stop(); return; }
    setConnection(lost());
  });
  // A push heard while a catch-up is on its way may be older than its answer.
  Object.keys(pushes).forEach((name) => {
    socket.on(name, (data) => {
      if (syncing) { syncAgain = true; }
      pushes[name](data);
    });
  });
  socket.on("changes", (push) => {
    if (!state || !push) { return; }
    if (typeof push.now === "number") { state.setServerNow(push.now); }
    state.applyAll(push.changes);
    onUpdate();
    checkGap();
  });
  // Once a table has gone quiet, the server tells its latest number: a screen
  // still behind it a moment later (the table's last push lost) catches up.
  socket.on("seq", (beacon) => {
    if (!state || !beacon || typeof beacon.seq !== "number") { return; }
    if (typeof beacon.now === "number") { state.setServerNow(beacon.now); }
    const latest = beacon.seq;
    if (latest <= state.lastSeq || behindTimer) { return; }
    behindTimer = setTimeout(() => {
      behindTimer = null;
      if (state.lastSeq < latest) { sync(); }
    }, GAP_DELAY);
  });
  // The facilitator link was replaced: this console stops at once.
  socket.on("revoked", stop);

  // Phones know before Socket.IO does that the network is gone or back.
  window.addEventListener("offline", () => { socket.disconnect(); setConnection("offline"); });
  window.addEventListener("online", () => { if (!refused) { socket.connect(); } });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !socket.connected && !refused && navigator.onLine) {
      socket.connect();
    }
  });
  // Another tab of this device wrote or sent something.
  window.addEventListener("storage", (event) => {
    if (event.key === outboxKey || event.key === unsentKey) { onUpdate(); flush(); }
  });

  setConnection(navigator.onLine ? "connecting" : "offline");
  return { socket, write, send, sync, outbox, unsent, dismiss };
}
