"""Blocking calls away from the event loop.

Under gevent (run.py) every table is served by one loop: a call that waits
for the disk (a commit on a slow disk) would make every phone wait. In
gevent's pool of native threads it waits there instead. Only for calls that
release the interpreter while they wait (C code, system calls): Python
computation in a thread holds the interpreter against the loop, and is
better cut into slices on the loop itself (see services/exports.cooperate).
Without gevent (tests, the CLI) the call simply runs here.
"""

from __future__ import annotations


def _gevent_pool():
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover (gevent is a dependency)
        return None
    return get_hub().threadpool if monkey.is_module_patched("threading") else None


def off_loop(function, *args):
    """``function(*args)``, in a native thread when the loop would wait for it."""
    pool = _gevent_pool()
    return pool.apply(function, args) if pool is not None else function(*args)
