"""Process-wide redaction of secret values from anything aigw prints or writes."""

from __future__ import annotations

import threading
from collections.abc import Iterable

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"


def register(value: str) -> None:
    """Remember a secret value so `redact` masks it everywhere, whatever its length (a short
    one masks common text too: better than printing it)."""
    if value:
        with _lock:
            _secrets.add(value)


def mask(text: str, values: Iterable[str], *, min_len: int = 1) -> str:
    """Replace each value (of `min_len` characters or more) with ***, longest first, so a
    secret that contains another is hidden whole."""
    for value in sorted({v for v in values if v and len(v) >= min_len}, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Mask every secret registered in this process, and `extra`."""
    with _lock:
        known = list(_secrets)
    return mask(text, [*known, *extra])


def known_secrets() -> list[str]:
    with _lock:
        return list(_secrets)
