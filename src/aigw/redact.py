"""Process-wide redaction of secret values from anything aigw prints or writes."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"


def register(value: str) -> None:
    """Remember a secret value so `redact` masks it everywhere (short values are ignored)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def known_secrets() -> list[str]:
    with _lock:
        return list(_secrets)
