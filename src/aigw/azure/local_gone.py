"""The local cloud died under a command: say so at once, instead of retrying for minutes."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from aigw.azure.session import Target
from aigw.errors import AigwError


class LocalCloudGone(AigwError):
    """The local cloud's ARM endpoint refuses connections: its process is gone."""


def refuses(url: str, timeout: float = 1.0) -> bool:
    """True when nothing listens at `url`'s host and port (connection refused or unreachable)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 443), timeout):
            return False
    except OSError:
        return True


def check(target: Target, err: Exception) -> None:
    """Raise LocalCloudGone when `err` is a failed connection and the local cloud is gone."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    if not target.local or not target.base_url:
        return
    if not isinstance(err, ServiceRequestError | ServiceResponseError):
        return
    if refuses(target.base_url):
        raise LocalCloudGone(
            f"the local cloud at {target.base_url} is gone (connection refused)",
            hint="start it again with `aigw localcloud start`, then rerun: aigw resumes from "
            "what exists",
        )
