"""Small helpers shared by the route modules: time stamps, ids, ARM id parsing."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from typing import Any


def now() -> float:
    return time.time()


def iso(ts: float | None = None) -> str:
    """ARM timestamps: ISO 8601 UTC with 7 fractional digits, as ARM writes them."""
    t = dt.datetime.fromtimestamp(ts if ts is not None else time.time(), dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"


def guid() -> str:
    return str(uuid.uuid4())


def hex_id(n: int = 32) -> str:
    return secrets.token_hex(n // 2)


def short_suffix(n: int = 7) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def norm_location(location: str) -> str:
    """'East US' -> 'eastus' (ARM accepts display names and normalises them)."""
    return location.replace(" ", "").lower()


def key(resource_id: str) -> str:
    """Resource ids are case-insensitive in ARM; state is keyed by the lower-cased id."""
    return resource_id.rstrip("/").lower()


def id_in_scope(resource_id: str, scope: str) -> bool:
    """True when `resource_id` is `scope` or lies below it (segment boundary, case-insensitive)."""
    r, s = key(resource_id), key(scope)
    return r == s or r.startswith(s + "/")


def system_data(principal: str, created: float, modified: float | None = None) -> dict[str, Any]:
    return {
        "createdBy": principal,
        "createdByType": "Application",
        "createdAt": iso(created),
        "lastModifiedBy": principal,
        "lastModifiedByType": "Application",
        "lastModifiedAt": iso(modified if modified is not None else created),
    }
