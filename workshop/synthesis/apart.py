"""The suggestions in a process of their own (issue 18, item 2).

Grouping a hall's ideas takes a second or two of pure Python: in a thread of
the server it would hold the interpreter against the loop, and every phone
would wait (measured: with a desk open at the §11 load, p99 went from under
100 ms to over a second). Instead :mod:`~.suggest` runs as a script in a
child process, at a lower priority than the server (``nice``), reading the
ideas on its standard input and writing its result on its standard output.
The server only waits for it: under gevent, cooperatively (gevent's
``subprocess``), with every phone served meanwhile. The script imports
nothing of the app (not even the package), so it starts in a few tens of
milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "suggest.py"
TIMEOUT = 120  # seconds: far above 5,000 ideas on a slow laptop
NICENESS = 10  # below the server: the phones first


class SuggestionsFailed(RuntimeError):
    """The child process failed or took too long (the next round tries again)."""


def _lower_priority() -> None:  # in the child, before it runs the script
    os.nice(NICENESS)


def suggest_apart(ideas: list[dict], language: str = "fr") -> dict:
    """``suggest.suggest(ideas, language)``, computed in a child process."""
    return _run([language], ideas)


def duplicates_apart(tables: dict[str, list[dict]], language: str = "fr") -> dict:
    """``suggest.duplicates_per_table(tables, language)``, in a child process."""
    return _run([language, "tables"], tables)


def _run(arguments: list[str], given) -> dict:
    try:
        done = subprocess.run(  # noqa: S603 (our own script, no shell)
            [sys.executable, "-I", str(SCRIPT), *arguments],
            input=json.dumps(given).encode(),
            capture_output=True,
            timeout=TIMEOUT,
            preexec_fn=_lower_priority,  # noqa: PLW1509 (os.nice only)
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SuggestionsFailed(f"no suggestions within {TIMEOUT} s") from error
    if done.returncode != 0:
        raise SuggestionsFailed(done.stderr.decode(errors="replace")[-500:])
    return json.loads(done.stdout)
