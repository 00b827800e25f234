"""Private container registries (Azure Container Registry) and the image pull check.

A registry is seeded by a test or a user (`LocalCloud.add_registry`): aigw never creates one.
ARM answers GET on it and lists it through `GET /subscriptions/{id}/resources?$filter=...`
(Microsoft.Resources, resources_list; filter on resourceType and name, as the REST reference
"Resources - List" documents).

Container Apps pulls an image from a private registry with the identity named for its server
in `configuration.registries` (learn.microsoft.com/azure/container-apps/managed-identity-image-
pull: the identity needs AcrPull on the registry). It checks the pull when the app is PUT: an
image it may not pull fails the PUT with 400 InvalidParameterValueInContainerTemplate, "GET ...
UNAUTHORIZED: authentication required, visit https://aka.ms/acr/authorization" (public reports:
Azure/container-apps-deploy-action#85, microsoft/azure-container-apps#212, #863). A fresh AcrPull
assignment takes a while to act, like every role (rbac.delay_for).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from ..apps.app_container import identity_principal
from ..core import rbac
from ..core.engine import Engine, Router, public
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.state import State
from ..core.util import iso, key, norm_location

router = Router()
NS = "Microsoft.ContainerRegistry"
TYPE = f"{NS}/registries"
PULL = "Microsoft.ContainerRegistry/registries/pull/read"
PATH = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[^/]+)"  # noqa: E501
_LISTED = ("id", "name", "type", "location", "tags")
_FILTER_TERM = re.compile(r"^\s*(resourceType|name)\s+eq\s+'([^']*)'\s*$", re.I)


def registry_body(st: State, rg: str, name: str, location: str) -> dict[str, Any]:
    rid = f"/subscriptions/{st['subscription_id']}/resourceGroups/{rg}/providers/{TYPE}/{name}"
    return {
        "id": rid,
        "name": name,
        "type": TYPE,
        "location": norm_location(location),
        "tags": {},
        "sku": {"name": "Standard", "tier": "Standard"},
        "properties": {
            "loginServer": f"{name.lower()}.azurecr.io",
            "creationDate": iso(),
            "provisioningState": "Succeeded",
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
        },
    }


@router.route("GET", PATH)
def get_registry(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = f"/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}/providers/{TYPE}/{req.params['name']}"  # noqa: E501
        r = st["resources"].get(key(rid))
        if r is None:
            raise CloudError(
                404,
                "ResourceNotFound",
                f"The Resource '{TYPE}/{req.params['name']}' under resource group "
                f"'{req.params['rg']}' was not found.",
            )
        return Response(200, public(r))


@router.route("GET", r"/subscriptions/(?P<sub>[^/]+)/resources")
def list_resources(eng: Engine, req: Request) -> Response:
    """Every resource of the subscription, narrowed by `$filter` terms joined with `and`."""
    terms: list[tuple[str, str]] = []
    raw = req.query.get("$filter") or ""
    for part in re.split(r"\s+and\s+", raw, flags=re.I) if raw else []:
        m = _FILTER_TERM.match(part)
        if not m:
            raise CloudError(400, "InvalidFilterInQueryString", f"Invalid $filter '{raw}'.")
        terms.append((m.group(1).lower(), m.group(2).lower()))
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        items = []
        for r in st["resources"].values():
            fields = {"resourcetype": r["type"].lower(), "name": r["name"].lower()}
            if all(fields[k] == v for k, v in terms):
                items.append({k: r[k] for k in _LISTED if k in r})
    return Response(200, {"value": items})


def _server(image: str) -> str:
    first = image.split("/", 1)[0]
    return first.lower() if "/" in image and ("." in first or ":" in first) else "docker.io"


def check_pulls(eng: Engine, st: State, app: dict[str, Any]) -> None:
    """Fail the PUT like Azure when an image of a private registry here may not be pulled."""
    props = app["properties"]
    registries = {
        str(r.get("server", "")).lower(): r
        for r in (props.get("configuration") or {}).get("registries") or []
    }
    template = props.get("template") or {}
    for c in (template.get("containers") or []) + (template.get("initContainers") or []):
        image = str(c.get("image", ""))
        server = _server(image)
        reg = next(
            (
                r
                for r in st["resources"].values()
                if r["type"] == TYPE and r["properties"]["loginServer"] == server
            ),
            None,
        )
        if reg is None:
            continue  # not one of ours: a public registry, pulled anonymously
        identity = (registries.get(server) or {}).get("identity")
        principal = identity_principal(st, app, identity) if identity else None
        if principal and rbac.has_action(st, principal, reg["id"], PULL, eng.propagation_delay):
            continue
        repo = image.split("/", 1)[1].split("@")[0].rsplit(":", 1)[0]
        scope = quote(f"repository:{repo}:pull", safe="")
        raise CloudError(
            400,
            "InvalidParameterValueInContainerTemplate",
            "The following field(s) are either invalid or missing. Field 'template.containers."
            f"{c.get('name')}.image' is invalid with details: 'Invalid value: \"{image}\": GET "
            f"https:?scope={scope}&service={server}: UNAUTHORIZED: authentication required, "
            "visit https://aka.ms/acr/authorization for more information.';.",
        )
