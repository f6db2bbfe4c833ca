"""Long computations away from the event loop.

Under gevent (run.py) every table is served by one loop: a computation of a
second there (an export) would make every phone wait a second. Run in
gevent's pool of native threads, it shares the processor with the loop
instead (the interpreter switches threads every few milliseconds). Without
gevent (tests, the CLI) it simply runs here.
"""

from __future__ import annotations


def _gevent_pool():
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover (gevent is a dependency)
        return None
    return get_hub().threadpool if monkey.is_module_patched("threading") else None


def off_loop(function, *args):
    """``function(*args)``, in a native thread when the loop would wait for it.
    It must not touch the database session (its connection belongs to the loop)."""
    pool = _gevent_pool()
    return pool.apply(function, args) if pool is not None else function(*args)
