"""The app's likely duplicates, as hints to the people grouping ideas
(issue 18, item 2): to the synthesis desk across the evening's tables, to a
facilitator's console within its table. A hint is never applied by itself:
a person stacks or groups the ideas, or ignores it.

Hints are kept in the process, not stored: the suggestion jobs derive them
again from the ideas (after a restart, at their next round), and a screen
that connects gets the latest with its catch-up."""

from __future__ import annotations

from flask import current_app

MAX_HINTS = 200  # per evening or table, the likeliest first


def evening(event_id: int) -> tuple:
    return ("evening", event_id)


def table(table_id: int) -> tuple:
    return ("table", table_id)


def keep(key: tuple, pairs: list[dict]) -> list[dict]:
    """Keep ``pairs`` (``[{"a", "b", "score"}]``, ideas' ids, likeliest first)
    as the latest hints of ``key`` (:func:`evening` or :func:`table`)."""
    pairs = [{"a": p["a"], "b": p["b"], "score": p["score"]} for p in pairs[:MAX_HINTS]]
    current_app.extensions.setdefault("duplicate_hints", {})[key] = pairs
    return pairs


def of(key: tuple) -> list[dict]:
    """The latest hints of ``key`` (none computed yet: empty)."""
    return current_app.extensions.get("duplicate_hints", {}).get(key, [])
