"""Key Vault secrets: compared in memory, written only when the value changed.

Values are never printed, logged or stored; only the verdict "matches" leaves this module.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aigw import interrupt
from aigw.azure.context import Ctx
from aigw.config.naming import (
    AZURE_OPENAI_KEY_SECRET,
    DEVELOPER_KEYS_SECRET,
    FORMER_DEVELOPER_KEYS_SECRET,
    GATEWAY_KEY_SECRET,
)
from aigw.errors import AzureError
from aigw.gateway.developer_keys import EMPTY as EMPTY_DEVELOPER_KEYS
from aigw.owned import MANAGED_BY, MANAGER
from aigw.resources import adapter, registered, upstreams
from aigw.resources.base import Base, Inputs
from aigw.secrets import AZURE_OPENAI_KEY, GATEWAY_KEY, Secret
from aigw.state import SECRET_VALUE, Key, Kind, Observed, Resource


def _value(ctx: Ctx, res: Resource) -> str | None:
    if "read_from" in res.managed:  # a secret another resource issues (a cache's access key),
        source = ctx.desired.by_key()[res.managed["read_from"]]  # read from Azure by its kind
        return adapter(source.kind).secret_value(ctx, source)
    if "create_only" in res.managed:  # its initial value (the developer keys: written by
        return str(res.managed["create_only"])  # `aigw keys`, created empty, never overwritten)
    secret = ctx.secrets.named(res.managed["source"])
    return secret.reveal() if secret is not None else None


def _read(
    ctx: Ctx, vault_uri: str, name: str, *, probe: bool = False
) -> tuple[int, str | None, str | None]:
    """(status, value, version): 200 with the current version, 404, or 403 (no access yet)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    client = ctx.clients.secrets(vault_uri, probe=probe)
    try:
        secret = client.get_secret(name)
    except ResourceNotFoundError:
        return 404, None, None
    except HttpResponseError as err:
        if err.status_code in (401, 403):
            return 403, None, None
        raise
    return 200, secret.value, secret.properties.version


def observe(
    ctx: Ctx, res: Resource, vault_uri: str | None = None, *, probe: bool = False
) -> Observed:
    """The secret's verdict. `vault_uri` defaults to what the vault's GET reported; `probe`
    reads at a predicted URI with no retries (the caller discards it unless it matches)."""
    vault_uri = vault_uri or ctx.outputs.get(Key.key_vault, {}).get("vault_uri")
    wanted = _value(ctx, res)
    if not vault_uri:
        return Observed(exists=False)
    if wanted is None and "read_from" in res.managed:
        return Observed(exists=False)  # what issues it does not exist yet: written after it
    if wanted is None:
        return Observed(exists=True, value_matches=None)  # nothing to compare with (plan in PR)
    status, current, version = _read(ctx, vault_uri, res.name, probe=probe)
    if status == 404:
        return Observed(exists=False)
    if status == 403:
        # Key Vault checks access before existence: the secret may not exist at all (a deploy
        # that stopped before writing it, while the deployer's role was still propagating).
        # Plan a write: ensure waits for access, then writes only if the value differs.
        return Observed(exists=False)
    return verdict(current, version, wanted, create_only="create_only" in res.managed)


def verdict(
    current: str | None, version: str | None, wanted: str, *, create_only: bool = False
) -> Observed:
    """An existing secret's Observed: whether its value is `wanted` (any value, for a secret
    deploy only creates), never the value itself."""
    return Observed(
        exists=True,
        value_matches=create_only or hmac.compare_digest(current or "", wanted),
        outputs={"version": version},  # the container app references exactly this version
    )


def from_body(body: dict[str, Any], *, wanted: str) -> Observed:
    """The Observed of a GET secret body (data plane): its id ends in the version."""
    version = str(body.get("id") or "").rstrip("/").rsplit("/", 1)[-1] or None
    return verdict(body.get("value"), version, wanted)


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    """Wait until the deployer's role takes effect (a real read), then set if changed."""
    wanted = _value(ctx, res)
    if wanted is None:
        raise AzureError(f"no value for Key Vault secret {res.name}")
    vault_uri = ctx.output(Key.key_vault, "vault_uri")
    deadline = time.monotonic() + ctx.role_wait_timeout
    delay = 1.0
    while True:
        status, current, version = _read(ctx, vault_uri, res.name)
        if status != 403:
            break
        if time.monotonic() + delay > deadline:
            raise AzureError(
                f"Key Vault still refuses the deployer on {res.name} after "
                f"{ctx.role_wait_timeout:.0f}s [Forbidden]",
                hint="the deployer needs Key Vault Secrets Officer on the vault; "
                "check the role assignment, then rerun deploy",
            )
        ctx.report(res.key, f"waiting for Key Vault access (role propagation), {delay:.0f}s")
        interrupt.sleep(delay)  # Ctrl-C ends the wait at once
        delay = min(delay * 2, 15.0)
    if status == 200 and (
        "create_only" in res.managed or hmac.compare_digest(current or "", wanted)
    ):
        return {"changed": False, "version": version}
    if status == 404 and res.managed.get("copy_of"):
        # Created from the secret it had before a rename (the developer keys' former name,
        # config/naming.py FORMER_DEVELOPER_KEYS_SECRET), read now, the moment before the
        # write: every key the gateway accepts stays accepted, every revoked key refused.
        former_status, former, _ = _read(ctx, vault_uri, str(res.managed["copy_of"]))
        if former_status == 200 and former is not None:
            ctx.report(res.key, f"created from Key Vault secret {res.managed['copy_of']}")
            wanted = former
    if status == 200 and current and "source" in res.managed:
        # Kept in memory only: deploy proves the gateway refuses it once the new one is served.
        ctx.remember_replaced(res.managed["source"], Secret(f"previous {res.name}", current))
    client = ctx.clients.secrets(vault_uri)
    # No transport-level retry: each PUT makes a new version, and a PUT whose answer was lost
    # would be sent again blindly. apply retries the whole of ensure instead, which reads the
    # value first and writes only if it still differs.
    written = client.set_secret(
        res.name, wanted, content_type="text/plain", tags={MANAGED_BY: MANAGER}, retry_total=0
    )
    return {"changed": True, "version": written.properties.version}


def current_version(ctx: Ctx, vault_uri: str, name: str) -> str:
    """The version Key Vault serves for `name` now (what the container app should reference)."""
    status, _, version = _read(ctx, vault_uri, name)
    if status != 200 or not version:
        raise AzureError(f"cannot read the current version of Key Vault secret {name} [{status}]")
    return version


def probe(ctx: Ctx, res: Resource, vault_uri: str) -> Observed | None:
    """observe() at a predicted vault URI before the vault's GET has answered; None if that
    URI does not answer like a vault we may read (then the caller reads after the GET)."""
    if "read_from" in res.managed or _value(ctx, res) is None:
        return None  # read from what issues it: once that is observed (after the GET)
    try:
        return observe(ctx, res, vault_uri, probe=True)
    except Exception:  # a guess that did not answer: nothing learnt, nothing to report
        return None


@registered
class SecretAdapter(Base):
    kind = Kind.secret
    order = 80

    # The fixtures' versions of the shipped secrets (tests/plan_support.py).
    _EXAMPLE_VERSIONS = {
        f"secret:{GATEWAY_KEY_SECRET}": "0123456789abcdef0123456789abcdef",
        f"secret:{AZURE_OPENAI_KEY_SECRET}": "fedcba9876543210fedcba9876543210",
        f"secret:{DEVELOPER_KEYS_SECRET}": "00112233445566778899aabbccddeeff",
    }

    def probe(self, ctx: Ctx, res: Resource, vault_uri: str) -> Observed | None:
        return probe(ctx, res, vault_uri)

    def current_version(self, ctx: Ctx, vault_uri: str, name: str) -> str:
        return current_version(ctx, vault_uri, name)

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {"version": self._EXAMPLE_VERSIONS.get(res.key, "0" * 32)}

    def example_observed(self, res: Resource, fields: dict[str, Any]) -> Observed:
        return Observed(exists=True, value_matches=True, outputs=self.example_outputs(res))

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        # The developer keys' hashes: created when missing (a copy of the secret of their
        # former name if the vault has one, else empty), never overwritten by deploy (`aigw
        # keys` owns the value).
        developer_keys = Resource(
            f"secret:{DEVELOPER_KEYS_SECRET}",
            self.kind,
            DEVELOPER_KEYS_SECRET,
            depends_on=(Key.key_vault, "role:deployer-secrets-officer"),
            managed={
                "value": SECRET_VALUE,
                "create_only": EMPTY_DEVELOPER_KEYS,
                "copy_of": FORMER_DEVELOPER_KEYS_SECRET,
            },
            owned=False,
        )
        return (
            [
                Resource(
                    f"secret:{name}",
                    self.kind,
                    name,
                    depends_on=(Key.key_vault, "role:deployer-secrets-officer"),
                    managed={"value": SECRET_VALUE, "source": what},
                    owned=False,  # lives inside our vault; ownership is the vault's
                )
                for name, what in (
                    (GATEWAY_KEY_SECRET, GATEWAY_KEY),
                    # the Azure OpenAI key: auth: key only (identity: no key exists anywhere)
                    *(
                        [(AZURE_OPENAI_KEY_SECRET, AZURE_OPENAI_KEY)]
                        if inp.config.azure_openai.auth == "key"
                        else []
                    ),
                )
            ]
            + [
                # the other upstreams' keys (several upstreams per model, auth: key)
                Resource(
                    f"secret:{name}",
                    self.kind,
                    name,
                    depends_on=(Key.key_vault, "role:deployer-secrets-officer"),
                    managed={"value": SECRET_VALUE, "source": source},
                    owned=False,
                )
                for name, source, _ in upstreams.keyed(inp)
            ]
            + [developer_keys]
        )

    needs_role_wait = True  # the deployer's Key Vault role may still be propagating
    inside_vault = True

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)
