"""The one redaction of secret values from anything aigw prints, logs or writes.

`redact(text, values)` masks every secret value registered in this process plus `values`,
longest first (a secret that contains another is hidden whole), and each line of a multi-line
value on its own (like GitHub's log masking: a value re-wrapped by a renderer does not leak in
pieces). With `http=True` (the --debug HTTP trace, `aigw.logs`) it also masks bearer tokens,
Authorization headers and the JSON fields that carry keys or secret values (Key Vault secret
bodies, the Log Analytics shared key in the environment's body): aigw's own output has `"key"`
fields naming resources, so those patterns apply to the trace only.

The local cloud (`aigw_localcloud.capture`) has its own masking: it imports nothing of aigw.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"

_NEWLINES = re.compile(r"\r\n|\r|\n")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_AUTH_HEADER = re.compile(r"(?i)('authorization'\s*:\s*)'[^']*'")
_SECRET_FIELDS = re.compile(
    r'(?i)("(?:value|primarySharedKey|secondarySharedKey|sharedKey|password|secret|key)"'
    r'\s*:\s*)"(?:[^"\\]|\\.)*"'
)


def register(value: str) -> None:
    """Remember a secret value so `redact` masks it everywhere, whatever its length (a short
    one masks common text too: better than printing it)."""
    if value:
        with _lock:
            _secrets.add(value)


def known_secrets() -> list[str]:
    with _lock:
        return list(_secrets)


def redact(text: str, values: Iterable[str] = (), *, http: bool = False) -> str:
    """`text` with every registered secret and each of `values` replaced by ***; with `http`,
    bearer tokens, Authorization headers and secret JSON fields too."""
    pieces: set[str] = set()
    for value in [*known_secrets(), *values]:
        if not value:
            continue
        pieces.add(value)
        pieces.update(line for line in _NEWLINES.split(value) if line.strip())
    for piece in sorted(pieces, key=len, reverse=True):
        if piece in text:
            text = text.replace(piece, MASK)
    if http:
        text = _BEARER.sub(rf"\1{MASK}", text)
        text = _AUTH_HEADER.sub(rf"\1'{MASK}'", text)
        text = _SECRET_FIELDS.sub(rf'\1"{MASK}"', text)
    return text
