"""The developer keys file (issue 14), as data: what `aigw keys` writes to the Key Vault secret
DEVELOPER_KEYS_SECRET and the guard reads from the mounted file DEVELOPER_KEYS_FILE_NAME (pure).

```json
{"version": 1, "keys": {"alice": {"sha256": "<64 hex>", "created": "2025-01-01T00:00:00+00:00",
  "expires": "2025-04-01T00:00:00+00:00" | null, "models": ["gpt-5.3-codex"] | null,
  "last4": "abcd"}}}
```

Never the key itself: its SHA-256. A plain, fast, unsalted hash suffices because every key is
generated here from 32 random bytes (256 bits, `secrets.token_urlsafe`): there is no dictionary
or guessable key to attack, so a slow or salted hash (bcrypt, scrypt, argon2; meant for
passwords people choose) would only cost time per request and buy nothing. The guard
(gateway/files/aigw_guard.py) parses the same format; it cannot import this module.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aigw.errors import UserError

FORMAT_VERSION = 1
EMPTY = json.dumps({"version": FORMAT_VERSION, "keys": {}}, sort_keys=True)
# The gateway key's name in logs and usage (the guard uses the same literal).
GATEWAY_KEY_NAME = "aigw-gateway-key"
# A developer key: recognisable in a leak scanner, never containing the developer's name.
KEY_PREFIX = "sk-aigw-"
NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?")
_DURATION = re.compile(r"(\d{1,5})([dhw])")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if name.startswith("aigw-") or not NAME_RE.fullmatch(name):
        raise UserError(
            f"key name {name!r} is invalid",
            hint="use 1-40 lowercase letters, digits, '.', '_' or '-', starting and ending with "
            "a letter or digit, not starting with aigw- (aigw's own), e.g. alice or ci-bot",
        )
    return name


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `4w` -> a timedelta (at least one hour)."""
    m = _DURATION.fullmatch(text.strip())
    if not m or int(m.group(1)) == 0:
        raise UserError(
            f"--expires {text!r} is not a duration", hint="use days, hours or weeks: 90d, 12h, 4w"
        )
    n = int(m.group(1))
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[m.group(2)]


def iso(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class KeyRecord:
    name: str
    sha256: str
    created: str
    expires: str | None
    models: tuple[str, ...] | None  # None: every model of the gateway
    last4: str
    # the key's own limits (issue 26); None: the gateway's default (the YAML's `limits:`)
    tpm: int | None = None
    rpm: int | None = None
    budget: float | None = None  # USD per calendar month (UTC)

    def to_json(self) -> dict[str, Any]:
        own = {"tpm": self.tpm, "rpm": self.rpm, "budget": self.budget}
        return {
            "sha256": self.sha256,
            "created": self.created,
            "expires": self.expires,
            "models": list(self.models) if self.models is not None else None,
            "last4": self.last4,
            # only what is set: a file without limits reads as it always did
            **{k: v for k, v in own.items() if v is not None},
        }

    def public(self, now: datetime) -> dict[str, Any]:
        """What `keys list` shows: never the key, nor its hash."""
        expired = self.expires is not None and datetime.fromisoformat(self.expires) <= now
        return {
            "name": self.name,
            "created": self.created,
            "expires": self.expires,
            "expired": expired,
            "models": list(self.models) if self.models is not None else None,
            "last4": self.last4,
            "tpm": self.tpm,
            "rpm": self.rpm,
            "budget": self.budget,
        }


def new_record(
    name: str, key: str, now: datetime, expires: timedelta | None, models: tuple[str, ...] | None
) -> KeyRecord:
    return KeyRecord(
        name=name,
        sha256=digest(key),
        created=iso(now),
        expires=iso(now + expires) if expires is not None else None,
        models=models,
        last4=key[-4:],
    )


def _positive(value: Any, kind: type) -> Any:
    """A stored limit: None or a positive number (the guard reads the same rule)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"a limit of {value!r} is not a positive number")
    return kind(value)


def parse(text: str | None, where: str) -> dict[str, KeyRecord]:
    """The records in the secret's value (empty or missing: none). A broken value is an error
    that names the secret: aigw never overwrites what it cannot read."""
    if not text or not text.strip():
        return {}
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError(f"expected version {FORMAT_VERSION}")
        out = {}
        for name, rec in (data.get("keys") or {}).items():
            models = rec.get("models")
            out[name] = KeyRecord(
                name=str(name),
                sha256=str(rec["sha256"]),
                created=str(rec["created"]),
                expires=str(rec["expires"]) if rec.get("expires") else None,
                models=tuple(str(m) for m in models) if models is not None else None,
                last4=str(rec.get("last4", "")),
                tpm=_positive(rec.get("tpm"), int),
                rpm=_positive(rec.get("rpm"), int),
                budget=_positive(rec.get("budget"), float),
            )
        return out
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise UserError(
            f"{where} is not an aigw keys file ({type(err).__name__}: {str(err)[:80]})",
            hint="restore an earlier version of the secret in Key Vault, or delete it and run "
            "aigw deploy (every developer key is then gone)",
        ) from None


def dump(records: dict[str, KeyRecord]) -> str:
    keys = {name: records[name].to_json() for name in sorted(records)}
    return json.dumps({"version": FORMAT_VERSION, "keys": keys}, sort_keys=True, indent=1)
