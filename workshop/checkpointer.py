"""SQLite checkpoints in a process of their own (DESIGN.md §11).

In WAL mode, committed pages are appended to the -wal file and copied back
into the database by a *checkpoint*. SQLite runs one by itself inside the
commit that crosses 1,000 pages: that commit then writes and flushes the
database file, which on a busy or slow disk takes up to a second, while the
whole server (one gevent loop) waits for it. Here the server turns automatic
checkpoints off and this small process runs them instead: PASSIVE checkpoints
copy pages while the server goes on writing, so nobody waits for the disk.

The -wal file starts again from its beginning only once a checkpoint has
copied all of it; a checkpoint every CHECKPOINT_INTERVAL seconds keeps up
with the evening's writes. Should the file still grow past RESTART_PAGES,
a RESTART checkpoint briefly holds new writers back (they wait
cooperatively, see workshop/sqlite.py) to start it again. The file is never
truncated here: after personal data is removed, the server truncates it
itself (workshop/sqlite.py, erase_traces), so that no old page keeps it.

    python workshop/checkpointer.py DATABASE_FILE SERVER_PID    # run.py starts it
"""

import contextlib
import os
import sqlite3
import subprocess
import sys
import time

CHECKPOINT_INTERVAL = 0.2  # seconds
RESTART_PAGES = 16_000  # about 64 MB of -wal file
BUSY_TIMEOUT_MS = 2_000  # a RESTART waits this long for the current writer


def checkpoint(connection: sqlite3.Connection) -> tuple[int, int]:
    """One checkpoint (PASSIVE, or RESTART if the -wal file has grown too
    long); returns (pages in the -wal file, pages copied)."""
    _busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if pages > RESTART_PAGES:
        _busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
    return pages, copied


def run(path: str, parent: int) -> None:
    """Checkpoint ``path`` until the server (process ``parent``) is gone."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    connection.execute("PRAGMA journal_mode=WAL")
    while os.getppid() == parent:
        with contextlib.suppress(sqlite3.OperationalError):  # busy: the next round
            checkpoint(connection)
        time.sleep(CHECKPOINT_INTERVAL)
    connection.close()


class Checkpointer:
    """The checkpoint process of one server, restarted if it ever stops."""

    def __init__(self, path: str):
        self.path = path
        self.process: subprocess.Popen | None = None

    def ensure_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                # The file itself, not the package: this process imports
                # nothing but the standard library.
                [sys.executable, __file__, self.path, str(os.getpid())]
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]))
