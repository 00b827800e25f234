"""`aigw key show`: the gateway key as stored in Key Vault, read-only.

By default only a fingerprint leaves this module's caller (the sha256 prefix and the last four
characters: enough to tell which key a client holds, useless to call the gateway with).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw import redact
from aigw.config.naming import GATEWAY_KEY_SECRET
from aigw.errors import AigwError
from aigw.model import Key
from aigw.secrets import Secret

if TYPE_CHECKING:
    from aigw.engine.workflow import Session


def fingerprint(value: str) -> str:
    """`sha256:<12 hex> …<last 4>`: compare with `printf %s "$KEY" | sha256sum`."""
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    return f"sha256:{digest[:12]} …{value[-4:]}"


@dataclass(frozen=True)
class StoredKey:
    env: str
    key_vault: str
    secret: str
    version: str | None
    key: Secret

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "key_vault": self.key_vault,
            "secret": self.secret,
            "version": self.version,
            "fingerprint": fingerprint(self.key.reveal()),
        }


def read_gateway_key(session: Session) -> StoredKey:
    """The gateway key's current Key Vault version. Reads only: the vault, then the secret."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from aigw.azure.errors import translate
    from aigw.resources import adapter

    env = session.config.env
    res = session.desired.by_key()[Key.key_vault]
    try:
        vault = adapter(res.kind).observe(session.ctx, res)
    except Exception as err:
        if hasattr(err, "status_code") or type(err).__module__.startswith("azure"):
            raise translate(err, kind=res.kind.value, name=res.name) from None
        raise
    uri = vault.outputs.get("vault_uri")
    if not vault.exists or vault.soft_deleted or not uri:
        raise AigwError(
            f"{env} is not deployed: its key vault {res.name} does not exist",
            hint=f"aigw deploy --env {env}",
        )
    try:
        stored = session.ctx.clients.secrets(uri).get_secret(GATEWAY_KEY_SECRET)
    except ResourceNotFoundError:
        raise AigwError(
            f"the key vault {res.name} of {env} holds no secret {GATEWAY_KEY_SECRET}",
            hint=f"aigw deploy --env {env} writes it",
        ) from None
    except HttpResponseError as err:
        raise translate(err, kind="secret", name=f"{res.name}/{GATEWAY_KEY_SECRET}") from None
    if not stored.value:
        raise AigwError(f"the secret {res.name}/{GATEWAY_KEY_SECRET} of {env} is empty")
    redact.register(stored.value)
    return StoredKey(
        env=env,
        key_vault=res.name,
        secret=GATEWAY_KEY_SECRET,
        version=stored.properties.version,
        key=Secret(f"Key Vault {GATEWAY_KEY_SECRET}", stored.value),
    )
