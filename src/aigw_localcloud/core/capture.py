"""Optional capture of the local cloud's traffic as `{liveRequest, liveResponse}` files, the
format Microsoft's `oav validate-traffic` reads, to check the emulator against the REST specs.

Secret material is masked before anything is written: the Authorization header, Key Vault
secret values, shared keys and container-app secret values (`_redact`).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

# A copy of the pattern masks of aigw.logs.redact_http (this package imports nothing from
# aigw): bearer tokens, the Authorization header and the JSON fields that carry keys or secret
# values. The daemon is its own process, so aigw's registry of known secret values was empty
# here anyway; these field masks are what hid them.
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_FIELDS = re.compile(
    r'(?i)("(?:value|primarySharedKey|secondarySharedKey|sharedKey|primaryKey|secondaryKey|password|secret|key)"'
    r'\s*:\s*)"(?:[^"\\]|\\.)*"'
)
_AUTH_HEADER = re.compile(r"(?i)('authorization'\s*:\s*)'[^']*'")


def _redact(text: str) -> str:
    text = _BEARER.sub(r"\1***", text)
    text = _AUTH_HEADER.sub(r"\1'***'", text)
    return _SECRET_FIELDS.sub(r'\1"***"', text)


ENV_VAR = "AIGW_LOCALCLOUD_CAPTURE"
_MASKED_HEADERS = {"authorization", "cookie", "set-cookie", "api-key"}


def _body(raw: bytes | str | None) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = _redact(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in _MASKED_HEADERS else v) for k, v in headers.items()}


class Capture:
    """Writes one JSON file per exchange into `directory` (thread-safe, numbered in order)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Capture | None:
        where = os.environ.get(ENV_VAR)
        return cls(Path(where)) if where else None

    def record(
        self,
        *,
        method: str,
        url: str,
        request_headers: dict[str, str],
        request_body: bytes,
        status: int,
        response_headers: dict[str, str],
        response_body: bytes,
    ) -> Path:
        with self._lock:
            n = next(self._counter)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", url.split("?", 1)[0]).strip("-")[-80:]
        path = self.directory / f"{n:06d}-{method}-{slug}.json"
        doc = {
            "liveRequest": {
                "method": method,
                "url": url,
                "headers": _headers(request_headers),
                "body": _body(request_body),
            },
            "liveResponse": {
                "statusCode": str(status),
                "headers": _headers(response_headers),
                "body": _body(response_body),
            },
        }
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        return path
