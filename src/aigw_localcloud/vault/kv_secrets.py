"""Key Vault data plane (secrets) served on each vault's own listener.

Challenge auth as Key Vault does it: an unauthenticated request gets 401 with a
WWW-Authenticate challenge naming the tenant and the vault resource; authenticated callers
need an RBAC role (taking effect `propagation_delay` after creation) or an access policy.
"""

from __future__ import annotations

import re
from typing import Any

from ..core import rbac
from ..core.engine import Engine, Router, decode_token
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.state import State
from ..core.util import hex_id, now

VAULT_TYPE = "Microsoft.KeyVault/vaults"


def find_vault(st: State, name: str) -> dict[str, Any] | None:
    """Vault names are global: look the name up across every group."""
    for r in st["resources"].values():
        if r["type"] == VAULT_TYPE and r["name"].lower() == name.lower():
            return r
    return None


router = Router()
_NAME_RX = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


def _challenge(tenant: str, message: str) -> CloudError:
    return CloudError(
        401,
        "Unauthorized",
        message,
        headers={
            "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{tenant}", '  # noqa: E501
            'resource="https://vault.azure.net"'
        },
    )


def _vault(st: State, req: Request) -> dict[str, Any]:
    v = find_vault(st, req.listener)
    if v is None:
        raise CloudError(404, "VaultNotFound", f"The vault '{req.listener}' was not found.")
    return v


def _authorize(eng: Engine, st: State, req: Request, action: str, target: str) -> dict[str, Any]:
    vault = _vault(st, req)
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise _challenge(st["tenant_id"], "AKV10000: Request is missing a Bearer or PoP token.")
    claims = decode_token(auth[7:].strip())
    if claims is None:
        raise _challenge(st["tenant_id"], "AKV10022: Invalid audience.")
    principal = str(claims["oid"])
    req.principal = principal
    if not allowed(eng, st, vault, principal, action):
        resource = f"{vault['id'].lower()}{target}"
        raise CloudError(
            403,
            "Forbidden",
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny "
            "assignments or role definitions were changed recently, please observe propagation "
            f"time.\r\nCaller: appid=localcloud;oid={principal};iss=https://sts.windows.net/"
            f"{st['tenant_id']}/\r\nAction: '{action}'\r\nResource: '{resource}'\r\n"
            "Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\n"
            f"Vault: {vault['name']};location={vault['location']}\r\n",
            extra={"innererror": {"code": "ForbiddenByRbac"}},
        )
    return vault


_POLICY_PERMISSION = {
    rbac.SECRET_GET: "get",
    rbac.SECRET_READ_METADATA: "list",
    rbac.SECRET_SET: "set",
    rbac.SECRET_DELETE: "delete",
    rbac.SECRET_RECOVER: "recover",
    rbac.SECRET_PURGE: "purge",
}


def allowed(eng: Engine, st: State, vault: dict[str, Any], principal: str, action: str) -> bool:
    props = vault["properties"]
    if props.get("enableRbacAuthorization", True):
        return rbac.has_data_action(st, principal, vault["id"], action, eng.propagation_delay)
    want = _POLICY_PERMISSION.get(action, "")
    for p in props.get("accessPolicies") or []:
        if str(p.get("objectId", "")).lower() == principal.lower():
            perms = [x.lower() for x in (p.get("permissions") or {}).get("secrets") or []]
            if want in perms or "all" in perms:
                return True
    return False


def _secrets(st: State, vault: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = st["secrets"].setdefault(vault["name"].lower(), {})
    return s


def _not_found(name: str) -> CloudError:
    return CloudError(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name} was not found in this key vault. If you recently deleted "
        "this secret you may be able to recover it using the correct recovery command. For help "
        "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )


def _attributes(v: dict[str, Any]) -> dict[str, Any]:
    return {
        "enabled": v["enabled"],
        "created": v["created"],
        "updated": v["updated"],
        "recoveryLevel": "Recoverable+Purgeable" if not v.get("_pp") else "Recoverable",
        "recoverableDays": 90,
    }


def _bundle(
    vault: dict[str, Any], s: dict[str, Any], v: dict[str, Any], *, value: bool
) -> dict[str, Any]:
    base = vault["properties"]["vaultUri"]
    out: dict[str, Any] = {}
    if value:
        out["value"] = v["value"]
    out["id"] = f"{base}secrets/{s['name']}/{v['version']}"
    out["attributes"] = _attributes(v)
    out["tags"] = v.get("tags") or {}
    if v.get("contentType") is not None:
        out["contentType"] = v["contentType"]
    return out


def _deleted_bundle(vault: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    base = vault["properties"]["vaultUri"]
    out = _bundle(vault, s, s["versions"][-1], value=False)
    out["recoveryId"] = f"{base}deletedsecrets/{s['name']}"
    out["deletedDate"] = s["deleted"]
    out["scheduledPurgeDate"] = s["deleted"] + 90 * 86400
    return out


def _live(secrets: dict[str, Any], name: str) -> dict[str, Any]:
    s = secrets.get(name.lower())
    if s is None or s.get("deleted") is not None:
        raise _not_found(name)
    return s


@router.route("PUT", r"/secrets/(?P<name>[^/]+)")
def set_secret(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.write() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_SET, f"/secrets/{name}")
        if not _NAME_RX.match(name):
            raise CloudError(
                400, "BadParameter", "The request URI contains an invalid name: " + name
            )
        payload = req.json()
        if not isinstance(payload.get("value"), str):
            raise CloudError(400, "BadParameter", "Property value is required.")
        secrets = _secrets(st, vault)
        s = secrets.get(name.lower())
        if s is not None and s.get("deleted") is not None:
            raise CloudError(
                409,
                "Conflict",
                f"Secret {name} is currently in a deleted but recoverable state, and its name "
                "cannot be reused; in this state, the secret can only be recovered or purged.",
            )
        if s is None:
            s = {"name": name, "versions": [], "deleted": None}
            secrets[name.lower()] = s
        t = int(now())
        attrs = payload.get("attributes") or {}
        v = {
            "version": hex_id(),
            "value": payload["value"],
            "contentType": payload.get("contentType"),
            "tags": payload.get("tags") or {},
            "enabled": attrs.get("enabled", True),
            "created": t,
            "updated": t,
            "_pp": bool(vault["properties"].get("enablePurgeProtection")),
        }
        previous = s["versions"][-1]["version"] if s["versions"] else None
        s["versions"].append(v)
        out = _bundle(vault, s, v, value=True)
        if previous:
            out["previousVersion"] = previous
        return Response(200, out)


@router.route("GET", r"/secrets/(?P<name>[^/]+)(?:/(?P<version>[^/]+))?")
def get_secret(eng: Engine, req: Request) -> Response:
    name, version = req.params["name"], req.params.get("version")
    if version == "versions":
        return list_versions(eng, req)
    with eng.store.read() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_GET, f"/secrets/{name}")
        s = _live(_secrets(st, vault), name)
        if version:
            match = [v for v in s["versions"] if v["version"] == version]
            if not match:
                raise _not_found(name)
            v = match[0]
        else:
            v = s["versions"][-1]
        if not v["enabled"]:
            raise CloudError(403, "Forbidden", "Operation get is not allowed on a disabled secret.")
        return Response(200, _bundle(vault, s, v, value=True))


def list_versions(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.read() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_READ_METADATA, f"/secrets/{name}")
        s = _live(_secrets(st, vault), name)
        items = [_bundle(vault, s, v, value=False) for v in s["versions"]]
    return Response(200, {"value": items, "nextLink": None})


@router.route("GET", r"/secrets")
def list_secrets(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_READ_METADATA, "/secrets")
        items = []
        for s in _secrets(st, vault).values():
            if s.get("deleted") is None:
                b = _bundle(vault, s, s["versions"][-1], value=False)
                b["id"] = b["id"].rsplit("/", 1)[0]
                items.append(b)
    return Response(200, {"value": items, "nextLink": None})


@router.route("DELETE", r"/secrets/(?P<name>[^/]+)")
def delete_secret(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.write() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_DELETE, f"/secrets/{name}")
        s = _live(_secrets(st, vault), name)
        s["deleted"] = int(now())
        return Response(200, _deleted_bundle(vault, s))


def _deleted(secrets: dict[str, Any], name: str) -> dict[str, Any]:
    s = secrets.get(name.lower())
    if s is None or s.get("deleted") is None:
        raise CloudError(404, "SecretNotFound", f"Deleted Secret not found: {name}")
    return s


@router.route("GET", r"/deletedsecrets/(?P<name>[^/]+)")
def get_deleted(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.read() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_READ_METADATA, f"/deletedsecrets/{name}")
        return Response(200, _deleted_bundle(vault, _deleted(_secrets(st, vault), name)))


@router.route("GET", r"/deletedsecrets")
def list_deleted(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_READ_METADATA, "/deletedsecrets")
        items = [
            _deleted_bundle(vault, s)
            for s in _secrets(st, vault).values()
            if s.get("deleted") is not None
        ]
    return Response(200, {"value": items, "nextLink": None})


@router.route("POST", r"/deletedsecrets/(?P<name>[^/]+)/recover")
def recover(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.write() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_RECOVER, f"/deletedsecrets/{name}")
        s = _deleted(_secrets(st, vault), name)
        s["deleted"] = None
        return Response(200, _bundle(vault, s, s["versions"][-1], value=False))


@router.route("DELETE", r"/deletedsecrets/(?P<name>[^/]+)")
def purge(eng: Engine, req: Request) -> Response:
    name = req.params["name"]
    with eng.store.write() as st:
        vault = _authorize(eng, st, req, rbac.SECRET_PURGE, f"/deletedsecrets/{name}")
        secrets = _secrets(st, vault)
        _deleted(secrets, name)
        if vault["properties"].get("enablePurgeProtection"):
            raise CloudError(
                403,
                "Forbidden",
                'Operation "purge" is not allowed because purge protection is enabled for this '
                "vault. Key Vault service will automatically purge it after the retention period "
                "has passed.",
            )
        del secrets[name.lower()]
    return Response(204)


def read_secret_as(eng: Engine, st: State, principal: str, url: str) -> tuple[str | None, str]:
    """Resolve a Key Vault secret URL the way Container Apps does with an identity.

    Returns (value, "") or (None, reason).
    """
    m = re.match(r"^https://127\.0\.0\.1:(\d+)/secrets/([^/]+)(?:/([^/]+))?/?$", url)
    if not m:
        return None, f"unsupported Key Vault URL {url}"
    port, name, version = int(m.group(1)), m.group(2), m.group(3)
    vault_name = next((n for n, p in st["vault_ports"].items() if p == port), None)
    vault = find_vault(st, vault_name) if vault_name else None
    if vault is None:
        return None, "vault not found"
    if str(vault["properties"].get("publicNetworkAccess", "Enabled")).lower() == "disabled":
        # Container Apps reads references over the vault's public endpoint and is not a Key
        # Vault trusted service (learn.microsoft.com/azure/key-vault/general/network-security;
        # microsoft/azure-container-apps#1287); this cloud has no private endpoints.
        return None, "public network access is disabled"
    if not allowed(eng, st, vault, principal, rbac.SECRET_GET):
        return None, "forbidden"
    s = st["secrets"].get(vault["name"].lower(), {}).get(name.lower())
    if s is None or s.get("deleted") is not None:
        return None, "secret not found"
    versions = [v for v in s["versions"] if not version or v["version"] == version]
    if not versions:
        return None, "secret version not found"
    return str(versions[-1]["value"]), ""
