"""Microsoft.App container apps (revisions, secrets, running apps).

A container app's PUT is an Azure-AsyncOperation LRO; its finisher resolves the app's secrets
(Key Vault references through the app's user-assigned identity, as Azure does), hands the
first container to the AppRunner and records the URL it serves on as the ingress FQDN.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from ..apps import kv_refs
from ..apps.app_container import build_spec, identity_principal, normalized, scaled_to_zero
from ..core import lro
from ..core.app_runner import AppStartError
from ..core.engine import Engine, Router, finisher, public
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.state import State
from ..core.util import key, now
from ..vault.kv_secrets import read_secret_as
from . import ingress_rules, registries, traffic
from .common import (
    RG,
    build_tracked,
    list_of,
    must_find,
    put_resource,
)
from .container_env import fill_identity
from .locations import CONTAINER_APPS, provides
from .microsoft_app import APP_PATH, APP_TYPE, LOCAL_EVENTS_DOMAIN, NS, app_rid, ops_path

router = Router()
provides(NS, "containerApps", CONTAINER_APPS)
provides(NS, "operationResults")  # its LROs' Location

# template.revisionSuffix: az CLI's validate_revision_suffix (Azure/azure-cli-extensions
# src/containerapp/azext_containerapp/_validators.py: lower case letters, digits, '-', starting
# and ending with a letter or digit, no '--'; a leading digit is allowed since
# Azure/azure-cli-extensions#6448, and Azure's own suffixes are digits, "--0000001"), and the
# service's limit: the revision name `<app>--<suffix>` at most 54 characters. Whether Azure
# counts the '--' in the 54 is not said: counted here (stricter). Azure's answer, verbatim from
# microsoft/azure-container-apps#1443 and #1460 (which name it quotes for a suffix is not said:
# the revision name here).
_SUFFIX = re.compile(r"[a-z0-9](?!.*--)(?:[-a-z0-9]*[a-z0-9])?")
MAX_REVISION_NAME = 54


def check_revision_suffix(app: str, suffix: str) -> None:
    rev_name = f"{app}--{suffix}"
    if not _SUFFIX.fullmatch(suffix) or len(rev_name) > MAX_REVISION_NAME:
        raise CloudError(
            400,
            "ContainerAppInvalidRevisionName",
            f"Revision name has an invalid value '{rev_name}'. A revision name must consist of "
            "lower case alphanumeric characters or '-', start with an alphabetic character, and "
            "end with an alphanumeric character. The length of the revision name must not be "
            "more than a combined 54 characters with the container app name.",
        )


def _app_public(r: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(public(r))
    for s in (body["properties"].get("configuration") or {}).get("secrets") or []:
        s.pop("value", None)  # never returned by GET; listSecrets does that
    return body


def _deep_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _deep_merge(base.get(k), v) if k in base else v
        return out
    return patch


def _apply_app(
    eng: Engine, req: Request, payload: dict[str, Any], existing: dict[str, Any] | None, st: State
) -> tuple[dict[str, Any], dict[str, Any]]:
    rid = app_rid(req)
    name = req.params["name"]
    body = build_tracked(req, rid, APP_TYPE, name, payload, existing)
    props = body["properties"]
    env_id = props.get("managedEnvironmentId") or props.get("environmentId")
    env = st["resources"].get(key(env_id or ""))
    if env is None:
        raise CloudError(
            404,
            "ManagedEnvironmentNotFound",
            f"The environment '{env_id}' could not be found.",
        )
    if env["properties"]["provisioningState"] != "Succeeded":
        raise CloudError(
            400,
            "ManagedEnvironmentNotProvisioned",
            f"The environment '{env['id']}' has not been provisioned successfully.",
        )
    props["managedEnvironmentId"] = env["id"]
    props["environmentId"] = env["id"]
    # Identity: fill principalId/clientId of each user-assigned identity.
    identity = fill_identity(
        st,
        payload.get("identity") or (existing or {}).get("identity"),
        (existing or {}).get("identity"),
    )
    if identity:
        body["identity"] = identity
    # Secrets sent without a value on update keep their stored value (Azure does the same).
    old_secrets = {
        s["name"]: s
        for s in ((existing or {}).get("properties", {}).get("configuration") or {}).get("secrets")
        or []
    }
    config = props.setdefault("configuration", {})
    ingress_rules.validate(config.get("ingress"))  # refuses the PUT as Azure does
    for s in config.get("secrets") or []:
        if "value" not in s and not s.get("keyVaultUrl") and s.get("name") in old_secrets:
            s["value"] = old_secrets[s["name"]].get("value")
    config.setdefault("activeRevisionsMode", "Single")
    config.setdefault("maxInactiveRevisions", 100)
    registries.check_pulls(eng, st, body)  # images of a private registry: AcrPull needed
    # Every reference is read now (fails the PUT like Azure does); the app keeps its copy.
    body["_kv_cache"] = kv_refs.cache_at_put(eng, st, body, existing, now())
    template = props.setdefault("template", {})
    if template.get("revisionSuffix"):
        check_revision_suffix(name, str(template["revisionSuffix"]))
    revisions: list[dict[str, Any]] = list((existing or {}).get("_revisions") or [])
    seq = int((existing or {}).get("_revision_seq") or 0)
    new_revision = not revisions or normalized(revisions[-1]["template"]) != normalized(template)
    if new_revision:
        seq += 1
        suffix = template.get("revisionSuffix") or f"{seq:07d}"
        rev_name = f"{name}--{suffix}"
        if any(r["name"].lower() == rev_name.lower() for r in revisions):
            raise CloudError(  # a revision's name (and so its suffix) is never reused
                400,
                "ContainerAppRevisionSuffixConflict",
                f"A revision named '{rev_name}' already exists; use another revisionSuffix.",
            )
        for r in revisions if not traffic.is_multiple(body) else ():
            r["active"] = False
        revisions.append(
            {
                "name": rev_name,
                "template": copy.deepcopy(template),
                "created": now(),
                "active": True,
                "state": "Provisioning",
            }
        )
    traffic.validate(body, revisions)  # weights, labels: refused as Azure does (traffic.py)
    body["_revisions"] = revisions
    body["_revision_seq"] = seq
    body["_fqdn"] = (existing or {}).get("_fqdn")
    latest = revisions[-1]["name"]
    props["latestRevisionName"] = latest
    props["latestReadyRevisionName"] = (existing or {}).get("properties", {}).get(
        "latestReadyRevisionName"
    ) or None
    props["outboundIpAddresses"] = ["127.0.0.1"]
    props["customDomainVerificationId"] = env["properties"]["customDomainConfiguration"][
        "customDomainVerificationId"
    ]
    props["workloadProfileName"] = props.get("workloadProfileName") or "Consumption"
    props["eventStreamEndpoint"] = (
        f"https://{body['location']}.{LOCAL_EVENTS_DOMAIN}/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}/containerApps/{name}/eventstream"
    )
    props["provisioningState"] = "InProgress"
    props["runningStatus"] = "Running"
    ingress = config.get("ingress")
    if ingress is not None:
        ingress.setdefault("external", False)
        ingress.setdefault("transport", "Auto")
        ingress.setdefault("allowInsecure", False)
        ingress.setdefault("traffic", [{"weight": 100, "latestRevision": True}])
        placeholder = f"{name}.{env['properties']['defaultDomain']}"
        ingress["fqdn"] = body["_fqdn"] or placeholder
        props["latestRevisionFqdn"] = f"{latest}.{env['properties']['defaultDomain']}"
    kind = "containerapp.create" if existing is None else "containerapp.update"
    # A PUT that creates no revision while the latest one failed to provision provisions it
    # again (its start, its Key Vault references: kv_refs), as a retried deploy expects.
    retry_failed = not new_revision and revisions[-1].get("state") == "Failed"
    op = lro.new_operation(
        st,
        eng.timing,
        kind,
        rid,
        location=body["location"],
        args={"new_revision": new_revision or retry_failed},
    )
    body["_op"] = op["id"]
    put_resource(st, body)
    return body, op


@router.route("PUT", APP_PATH)
def put_app(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        existing = st["resources"].get(key(app_rid(req)))
        body, op = _apply_app(eng, req, payload, existing, st)
    path = ops_path(req.params["sub"], body["location"], "containerappOperationStatuses", op["id"])
    headers = {
        "Azure-AsyncOperation": eng.op_url(path, req.api_version),
        **eng.lro_headers(),
    }
    return Response(200 if existing else 201, _app_public(body), headers)


@router.route("PATCH", APP_PATH)
def patch_app(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        existing = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        merged = _deep_merge(_app_public(existing), payload)
        if "tags" in payload:  # ARM PATCH replaces the tag set as a whole
            merged["tags"] = payload["tags"]
        body, op = _apply_app(eng, req, merged, existing, st)
    sub, loc = req.params["sub"], body["location"]
    headers = {
        "Azure-AsyncOperation": eng.op_url(
            ops_path(sub, loc, "containerappOperationStatuses", op["id"]), req.api_version
        ),
        "Location": eng.op_url(
            ops_path(sub, loc, "containerappOperationResults", op["id"]), req.api_version
        ),
        **eng.lro_headers(),
    }
    return Response(202, None, headers)


def _provision(eng: Engine, op: dict[str, Any]) -> None:
    """Finisher of create/update: (re)start the app when its revision changed, record its URL."""
    with eng.store.read() as st:
        app = st["resources"].get(key(op["resource_id"]))
        if app is None or app.get("_op") != op["id"]:
            eng.complete(op["id"])
            return
        app = copy.deepcopy(app)
        try:
            secrets, cache = kv_refs.replica_secrets(eng, st, app, now())
        except CloudError as e:
            _fail(eng, op, app["name"], e.message)
            return
    if eng.runner is not None and traffic.is_multiple(app) and not scaled_to_zero(app):
        traffic.provision(eng, op, app, secrets, cache, _fail)  # revisions side by side
        return
    fqdn = app.get("_fqdn")
    error: str | None = None
    with eng.runner_lock:
        if eng.runner is not None:
            if scaled_to_zero(app):
                eng.runner.stop(key(app["id"]))
                fqdn = None
            elif op["args"].get("new_revision") or not fqdn:
                try:
                    url = eng.runner.start(build_spec(app, secrets))
                    fqdn = urlsplit(url).netloc
                except AppStartError as e:
                    error = str(e)
                except Exception as e:  # a runner bug must surface as a failed provisioning
                    error = f"{type(e).__name__}: {e}"
    if error is not None:
        _fail(eng, op, app["name"], error)
        return
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is not None and r.get("_op") == op["id"]:
            props = r["properties"]
            r["_kv_cache"] = cache
            props["provisioningState"] = "Succeeded"
            props["latestReadyRevisionName"] = props["latestRevisionName"]
            props["runningStatus"] = "Stopped" if scaled_to_zero(r) else "Running"
            r["_revisions"][-1]["state"] = "Provisioned"
            if fqdn and eng.runner is not None:
                r["_fqdn"] = fqdn
                ingress = (props.get("configuration") or {}).get("ingress")
                if ingress is not None:
                    ingress["fqdn"] = fqdn
        lro.finish(st["operations"][op["id"]])


def _fail(eng: Engine, op: dict[str, Any], name: str, message: str) -> None:
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is not None and r.get("_op") == op["id"]:
            r["properties"]["provisioningState"] = "Failed"
            r["_revisions"][-1]["state"] = "Failed"
        lro.finish(
            st["operations"][op["id"]],
            {
                "code": "ContainerAppOperationError",
                # The wrapper Azure puts around a revision's provisioning error, the detail
                # ending in "." (microsoft/azure-container-apps#1061: "... Error details: The
                # following field(s) are either invalid or missing. ...';..").
                "message": f"Failed to provision revision for container app '{name}'. Error details: {message.rstrip()}.",  # noqa: E501
            },
        )


finisher("containerapp.create", slow=True)(_provision)
finisher("containerapp.update", slow=True)(_provision)


@router.route("GET", APP_PATH)
def get_app(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return Response(
            200,
            _app_public(
                must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
            ),
        )


@router.route("DELETE", APP_PATH)
def delete_app(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = app_rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        r["properties"]["provisioningState"] = "Deleting"
        op = lro.new_operation(st, eng.timing, "containerapp.delete", rid, location=r["location"])
    sub, loc = req.params["sub"], r["location"]
    headers = {
        "Azure-AsyncOperation": eng.op_url(
            ops_path(sub, loc, "containerappOperationStatuses", op["id"]), req.api_version
        ),
        "Location": eng.op_url(
            ops_path(sub, loc, "containerappOperationResults", op["id"]), req.api_version
        ),
        **eng.lro_headers(),
    }
    return Response(202, None, headers)


@finisher("containerapp.delete", slow=True)
def _finish_delete(eng: Engine, op: dict[str, Any]) -> None:
    if eng.runner is not None:
        with eng.store.read() as st:
            app = copy.deepcopy(st["resources"].get(key(op["resource_id"])))
        with eng.runner_lock:
            eng.runner.stop(key(op["resource_id"]))
            if app:
                traffic.stop_app(eng, app)
    with eng.store.write() as st:
        st["resources"].pop(key(op["resource_id"]), None)
        lro.finish(st["operations"][op["id"]])


@router.route("GET", RG + r"/providers/Microsoft.App/containerApps")
def list_apps(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        resp = list_of(st, req.params["sub"], APP_TYPE, req.params["rg"])
    resp.body["value"] = [_app_public(r) for r in resp.body["value"]]
    return resp


@router.route("POST", APP_PATH + r"/listSecrets")
def list_app_secrets(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        items = []
        for s in (app["properties"].get("configuration") or {}).get("secrets") or []:
            item: dict[str, Any] = {"name": s["name"]}
            if s.get("keyVaultUrl"):
                item["keyVaultUrl"] = s["keyVaultUrl"]
                item["identity"] = s.get("identity")
                principal = identity_principal(st, app, s.get("identity") or "")
                value = (
                    read_secret_as(eng, st, principal, s["keyVaultUrl"])[0] if principal else None
                )
                if value is not None:
                    item["value"] = value
            else:
                item["value"] = s.get("value")
            items.append(item)
    return Response(200, {"value": items})
