"""The gateway's URL from its container app's ingress FQDN.

Under the local cloud the gateway runs on this machine, so its URL is a loopback address
(`127.0.0.1:<port>`). Until the app runs, the local cloud reports a `*.localhost` placeholder
(RFC 6761 section 6.3: never a public name); aigw never looks such a name up, nor any other
non-loopback one: no DNS query leaves the machine when `--cloud local`.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# LiteLLM's probe paths (answered without a key), for the container app's probes, the smoke
# test and the local runner. engine/desired.py and the guard (gateway/files/aigw_guard.py, which
# runs inside LiteLLM and imports nothing of aigw) still spell them out.
LIVENESS_PATH = "/health/liveliness"
READINESS_PATH = "/health/readiness"


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or `localhost` (resolved from /etc/hosts, never DNS)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False


def gateway_url(fqdn: str | None, *, local: bool) -> str | None:
    """`https://<fqdn>`, or None when there is none to call: under the local cloud an FQDN that
    is not a loopback address means the app is not running yet (it would be looked up in DNS)."""
    if not fqdn:
        return None
    url = f"https://{fqdn}"
    if local and not is_loopback_url(url):
        return None
    return url


def label_url(
    fqdn: str | None, app: str, label: str, *, local: bool, local_port: int | None = None
) -> str | None:
    """The URL of a revision label: `https://<app>---<label>.<environment domain>` on Azure
    (learn.microsoft.com/azure/container-apps/revisions#labels), derived from the app's FQDN
    `<app>.<environment domain>`. Under the local cloud a label listens on 127.0.0.1 at the
    port its name table reports (`local_port`, looked up by the caller: Target.local_label_port),
    None when the label has no listener."""
    if local:
        return f"https://127.0.0.1:{local_port}" if local_port else None
    if not fqdn or not fqdn.lower().startswith(app.lower() + "."):
        return None
    return f"https://{app}---{label}.{fqdn[len(app) + 1 :]}"
