/* Shared by the screens that only watch (organizer overview, projector):
   connect, catch up on every (re)connect, apply pushes. A catch-up answer may
   have been computed before a push that reached the screen first; if anything
   was pushed meanwhile, the screen catches up once more. The screen says
   it is connected only once a catch-up has arrived: before, it shows
   nothing it can vouch for. */
window.watchEvent = function (auth, onCatchUp, pushes, onConnection) {
  "use strict";
  // WebSocket first, long-polling only if it fails: see protocol.js.
  var socket = io({
    auth: auth, reconnectionDelayMax: 5000,
    transports: ["websocket", "polling"], tryAllTransports: true,
  });
  var syncing = false;
  var pushedDuringSync = false;

  function catchUp() {
    syncing = true;
    pushedDuringSync = false;
    socket.emit("sync", {}, function (res) {
      syncing = false;
      if (res && res.ok) { onCatchUp(res); onConnection("connected"); }
      if (pushedDuringSync) { catchUp(); }
    });
  }

  socket.on("connect", function () { onConnection("connecting"); catchUp(); });
  socket.on("disconnect", function () { if (!revoked) { onConnection("offline"); } });
  // Signed out (here or in another tab): this screen stops receiving.
  var revoked = false;
  socket.on("revoked", function () { revoked = true; socket.disconnect(); onConnection("refused"); });
  Object.keys(pushes).forEach(function (name) {
    socket.on(name, function (data) {
      if (syncing) { pushedDuringSync = true; }
      pushes[name](data);
    });
  });
  return socket;
};
