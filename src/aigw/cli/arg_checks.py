"""Checks of command-line arguments that guard Azure: run before anything is read or written."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from aigw.errors import UserError

CHECKSUM_RE = re.compile(r"[0-9a-f]{16}")  # Plan.checksum: 16 hex digits of a sha256


def plan_checksum(value: str | None) -> str | None:
    """The reviewed checksum, or None when not given; empty or malformed is bad input (an unset
    CI variable must not turn the guard off)."""
    if value is None:
        return None
    if not value.strip():
        raise UserError(
            "--plan-checksum is empty (an unset CI variable?): refusing to deploy unreviewed",
            hint="pass the checksum aigw plan printed, or leave the option out",
        )
    if not CHECKSUM_RE.fullmatch(value.strip()):
        raise UserError(
            f"--plan-checksum {value[:80]!r} is not a plan checksum",
            hint="use the 16 hex digits aigw plan printed ('checksum' in plan -o json)",
        )
    return value.strip()


def confirm_env(confirmed: str | None, env: str) -> None:
    if confirmed is not None and confirmed != env:
        raise UserError(
            f"--confirm-env {confirmed[:40]} does not match --env {env}: nothing changed",
            hint=f"to go on, pass --confirm-env {env}",
        )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def gateway_url(url: str, option: str = "--url") -> str:
    """An https URL, or plain http only to this machine (the gateway key goes in a header)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UserError(f"{option} {url[:80]!r} is not a URL") from None
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and is_loopback(host):
        return url
    if parts.scheme == "http":
        raise UserError(
            f"{option} {url[:80]!r} would send the gateway key in clear text",
            hint="use https://, or http:// only to 127.0.0.1, [::1] or localhost",
        )
    raise UserError(f"{option} {url[:80]!r} must start with https://")
