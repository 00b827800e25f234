"""The Key Vault (RBAC mode, soft delete on) holding the gateway and Azure OpenAI keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.config.naming import NameRule, compose, vault_suffix
from aigw.resources import registered
from aigw.resources.base import Base, Finding, Inputs
from aigw.state import Key, Kind, Observed, Resource

if TYPE_CHECKING:
    from aigw.config.model import EnvConfig


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "id": body.get("id"),
        "vault_uri": props.get("vaultUri"),
        "provisioning_state": props.get("provisioningState"),
    }


def _group_of(resource_id: str) -> str:
    parts = resource_id.lower().split("/")
    return parts[parts.index("resourcegroups") + 1] if "resourcegroups" in parts else ""


def name_availability(ctx: Ctx, name: str) -> dict[str, Any]:
    """Vault names are global: {"name_available": bool, "name_reason": str}, or {} when it
    cannot be asked yet (Microsoft.KeyVault not registered: apply registers it first)."""
    from azure.core.exceptions import HttpResponseError

    from aigw.azure.errors import error_code

    vaults = ctx.clients.keyvault().vaults
    try:
        got = to_rest(
            vaults.check_name_availability({"name": name, "type": "Microsoft.KeyVault/vaults"})
        )
    except HttpResponseError as err:
        if error_code(err) == "MissingSubscriptionRegistration":
            return {}
        raise
    reason = " ".join(str(got.get("message") or got.get("reason") or "").split())
    return {"name_available": bool(got.get("nameAvailable")), "name_reason": reason}


def observe(ctx: Ctx, res: Resource) -> Observed:
    vaults = ctx.clients.keyvault().vaults
    found = get_or_none(lambda: vaults.get(ctx.rg, res.name))
    if found is None:
        location = res.managed["location"]
        deleted = get_or_none(lambda: vaults.get_deleted(res.name, location))
        if deleted is None:
            return Observed(exists=False, outputs=name_availability(ctx, res.name))
        return from_deleted_body(to_rest(deleted), rg=ctx.rg)
    return from_body(to_rest(found))


def from_deleted_body(body: dict[str, Any], *, rg: str) -> Observed:
    """The Observed of a soft-deleted vault's GET body, for a deploy into resource group `rg`."""
    props = body.get("properties") or {}
    group = _group_of(str(props.get("vaultId") or ""))
    if group and group != rg.lower():
        # Only the group it was deleted from can recover it; for us the name is taken.
        why = f"a soft-deleted vault of that name belongs to resource group {group}"
        return Observed(exists=False, outputs={"name_available": False, "name_reason": why})
    return Observed(
        exists=False,
        soft_deleted=True,
        purge_protected=bool(props.get("purgeProtectionEnabled")),
    )


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of a vault's GET body (tests/fixtures/observe/)."""
    props = body.get("properties") or {}
    return Observed(
        exists=True,
        fields={
            "location": norm_location(body.get("location")),
            "sku": (props.get("sku") or {}).get("name"),
            "tenantId": props.get("tenantId"),
            "enableRbacAuthorization": props.get("enableRbacAuthorization"),
            "enableSoftDelete": props.get("enableSoftDelete", True),
            "softDeleteRetentionInDays": props.get("softDeleteRetentionInDays"),
            "enablePurgeProtection": bool(props.get("enablePurgeProtection")),
            # absent means the default, "enabled"; Azure echoes it in either case
            "publicNetworkAccess": str(props.get("publicNetworkAccess") or "Enabled").capitalize(),
        },
        tags=body.get("tags") or {},
        outputs=_outputs(body),
        purge_protected=bool(props.get("enablePurgeProtection")),
    )


def _properties(m: dict[str, Any], *, create: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "tenantId": m["tenantId"],
        "sku": {"family": "A", "name": m["sku"]},
        "enableRbacAuthorization": True,
        # Required unless createMode is recover (2026-05-15 spec); RBAC mode ignores policies.
        "accessPolicies": [],
        "enableSoftDelete": True,
        "publicNetworkAccess": m["publicNetworkAccess"],  # why: desired.py
    }
    if create:  # fixed at creation: Azure refuses a change (preflight says so in plan)
        props["softDeleteRetentionInDays"] = m["softDeleteRetentionInDays"]
    if m["enablePurgeProtection"]:
        props["enablePurgeProtection"] = True  # Azure refuses an explicit false
    return props


def ensure(ctx: Ctx, res: Resource, *, recover: bool = False) -> dict[str, Any]:
    m = ctx.managed(res)  # with tags others set kept
    vaults = ctx.clients.keyvault().vaults
    if recover:
        props = {"tenantId": m["tenantId"], "sku": {"family": "A", "name": m["sku"]}}
        body = {"location": m["location"], "properties": {**props, "createMode": "recover"}}
        vaults.begin_create_or_update(ctx.rg, res.name, body).result()
    # A reconcile: read before write, so a retried create (its answer lost) is an update.
    exists = recover or get_or_none(lambda: vaults.get(ctx.rg, res.name)) is not None
    props = _properties(m, create=not exists)
    body = {"location": m["location"], "tags": m["tags"], "properties": props}
    return _outputs(to_rest(vaults.begin_create_or_update(ctx.rg, res.name, body).result()))


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.keyvault().vaults.delete(ctx.rg, res.name)


def purge(ctx: Ctx, res: Resource) -> None:
    vaults = ctx.clients.keyvault().vaults
    vaults.begin_purge_deleted(res.name, res.managed["location"]).result()


@registered
class KeyVaultAdapter(Base):
    kind = Kind.key_vault
    order = 50
    namespace = "Microsoft.KeyVault"
    arm_type = "vaults"
    name_rule = NameRule(
        "key vault",
        3,
        24,
        r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and '-', starting with a letter, ending alphanumeric",
        tag="kv",
        no_double_hyphen=True,
    )
    located = True
    doctor_reads = True  # the name's availability (checkNameAvailability), its retention

    def name(self, config: EnvConfig) -> str:
        """The scheme's name, with the optional `key_vault.name_suffix` (vault names are
        global)."""
        assert self.name_rule is not None and config.location_short is not None
        suffix = vault_suffix(
            config.key_vault.name_suffix,
            project=config.project,
            env=config.env,
            location=config.location,
        )
        args = (config.name_prefix, config.env, config.project)
        return compose(*args, self.name_rule, config.location_short, suffix)

    def doctor(
        self, ctx: Ctx, res: Resource, observed: Mapping[str, Observed], refused: set[str]
    ) -> list[Finding]:
        """Whether the vault's name is free (or this environment's), unless refused."""
        if any(f.startswith("key_vault") for f in refused):
            return []
        obs = observed[res.key]
        if obs.exists:
            state = "exists in this resource group"
        elif obs.soft_deleted:
            state = "is soft-deleted here (deploy recovers it)"
        elif obs.outputs.get("name_available") is None:
            state = "not checked (Microsoft.KeyVault is not registered yet)"
        else:
            state = "is available"
        return [Finding("vault name", True, f"{res.name} {state}")]

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {"vault_uri": "https://vault.example/"}

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        kv = inp.config.key_vault
        managed = {
            "location": inp.config.location,
            "tags": inp.tags,
            "sku": "standard",
            "tenantId": inp.tenant_id,
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": kv.soft_delete_retention_days,
            "enablePurgeProtection": kv.purge_protection,
            # Stated, not left to the default: the container app reads both keys as Key Vault
            # references through its identity, and Container Apps is not a Key Vault "trusted
            # service" (learn.microsoft.com/azure/key-vault/general/network-security;
            # microsoft/azure-container-apps#1287, #888), so with "Disabled" (private endpoint
            # only) a consumption environment without VNet + private endpoint cannot resolve
            # them and provisioning fails (learn.microsoft.com/azure/container-apps/
            # manage-secrets). Data-plane access stays RBAC-only. README: "Key Vault network".
            "publicNetworkAccess": "Enabled",
        }
        return [
            Resource(
                Key.key_vault,
                self.kind,
                inp.names.key_vault,
                depends_on=self.needs(Key.resource_group),
                managed=managed,
            )
        ]

    soft_delete = True

    def fixed_fields(self, obs: Observed) -> frozenset[str]:
        # Purge protection cannot be turned off once on; soft delete retention is fixed at
        # creation (learn.microsoft.com/azure/key-vault/general/soft-delete-overview).
        fixed = {"softDeleteRetentionInDays"}
        if obs.fields.get("enablePurgeProtection") is True:
            fixed.add("enablePurgeProtection")
        return frozenset(fixed)

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res, recover=recover)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res)
        return None

    def purge(self, ctx: Ctx, res: Resource) -> None:
        purge(ctx, res)
