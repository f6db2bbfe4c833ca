"""A phone's post or vote straight on SQLite, without the ORM session (DESIGN.md §11).

A hall posts a hundred times a second; each post is three prepared
statements (:class:`~workshop.sqlite.Prepared`) and a commit. Around them
the ORM session cost as much as the statements themselves: the session and
its transaction made and closed at every event, an engine connection and
its transaction, the unit of work's flush and commit bookkeeping, for a
write that loads no entity. So an operation declared ``direct`` (see
:func:`workshop.services.writes.op`), made by a participant, runs with a
:class:`DirectSession` in the place of the event's ``db.session``: the same
``info``, ``connection()`` for prepared statements, ``commit()`` and
``rollback()``, on a connection taken from the pool, with the same
publisher before and after the commit, the same writers' queue and the same
flush to disk before the answer.

Anything else an operation asks of it is refused loudly (AttributeError):
a direct operation loads no entity. It serves one write: after its commit or
rollback it steps aside, so that what follows in the event (a resend's
receipt looked up, say) gets an ordinary ORM session.
"""

from __future__ import annotations

from contextlib import nullcontext

from sqlalchemy import event

from .extensions import db
from .publisher import forget_after_rollback, publish_after_commit, render_before_commit

# Connections kept for the next direct write, past its commit: the pool's
# checkout and checkin (its bookkeeping, events and reset) cost a tenth of
# a post. Only a connection whose write committed is kept: no transaction
# open, the writers' queue given back (workshop/sqlite.py). A couple are
# enough: writes take turns at the writers' queue.
SPARES = 2


def _spares(engine) -> list:
    spares = getattr(engine, "direct_spares", None)
    if spares is None:
        spares = engine.direct_spares = []

        @event.listens_for(engine, "engine_disposed")
        def _close_spares(_engine):
            while spares:
                spares.pop().close()

    return spares


class _Connection:
    """What :class:`~workshop.sqlite.Prepared` needs of a connection."""

    def __init__(self, engine, pooled):
        self.engine, self.dialect, self.connection = engine, engine.dialect, pooled


class DirectSession:
    """The subset of a Session that a direct operation's write uses."""

    def __init__(self, engine):
        self.engine = engine
        self.info: dict = {}
        self._pooled = None  # the pool's connection, taken at first use

    def connection(self, **_options) -> _Connection:
        if self._pooled is None:
            spares = _spares(self.engine)
            pooled = spares.pop() if spares else self.engine.raw_connection()
            self._pooled = _Connection(self.engine, pooled)
        return self._pooled

    @property
    def no_autoflush(self):
        return nullcontext()

    def flush(self, objects=None) -> None:
        """Nothing to flush: a direct write loads no entity."""

    def commit(self) -> None:
        render_before_commit(self)
        if self._pooled is not None:
            pooled = self._pooled.connection
            # The dialect's commit, as the ORM's would call it: the writers'
            # queue given back, the flush to disk ticketed (workshop/sqlite.py).
            self.engine.dialect.do_commit(pooled)
            spares = _spares(self.engine)
            if len(spares) < SPARES:  # committed: kept for the next direct write
                if give_back := getattr(self.engine, "give_back_writing", None):
                    give_back(pooled.dbapi_connection)  # as the pool's checkin would
                spares.append(pooled)
                self._pooled = None
        self._step_aside()
        publish_after_commit(self)

    def rollback(self) -> None:
        self._step_aside()  # the pool rolls back what the connection holds
        forget_after_rollback(self)

    def _step_aside(self) -> None:
        # It serves one write: whatever follows in the event (a resend's
        # receipt looked up, say) gets an ordinary ORM session.
        self.close()
        if db.session.registry.has() and db.session.registry() is self:
            db.session.registry.clear()

    def close(self) -> None:
        if self._pooled is not None:
            pooled, self._pooled = self._pooled.connection, None
            pooled.close()


def install() -> None:
    """Put a :class:`DirectSession` in the place of this event's
    ``db.session``, where possible: on SQLite (elsewhere prepared statements
    go through SQLAlchemy anyway), and before any ORM session is opened in
    the event. The event's teardown closes it as it would the ORM's."""
    engine = db.engine
    if engine.dialect.name == "sqlite" and not db.session.registry.has():
        db.session.registry.set(DirectSession(engine))
