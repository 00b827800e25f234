"""Where a running local cloud listens: `<state_dir>/endpoint.json`, readable by any process."""

from __future__ import annotations

import hashlib
import json
import os
import socket
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


def predicted_vault_port(name: str) -> int:
    """Where a vault's data plane listens when that port is free: derived from the name, like
    `https://<name>.vault.azure.net/` on Azure, so clients can read secrets before the vault's
    ARM GET has answered (they still check the vaultUri it reports). Below the ephemeral range."""
    digest = hashlib.sha256(name.lower().encode()).digest()
    return 20000 + int.from_bytes(digest[:4], "big") % 10000


def predicted_app_port(name: str) -> int:
    """Where a container app's gateway listens when that port is free: derived from the app's
    name (on Azure its FQDN `<app>.<environment domain>` never changes across revisions), so
    the URL in client configs survives redeploys and local-cloud restarts. 10000-19999: apart
    from vaults' ports and below the ephemeral range."""
    digest = hashlib.sha256(f"app:{name.lower()}".encode()).digest()
    return 10000 + int.from_bytes(digest[:4], "big") % 10000


def predicted_label_port(app: str, label: str) -> int:
    """Where the label URL of a container app in multiple-revision mode listens: on Azure
    `<app>---<label>.<environment domain>` (learn.microsoft.com/azure/container-apps/revisions
    #labels), derived from both names like predicted_app_port (same range, another salt), so
    aigw can call it knowing only the names, as on Azure."""
    digest = hashlib.sha256(f"label:{app.lower()}---{label.lower()}".encode()).digest()
    return 10000 + int.from_bytes(digest[:4], "big") % 10000


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
