"""The Key Vault (RBAC mode, soft delete on) holding the gateway and Azure OpenAI keys."""

from __future__ import annotations

from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.desired import Resource
from aigw.plan import Observed


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "id": body.get("id"),
        "vault_uri": props.get("vaultUri"),
        "provisioning_state": props.get("provisioningState"),
    }


def observe(ctx: Ctx, res: Resource) -> Observed:
    vaults = ctx.clients.keyvault().vaults
    found = get_or_none(lambda: vaults.get(ctx.rg, res.name))
    if found is None:
        location = res.managed["location"]
        deleted = get_or_none(lambda: vaults.get_deleted(res.name, location))
        if deleted is None:
            return Observed(exists=False)
        props = to_rest(deleted).get("properties") or {}
        return Observed(
            exists=False,
            soft_deleted=True,
            purge_protected=bool(props.get("purgeProtectionEnabled")),
        )
    body = to_rest(found)
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
        },
        tags=body.get("tags") or {},
        outputs=_outputs(body),
        purge_protected=bool(props.get("enablePurgeProtection")),
    )


def _properties(m: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "tenantId": m["tenantId"],
        "sku": {"family": "A", "name": m["sku"]},
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": m["softDeleteRetentionInDays"],
        "publicNetworkAccess": "Enabled",
    }
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
    body = {"location": m["location"], "tags": m["tags"], "properties": _properties(m)}
    return _outputs(to_rest(vaults.begin_create_or_update(ctx.rg, res.name, body).result()))


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.keyvault().vaults.delete(ctx.rg, res.name)


def purge(ctx: Ctx, res: Resource) -> None:
    vaults = ctx.clients.keyvault().vaults
    vaults.begin_purge_deleted(res.name, res.managed["location"]).result()
