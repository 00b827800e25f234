"""`aigw gateway-key show`: the gateway key as stored in Key Vault, read-only.

By default only a fingerprint leaves this module's caller (the sha256 prefix and the last four
characters: enough to tell which key a client holds, useless to call the gateway with).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw.config.naming import GATEWAY_KEY_SECRET
from aigw.errors import AigwError
from aigw.secrets import Secret
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.engine.session import Session


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
    from aigw.engine.vault_secrets import deployed_vault_uri, read_required

    env = session.config.env
    vault = session.desired.by_key()[Key.key_vault].name
    uri = deployed_vault_uri(session)
    missing = AigwError(
        f"the key vault {vault} of {env} holds no secret {GATEWAY_KEY_SECRET}",
        hint=f"aigw deploy --env {env} writes it",
    )
    stored = read_required(session, uri, GATEWAY_KEY_SECRET, missing=missing)
    if not stored.value:
        raise AigwError(f"the secret {vault}/{GATEWAY_KEY_SECRET} of {env} is empty")
    return StoredKey(
        env=env,
        key_vault=vault,
        secret=GATEWAY_KEY_SECRET,
        version=stored.version,
        key=Secret(f"Key Vault {GATEWAY_KEY_SECRET}", stored.value),
    )
