"""Where aigw deploys: Azure (DefaultAzureCredential) or the local cloud (started if needed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aigw.config.model import EnvConfig
from aigw.errors import UserError

if TYPE_CHECKING:
    from aigw.azure.session import Target


def localcloud_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aigw" / "localcloud"
    return Path(os.environ.get("AIGW_LOCALCLOUD_DIR", default)).expanduser()


def local_target(state_dir: Path | None = None) -> Target:
    """The local cloud (started if needed): its ARM URL, CA and a static-token credential."""
    from aigw.azure.session import Target
    from aigw.engine.localcloud import ensure_running
    from aigw_localcloud.core.credential import LocalCredential, token_kind

    directory = state_dir or localcloud_dir()
    ep = ensure_running(directory)
    # The local cloud's deployer principal (Owner of its subscription), unless a test asks
    # to act as somebody else.
    principal = os.environ.get("AIGW_LOCALCLOUD_PRINCIPAL") or ep.deployer_principal_id
    cred = LocalCredential(principal, ep.tenant_id, token_kind(directory, principal))
    return Target(
        subscription_id=ep.subscription_id,
        credential=cred,
        tenant_id=ep.tenant_id,
        base_url=ep.arm_url,
        ca_file=Path(ep.ca_file),
        local=True,
        local_state_dir=Path(ep.state_dir),
        polling_interval=0.2,
    )


def make_target(config: EnvConfig, *, cloud: str, subscription: str | None, debug: bool) -> Target:
    if cloud == "local":
        target = local_target()
        target.debug_http = debug
        return target
    if cloud != "azure":
        raise UserError(f"unknown --cloud {cloud!r}", hint="use azure or local")
    from aigw.azure.session import azure_target

    return azure_target(subscription or config.subscription_id, debug_http=debug)
