"""Work off the event loop (issue 18, item 0): what must not run in a
request or a socket handler (suggestions over an evening's ideas, say).

A job is a key, a computation and a way to write its result back:

- ``compute()`` runs in a native thread (gevent's pool under run.py), on
  plain data it was given: no session, no app context, nothing live; a job
  ``apart`` computes in a process of its own, which ``compute()`` only
  waits for (on the loop, cooperatively): Python computation in a thread
  would hold the interpreter against the loop;
- ``apply(result)`` runs back on the loop, in an app context, and writes
  the result as ordinary changes through the one write path (the system
  actor's writes, :func:`workshop.services.writes.as_system`), pushed and
  caught up like any other.

One worker per app takes the jobs in turn from a bounded queue: a job whose
key already waits replaces it (newer data, the same work), and a full queue
refuses new keys rather than growing. Nothing of a job lives only in memory:
the *derivers* (functions ``app -> [Job]``) are asked at start and at every
housekeeping round what the data calls for, so a job lost with a restart is
derived again, and its writes, named after what they computed, are answered
from their receipts if they were already done.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from .extensions import db, socketio
from .offload import off_loop

log = logging.getLogger(__name__)
MAX_WAITING = 32  # jobs waiting at most (an evening's suggestions is one)


class Job(NamedTuple):
    key: str  # what it computes: at most one job of a key waits
    compute: Callable[[], Any]  # off the loop, on plain data
    apply: Callable[[Any], None]  # on the loop, in an app context
    apart: bool = False  # compute() waits for a process of its own (see the module)


class JobRunner:
    """Runs one app's jobs, one at a time, in submission order."""

    def __init__(self, app, size: int = MAX_WAITING):
        self.app, self.size = app, size
        self.lock = threading.Lock()
        self.waiting: OrderedDict[str, Job] = OrderedDict()
        self.running = False
        self.derivers: list[Callable[[Any], list[Job]]] = []
        self.done = self.failed = 0

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False if the queue is full (nothing is queued)."""
        with self.lock:
            if job.key not in self.waiting and len(self.waiting) >= self.size:
                return False
            self.waiting[job.key] = job  # a waiting job of its key is replaced, in place
            if not self.running:
                self.running = True
                socketio.start_background_task(self._work)
        return True

    def derive(self) -> None:
        """Queue what the data calls for (at start, at every housekeeping round)."""
        for deriver in self.derivers:
            try:
                with self.app.app_context():
                    jobs = deriver(self.app)
                    db.session.remove()
            except Exception:
                log.exception("deriving jobs failed")
                continue
            for job in jobs:
                if not self.submit(job):
                    log.warning("jobs: the queue is full, %s waits for a later round", job.key)

    def _next(self) -> Job | None:
        with self.lock:
            if not self.waiting:
                self.running = False
                return None
            return self.waiting.popitem(last=False)[1]

    def _work(self) -> None:
        while (job := self._next()) is not None:
            try:
                result = job.compute() if job.apart else off_loop(job.compute)
                with self.app.app_context():
                    try:
                        job.apply(result)
                    finally:
                        db.session.remove()
                self.done += 1
            except Exception:  # the next round derives it again
                self.failed += 1
                log.exception("job %s failed", job.key)


def runner(app) -> JobRunner:
    """The app's job runner (one per app, created on first use)."""
    found = app.extensions.get("jobs")
    if found is None:
        found = app.extensions.setdefault("jobs", JobRunner(app))
    return found
