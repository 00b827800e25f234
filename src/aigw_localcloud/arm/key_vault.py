"""Microsoft.KeyVault management plane: vaults, global names, soft delete, recover, purge."""

from __future__ import annotations

from typing import Any

from ..core import lro
from ..core.engine import Engine, Router, finish_provisioning, finisher, public
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.rbac import drop_assignments_in_scope
from ..core.state import State
from ..core.util import iso, key, now
from ..vault.kv_secrets import VAULT_TYPE, find_vault
from .common import (
    NAME,
    RG,
    SUB,
    build_tracked,
    list_of,
    location_poll,
    must_find,
    ok,
    put_resource,
    resource_id,
)
from .locations import GENERAL, provides

router = Router()
NS = "Microsoft.KeyVault"
TYPE = VAULT_TYPE
PATH = RG + r"/providers/Microsoft.KeyVault/vaults/" + NAME
RETENTION_DAYS = 90
provides(NS, "vaults", GENERAL)
provides(NS, "deletedVaults", GENERAL)
provides(NS, "locations/operationResults")


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "vaults", p["name"])


def _taken_message(name: str) -> str:
    return (
        f"The vault name '{name}' is already in use. Vault names are globally unique so it is "
        "possible that the name is already taken. If you are sure that the vault name was not "
        "taken then it is possible that a vault with the same name was recently deleted but not "
        "purged after being placed in a recoverable state. If the vault is in a recoverable state "
        "then the vault will need to be purged before reusing the name. For more information on "
        "VaultAlreadyExists, soft delete and purging a vault follow this link "
        "https://go.microsoft.com/fwlink/?linkid=2147740."
    )


def _refuse_retention_change(old: dict[str, Any], new: dict[str, Any]) -> None:
    """softDeleteRetentionInDays is fixed when the vault is created: "Once set, the retention
    policy interval cannot be changed" (learn.microsoft.com/azure/key-vault/general/
    soft-delete-overview). Azure's answer, as quoted in public Bicep templates: 400 BadRequest
    'The property "softDeleteRetentionInDays" has been set already and it can't be modified.'
    The same value again is accepted (templates re-send it on every deployment)."""
    if "softDeleteRetentionInDays" not in new:
        return
    have = old.get("softDeleteRetentionInDays", RETENTION_DAYS)
    if new["softDeleteRetentionInDays"] != have:
        raise CloudError(
            400,
            "BadRequest",
            'The property "softDeleteRetentionInDays" has been set already and it can\'t be '
            "modified.",
        )


def soft_delete_vault(eng: Engine, st: State, vault: dict[str, Any]) -> None:
    """Move a vault to the deleted state (soft delete is always on), keeping its secrets but not
    the role assignments on it: they are deleted with the vault and a recover does not bring
    them back (learn.microsoft.com/azure/key-vault/general/soft-delete-overview, "Recovering a
    soft-deleted Key Vault does not restore these services. They must be recreated.")."""
    props = vault["properties"]
    t = now()
    st["deleted_vaults"][vault["name"].lower()] = {
        "id": f"/subscriptions/{st['subscription_id']}/providers/{NS}/locations/{vault['location']}/deletedVaults/{vault['name']}",  # noqa: E501
        "name": vault["name"],
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault["id"],
            "location": vault["location"],
            "deletionDate": iso(t),
            "scheduledPurgeDate": iso(
                t + 86400 * props.get("softDeleteRetentionInDays", RETENTION_DAYS)
            ),
            "tags": vault.get("tags") or {},
            "purgeProtectionEnabled": bool(props.get("enablePurgeProtection")),
        },
        "_vault": vault,
    }
    st["resources"].pop(key(vault["id"]), None)
    drop_assignments_in_scope(st, vault["id"])
    # The listener stays (its data plane answers 404 now) so a recovered vault keeps its URL;
    # purge closes it.


@router.route("PUT", PATH)
def put_vault(eng: Engine, req: Request) -> Response:
    payload = req.json()
    name = req.params["name"]
    req_props: dict[str, Any] = dict(payload.get("properties") or {})
    create_mode = (req_props.pop("createMode", None) or "default").lower()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        other = find_vault(st, name)
        if name.lower() in {n.lower() for n in st["taken_vault_names"]} or (
            other is not None and key(other["id"]) != key(rid)
        ):
            raise CloudError(409, "VaultAlreadyExists", _taken_message(name))
        deleted = st["deleted_vaults"].get(name.lower())
        recovered = False
        if existing is None and deleted is not None:
            if create_mode != "recover":
                raise CloudError(
                    409,
                    "ConflictError",
                    "A vault with the same name already exists in deleted state. You need to "
                    "either recover or purge existing key vault. Follow this link "
                    "https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft "
                    "delete.",
                )
            existing = deleted["_vault"]
            if key(existing["id"]) != key(rid):
                raise CloudError(409, "VaultAlreadyExists", _taken_message(name))
            del st["deleted_vaults"][name.lower()]
            recovered = True
        elif create_mode == "recover" and existing is None:
            raise CloudError(
                404,
                "DeletedVaultNotFound",
                f"The specified deleted vault '{name}' does not exist.",
            )
        if not req_props.get("sku") and not existing:
            raise CloudError(400, "BadRequest", "The parameter sku is required.")
        if create_mode != "recover" and "accessPolicies" not in req_props:
            # VaultProperties.accessPolicies: "When createMode is set to recover, access
            # policies are not required. Otherwise, access policies are required."
            # (specification/keyvault/resource-manager/Microsoft.KeyVault/KeyVault/stable/
            # 2026-05-15/openapi.json); the service's answer as reported in public issue
            # Azure/azure-sdk-for-net#28677 (pulumi/pulumi-azure-native#1478: `[]` is accepted).
            # Stricter than needed: an update PUT must carry it too.
            raise CloudError(400, "BadRequest", "The parameter accessPolicies is not specified.")
        old = dict((existing or {}).get("properties") or {})
        if old.get("enablePurgeProtection") and req_props.get("enablePurgeProtection") is False:
            raise CloudError(
                400,
                "BadRequest",
                'The property "enablePurgeProtection" cannot be set to false. Enabling the purge '
                "protection for a vault is an irreversible action.",
            )
        if existing:
            _refuse_retention_change(old, req_props)
        if req_props.get("enableSoftDelete") is False:
            raise CloudError(
                400,
                "BadRequest",
                'The property "enableSoftDelete" cannot be set to false. Soft delete is enabled '
                "on all vaults.",
            )
        body = build_tracked(req, rid, TYPE, name, payload, existing)
        props = {**old, **req_props} if recovered or existing else dict(req_props)
        props.setdefault("tenantId", st["tenant_id"])
        props.setdefault("accessPolicies", [])
        props.setdefault("enabledForDeployment", False)
        props.setdefault("enabledForDiskEncryption", False)
        props.setdefault("enabledForTemplateDeployment", False)
        props.setdefault("enableRbacAuthorization", True)
        props["enableSoftDelete"] = True
        props.setdefault("softDeleteRetentionInDays", RETENTION_DAYS)
        props.setdefault("publicNetworkAccess", "Enabled")
        props.setdefault(
            "networkAcls",
            {
                "bypass": "AzureServices",
                "defaultAction": "Allow",
                "ipRules": [],
                "virtualNetworkRules": [],
            },
        )
        if props.get("enablePurgeProtection") is not True:
            props.pop("enablePurgeProtection", None)
        port = st["vault_ports"].get(name.lower())
        port = eng.open_vault_listener(name.lower(), port)
        st["vault_ports"][name.lower()] = port
        props["vaultUri"] = eng.vault_uri(port)
        props["hsmPoolResourceId"] = None
        op = lro.new_operation(st, eng.timing, "vault.create", rid, location=body["location"])
        if op["due"] <= now():
            lro.finish(op)
            props["provisioningState"] = "Succeeded"
        else:
            # Azure answers at once with RegisteringDns and the SDK polls the vault itself.
            props["provisioningState"] = "RegisteringDns"
        body["properties"] = props
        body["_op"] = op["id"]
        put_resource(st, body)
    return ok(body, 200 if existing and not recovered else 201, eng.lro_headers())


finisher("vault.create")(finish_provisioning)


@router.route("GET", PATH)
def get_vault(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        op = st["operations"].get(r.get("_op", ""))
        if op is not None:
            lro.mark_observed(op)
        return ok(r)


@router.route("PATCH", PATH)
def patch_vault(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        if "tags" in payload:
            r["tags"] = payload["tags"] or {}
        new_props = dict(payload.get("properties") or {})
        _refuse_retention_change(r["properties"], new_props)
        if (
            r["properties"].get("enablePurgeProtection")
            and new_props.get("enablePurgeProtection") is False
        ):
            raise CloudError(
                400,
                "BadRequest",
                'The property "enablePurgeProtection" cannot be set to false. Enabling the purge '
                "protection for a vault is an irreversible action.",
            )
        r["properties"].update(new_props)
        return ok(r)


@router.route("DELETE", PATH)
def delete_vault(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        r = st["resources"].get(key(_rid(req)))
        if r is None:
            return Response(204)
        soft_delete_vault(eng, st, r)
    return Response(200)


@router.route("GET", RG + r"/providers/Microsoft.KeyVault/vaults")
def list_vaults(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])


@router.route("POST", SUB + r"/providers/Microsoft.KeyVault/checkNameAvailability")
def check_name(eng: Engine, req: Request) -> Response:
    """Vaults_CheckNameAvailability (KeyVault/stable/2026-05-15/openapi.json): the body's
    `name` and `type` (enum "Microsoft.KeyVault/vaults") are required. A name is taken while a
    vault of that name exists in any group or subscription, or waits soft-deleted (names are
    global; soft-delete-overview: "the name ... cannot be reused until it is purged")."""
    payload = req.json() or {}
    if not payload.get("name") or payload.get("type") != "Microsoft.KeyVault/vaults":
        raise CloudError(
            400,
            "BadRequest",
            "The request body must carry 'name' and 'type': 'Microsoft.KeyVault/vaults'.",
        )
    name = str(payload["name"])
    with eng.store.read() as st:
        eng.require_provider(st, NS)
        taken = (
            name.lower() in {n.lower() for n in st["taken_vault_names"]}
            or find_vault(st, name) is not None
            or name.lower() in st["deleted_vaults"]
        )
    import re

    if not re.fullmatch(r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", name):
        return Response(
            200,
            {
                "nameAvailable": False,
                "reason": "AccountNameInvalid",
                "message": f"Vault name '{name}' is invalid. The name can contain only letters, "
                "numbers and hyphens. The first character must be a letter. The last character "
                "must be a letter or number. The name must be between 3 and 24 characters long. "
                "Consecutive hyphens are not allowed.",
            },
        )
    if taken:
        return Response(
            200,
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The vault name '{name}' is already in use.",
            },
        )
    return Response(200, {"nameAvailable": True})


DELETED = SUB + r"/providers/Microsoft.KeyVault/locations/(?P<loc>[^/]+)/deletedVaults/" + NAME


@router.route("GET", DELETED)
def get_deleted(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        d = st["deleted_vaults"].get(req.params["name"].lower())
    if d is None or d["properties"]["location"] != req.params["loc"].replace(" ", "").lower():
        raise CloudError(
            404,
            "DeletedVaultNotFound",
            f"The specified deleted vault '{req.params['name']}' does not exist.",
        )
    return Response(200, public(d))


@router.route("GET", SUB + r"/providers/Microsoft.KeyVault/deletedVaults")
def list_deleted(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        return Response(200, {"value": [public(d) for d in st["deleted_vaults"].values()]})


@router.route("POST", DELETED + r"/purge")
def purge_deleted(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.write() as st:
        d = st["deleted_vaults"].get(name.lower())
        if d is None:
            raise CloudError(
                404, "DeletedVaultNotFound", f"The specified deleted vault '{name}' does not exist."
            )
        if d["properties"]["purgeProtectionEnabled"]:
            raise CloudError(
                409, "MethodNotAllowed", "Operation 'DeletedVaultPurge' is not allowed."
            )
        op = lro.new_operation(
            st, eng.timing, "vault.purge", name.lower(), location=req.params["loc"]
        )
    path = f"/subscriptions/{req.params['sub']}/providers/{NS}/locations/{req.params['loc']}/operationResults/VVR{op['id']}"  # noqa: E501
    return Response(
        202,
        None,
        {
            "Location": eng.op_url(path, req.api_version),
            **eng.lro_headers(),
        },
    )


@router.route(
    "GET", SUB + r"/providers/Microsoft.KeyVault/locations/[^/]+/operationResults/VVR(?P<op>[^/]+)"
)
def purge_status(eng: Engine, req: Request) -> Response:
    return location_poll(eng, req, req.params["op"])


@finisher("vault.purge")
def _finish_purge(eng: Engine, op: dict[str, Any]) -> None:
    name = op["resource_id"]
    with eng.store.write() as st:
        st["deleted_vaults"].pop(name, None)
        st["secrets"].pop(name, None)
        st["vault_ports"].pop(name, None)
        lro.finish(st["operations"][op["id"]])
    eng.close_vault_listener(name)
