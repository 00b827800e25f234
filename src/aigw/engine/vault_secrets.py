"""Reading Key Vault secrets: the one reader behind `aigw gateway-key show`, rotate-key, `aigw keys`
(the developer keys) and the smoke tests of rollout / status (the gateway key). Values read are
registered with `aigw.redact` at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aigw import redact
from aigw.config.naming import GATEWAY_KEY_SECRET
from aigw.errors import AigwError
from aigw.resources import adapter
from aigw.secrets import Secret
from aigw.state import Key, Kind

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.engine.session import Session


@dataclass(frozen=True)
class Stored:
    """A secret's current version as Key Vault serves it."""

    value: str | None
    version: str | None


def read_secret(ctx: Ctx, vault_uri: str, name: str, *, secret: bool = True) -> Stored | None:
    """The current version of `name` in the vault at `vault_uri`; None: no such secret. Other
    errors (HttpResponseError: 401, 403...) are the caller's to judge. `secret`: its value is a
    secret, masked from here on (the developer keys' file holds hashes only: not masked)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        stored = ctx.clients.secrets(vault_uri).get_secret(name)
    except ResourceNotFoundError:
        return None
    if secret and stored.value:
        redact.register(stored.value)
    return Stored(stored.value, stored.properties.version)


def deployed_vault_uri(session: Session) -> str:
    """The vault's URI, observed now (ctx.outputs filled); AigwError if it is not deployed."""
    from aigw.azure.errors import translate

    res = session.desired.by_key()[Key.key_vault]
    try:
        vault = adapter(res.kind).observe(session.ctx, res)
    except Exception as err:
        if hasattr(err, "status_code") or type(err).__module__.startswith("azure"):
            raise translate(err, kind=res.kind.value, name=res.name) from None
        raise
    uri = vault.outputs.get("vault_uri")
    if not vault.exists or vault.soft_deleted or not uri:
        env = session.config.env
        raise AigwError(
            f"{env} is not deployed: its key vault {res.name} does not exist",
            hint=f"aigw deploy --env {env}",
        )
    session.ctx.set_outputs(Key.key_vault, vault.outputs)
    return str(uri)


def read_required(
    session: Session, vault_uri: str, name: str, *, missing: AigwError, secret: bool = True
) -> Stored:
    """`name`'s current version; `missing` raised when there is none, Azure's refusals
    translated (one line naming the vault and the secret)."""
    from azure.core.exceptions import HttpResponseError

    from aigw.azure.errors import translate

    vault = session.desired.by_key()[Key.key_vault].name
    try:
        stored = read_secret(session.ctx, vault_uri, name, secret=secret)
    except HttpResponseError as err:
        raise translate(err, kind=Kind.secret.value, name=f"{vault}/{name}") from None
    if stored is None:
        raise missing
    return stored


def gateway_key_from_vault(session: Session) -> Secret | None:
    """The gateway key as stored in Key Vault (when its env var is not set here), at the URI
    this session observed; None when there is none to read."""
    vault_uri = session.ctx.outputs.get(Key.key_vault, {}).get("vault_uri")
    if not vault_uri:
        return None
    stored = read_secret(session.ctx, vault_uri, GATEWAY_KEY_SECRET)
    if stored is None:  # as ever: a deployed vault without it is the SDK's error
        from azure.core.exceptions import ResourceNotFoundError

        raise ResourceNotFoundError(f"Key Vault secret {GATEWAY_KEY_SECRET} not found")
    if not stored.value:
        return None
    return Secret(f"Key Vault {GATEWAY_KEY_SECRET}", stored.value)


def current_gateway_key(session: Session, vault_uri: str) -> Stored:
    """The gateway key's current version for rotate-key; Stored(None, None) when Key Vault does
    not have it or does not let this principal read it (rotate-key writes anyway)."""
    from azure.core.exceptions import HttpResponseError

    try:
        stored = read_secret(session.ctx, vault_uri, GATEWAY_KEY_SECRET)
    except HttpResponseError as err:
        if err.status_code in (401, 403):
            return Stored(None, None)
        raise
    return stored or Stored(None, None)
