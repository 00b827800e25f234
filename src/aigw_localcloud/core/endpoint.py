"""Where a running local cloud listens: `<state_dir>/endpoint.json`, readable by any process."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

FILE = "endpoint.json"


@dataclass(frozen=True)
class LocalCloudEndpoint:
    arm_url: str
    ca_file: str
    subscription_id: str
    tenant_id: str
    state_dir: str
    pid: int
    deployer_principal_id: str = ""
    aoai_url: str = ""  # the local Azure OpenAI emulator, when the daemon runs one
    caller_ip: str = ""  # the address its apps' ingress sees callers come from


def _digest(text: str, salt: str) -> int:
    # The salt is the cloud's own subscription id (a random GUID in its state): two local
    # clouds on one machine predict different ports for the same names; one cloud predicts
    # the same port across restarts (its state keeps the subscription).
    return int.from_bytes(hashlib.sha256(f"{salt.lower()}|{text}".encode()).digest()[:4], "big")


def predicted_vault_port(name: str, salt: str) -> int:
    """Where a vault's data plane listens when that port is free: derived from the name, like
    `https://<name>.vault.azure.net/` on Azure, so clients can read secrets before the vault's
    ARM GET has answered (they still check the vaultUri it reports). Below the ephemeral range.
    `salt`: the cloud's subscription id."""
    return 20000 + _digest(name.lower(), salt) % 10000


def predicted_app_port(name: str, salt: str) -> int:
    """Where a container app's gateway listens when that port is free: derived from the app's
    name (on Azure its FQDN `<app>.<environment domain>` never changes across revisions), so
    the URL in client configs survives redeploys and local-cloud restarts. 10000-19999: apart
    from vaults' ports and below the ephemeral range. Only a preference: the port actually
    bound is what the cloud reports (ingress.fqdn)."""
    return 10000 + _digest(f"app:{name.lower()}", salt) % 10000


def predicted_label_port(app: str, label: str, salt: str) -> int:
    """The port the local cloud tries first for a label URL of a container app in
    multiple-revision mode (on Azure `<app>---<label>.<environment domain>`,
    learn.microsoft.com/azure/container-apps/revisions#labels). Only a preference: aigw reads
    the port actually bound from the cloud's name table (`lookup_label`)."""
    return 10000 + _digest(f"label:{app.lower()}---{label.lower()}", salt) % 10000


def subscription_of(resource_id: str) -> str:
    """The subscription id in an ARM resource id ("" if none): the salt of its ports."""
    parts = resource_id.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


# --------------------------------------------------------------------------- name table
# What Azure's DNS does for `<app>---<label>.<environment domain>`: the local cloud records the
# port each label URL is actually bound to (after the bind, never a prediction), and aigw under
# `--cloud local` looks it up here. One file per cloud, in its state dir.
NAMES_FILE = "names.json"
_NAMES_LOCK = threading.Lock()


def label_host(app_id: str, label: str) -> str:
    """The name-table key of a label URL: the app's resource id and the label, lower case."""
    return f"{app_id.strip('/').lower()}---{label.lower()}"


def record_names(state_dir: Path, changes: dict[str, int | None]) -> None:
    """Set (port) or remove (None) entries of the cloud's name table, atomically."""
    path = Path(state_dir) / NAMES_FILE
    with _NAMES_LOCK:
        try:
            names = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            names = {}
        for host, port in changes.items():
            if port is None:
                names.pop(host, None)
            else:
                names[host] = port
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(names, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def lookup_label(state_dir: Path, app_id: str, label: str) -> int | None:
    """The port a label URL is bound to now, or None (no such label, or no cloud)."""
    try:
        names = json.loads((Path(state_dir) / NAMES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    port = names.get(label_host(app_id, label))
    return port if isinstance(port, int) else None


def write_endpoint(state_dir: Path, ep: LocalCloudEndpoint) -> None:
    path = state_dir / FILE
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(ep), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def remove_endpoint(state_dir: Path, pid: int) -> None:
    """Remove endpoint.json if it still describes process `pid`."""
    path = state_dir / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if data.get("pid") == pid:
        path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(arm_url: str) -> bool:
    parts = urlsplit(arm_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 443), 1.0):
            return True
    except OSError:
        return False


def read_endpoint(state_dir: Path) -> LocalCloudEndpoint | None:
    """The endpoint of the cloud running on `state_dir`, or None if none is running."""
    try:
        data = json.loads((Path(state_dir) / FILE).read_text(encoding="utf-8"))
        ep = LocalCloudEndpoint(**data)
    except (OSError, ValueError, TypeError):
        return None
    if not _pid_alive(ep.pid) or not _answers(ep.arm_url):
        return None
    return ep
