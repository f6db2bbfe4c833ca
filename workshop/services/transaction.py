"""Who commits (issue 18, item 0): one owner of the transaction per request,
write or job.

A service ends its change with :func:`commit`: called alone (a page's form,
the command line), it owns its transaction and commits. A caller that needs
several services to succeed or fail together (a job, the synthesis desk
turning a theme into a project) wraps them in :func:`atomic`: their commits
wait for the end of the outermost ``atomic``, and anything that fails inside
rolls back everything. The one write path (:mod:`.writes`) owns the
transaction of every live write itself.
"""

from __future__ import annotations

from contextlib import contextmanager

from ..extensions import db

OWNED = "transaction_owned"  # session.info key: an outer atomic() commits


@contextmanager
def atomic():
    """Everything inside in one transaction, whatever services it calls:
    committed at the end of the outermost ``atomic``, rolled back as a
    whole if anything inside fails."""
    session = db.session
    if session.info.get(OWNED):  # an outer one owns it
        yield
        return
    session.info[OWNED] = True
    try:
        yield
    except BaseException:
        session.info.pop(OWNED, None)
        session.rollback()
        raise
    session.info.pop(OWNED, None)
    session.commit()


def commit() -> None:
    """The end of a service's change: committed now, unless an outer
    :func:`atomic` owns the transaction (then at its end)."""
    if not db.session.info.get(OWNED):
        db.session.commit()
