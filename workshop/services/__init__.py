"""Domain operations, used by both the web routes and the socket handlers.

Services take and return model objects and plain values; they never touch a
Flask request. They raise :class:`ServiceError` for anything the caller did
wrong, with a translated message fit to show to the user.
"""

from flask_babel import LazyString


class ServiceError(Exception):
    """A refused operation: ``code`` for programs, ``message`` for people.

    ``permanent`` tells a phone whether sending the same write again can ever
    help: a permanent refusal leaves the outbox (to the "not sent" list), a
    temporary one (``retry_after`` seconds, say) stays queued.
    """

    def __init__(
        self,
        code: str,
        message: LazyString | str,
        retry_after: int | None = None,
        permanent: bool | None = None,
        **details,
    ):
        super().__init__(code)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.permanent = retry_after is None if permanent is None else permanent
        self.details = details  # what the writer needs to recover (a conflict's text)

    def as_dict(self) -> dict:
        """The error as sent to a client (message translated now)."""
        data = {
            "ok": False,
            "error": self.code,
            "message": str(self.message),
            "permanent": self.permanent,
        }
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        return {**data, **self.details}
