"""Short join codes and secrets."""

import hashlib
import secrets

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TABLE_CODE_LENGTH = 6
EVENT_CODE_LENGTH = 5


def new_code(length: int) -> str:
    """A random code of ``length`` characters from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str:
    """Upper-case a typed code and drop spaces and dashes."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def new_secret() -> str:
    """A URL-safe secret for links and cookies."""
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()
