"""How the server writes and reads Socket.IO packets (DESIGN.md §11).

Every post is read from JSON once and written to JSON several times (its
answer, its table's push, its console's): with the standard library that
was a tenth of what the stack spends per post. :class:`Packet` (given to
the Socket.IO server as its ``serializer``) writes and reads with orjson
instead, a maintained C library several times faster, and falls back to
the standard library for what orjson refuses (a lazy translated string or
a lone surrogate to write; a ``NaN``, an infinite number or a lone
surrogate sent by a client), so that every message is still read and
answered. Messages are the same JSON, non-ASCII characters written as
UTF-8 rather than escaped; an integer past 64 bits sent by a client is
read as a float (refused like any number that is not a valid id).

The server never sends bytes (pictures and exports go over HTTP): the
search for binary attachments through every outgoing message is skipped.
A client's binary packet is still read as Socket.IO defines it.
"""

from __future__ import annotations

import json

import orjson
from socketio import packet


class _Json:
    """orjson, with the standard library's answer where orjson has none."""

    @staticmethod
    def dumps(data, **_options) -> str:
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # what orjson cannot write: as the standard library would
            return json.dumps(data, separators=(",", ":"))

    @staticmethod
    def loads(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # NaN, a lone surrogate…: read as before
            return json.loads(text)


class Packet(packet.Packet):
    """A Socket.IO packet written and read with :class:`_Json`."""

    uses_binary_events = False  # nothing binary is ever sent: not searched for
    json = _Json
