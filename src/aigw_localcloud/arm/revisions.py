"""Container app revisions: list, get, restart, activate, deactivate (the runner restarts,
starts and stops the revisions' processes for real; traffic.py routes between them), and their
replicas (list, get: each with its containers' console `logStreamEndpoint`)."""

from __future__ import annotations

import copy
import hashlib
import threading
from typing import Any
from urllib.parse import urlsplit

from ..apps.app_container import build_spec, scaled_to_zero
from ..apps.kv_refs import replica_secrets
from ..core.engine import Engine, Router
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.util import iso, key, now
from . import traffic
from .common import (
    must_find,
)
from .microsoft_app import APP_PATH, APP_TYPE, LOCAL_EVENTS_DOMAIN, app_rid

router = Router()


def _revision_body(app: dict[str, Any], rev: dict[str, Any]) -> dict[str, Any]:
    env_domain = (app["properties"].get("latestRevisionFqdn") or "x.").split(".", 1)[-1]
    return {
        "id": f"{app['id']}/revisions/{rev['name']}",
        "name": rev["name"],
        "type": "Microsoft.App/containerApps/revisions",
        "properties": {
            "active": rev["active"],
            "createdTime": iso(rev["created"]),
            "lastActiveTime": iso(rev.get("restarted", rev["created"])),
            "fqdn": f"{rev['name']}.{env_domain}",
            "replicas": 1 if has_replica(app, rev) else 0,
            "template": rev["template"],
            "trafficWeight": traffic.revision_weight(app, rev["name"]) if rev["active"] else 0,
            "healthState": "Healthy" if rev["state"] == "Provisioned" else "None",
            "provisioningState": rev["state"],
            "runningState": (
                "Running"
                if rev["state"] == "Provisioned"
                else "Failed"
                if rev["state"] == "Failed"
                else "Processing"
            )
            if rev["active"]
            else "Stopped",
        },
    }


@router.route("GET", APP_PATH + r"/revisions")
def list_revisions(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        return Response(
            200, {"value": [_revision_body(app, r) for r in app["_revisions"]], "nextLink": None}
        )


def _find_revision(app: dict[str, Any], name: str) -> dict[str, Any]:
    for r in app["_revisions"]:
        if r["name"].lower() == name.lower():
            return r
    raise CloudError(404, "ContainerAppRevisionNotFound", f"Revision '{name}' not found.")


@router.route("GET", APP_PATH + r"/revisions/(?P<rev>[^/]+)")
def get_revision(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        return Response(200, _revision_body(app, _find_revision(app, req.params["rev"])))


# ---------------------------------------------------------------------------- replicas
# GET .../revisions/{revisionName}/replicas and .../replicas/{replicaName}
# (ContainerAppsRevisionReplicas_ListReplicas, _GetReplica: azure-rest-api-specs
# specification/app/resource-manager/Microsoft.App/ContainerApps/stable/2026-07-01/openapi.json;
# example stable/2025-01-01/examples/Replicas_Get.json). A replica is
# `{id, name, type, properties: {createdTime, runningState, runningStateDetails, containers: [
# {name, containerId, ready, started, restartCount, runningState, runningStateDetails,
# logStreamEndpoint, execEndpoint}], initContainers}}`; its name is the revision's plus the pod's
# two hashes (`myapp--0wlqy09-5d9774cff-5wnd8` in that example). The az CLI reads console logs
# from a replica's container: `containerapp logs show` lists the replicas (first one by
# default) and GETs `<base of eventStreamEndpoint>/subscriptions/../containerApps/{app}/revisions/
# {rev}/replicas/{replica}/containers/{container}/logstream` (Azure/azure-cli src/azure-cli/
# azure/cli/command_modules/containerapp/_validators.py `_set_ssh_defaults`, custom.py
# `stream_containerapp_logs`). Here a revision runs one process, so one replica while it is
# active and not scaled to zero (its `replicas` count says the same); a restart is a new pod,
# so a new replica name. The example's type `Microsoft.Web/containerapps/...` is taken for a
# slip of the example: revisions here (and on Azure) are `Microsoft.App/containerApps/...`.
REPLICA_TYPE = "Microsoft.App/containerApps/revisions/replicas"


def has_replica(app: dict[str, Any], rev: dict[str, Any]) -> bool:
    return bool(rev["active"]) and not scaled_to_zero(app)


def _replica_started(rev: dict[str, Any]) -> float:
    return float(rev.get("restarted", rev["created"]))


def replica_name(app: dict[str, Any], rev: dict[str, Any]) -> str:
    """`<revision>-<9 hex>-<5 chars>`, stable for one run of the revision's process."""
    digest = hashlib.sha256(
        f"{key(app['id'])}|{rev['name']}|{_replica_started(rev)!r}".encode()
    ).hexdigest()
    return f"{rev['name']}-{digest[:9]}-{digest[9:14]}"


def container_names(rev: dict[str, Any]) -> list[str]:
    return [str(c.get("name") or "") for c in (rev["template"].get("containers") or [])]


def replicas(app: dict[str, Any], rev: dict[str, Any]) -> list[str]:
    """The names of the revision's replicas (none when inactive or scaled to zero)."""
    return [replica_name(app, rev)] if has_replica(app, rev) else []


def log_stream_endpoint(
    app: dict[str, Any], rev: dict[str, Any], replica: str, container: str
) -> str:
    """The console log stream of one container of one replica: the host of the app's
    `eventStreamEndpoint`, the path the az CLI builds (see above)."""
    events = str(app["properties"].get("eventStreamEndpoint") or "")
    base = events[: events.index("/subscriptions/")] if "/subscriptions/" in events else ""
    if not base:
        base = f"https://{app['location']}.{LOCAL_EVENTS_DOMAIN}"
    sub_rg = app["id"].split("/providers/")[0]
    return (
        f"{base}{sub_rg}/containerApps/{app['name']}/revisions/{rev['name']}"
        f"/replicas/{replica}/containers/{container}/logstream"
    )


def _replica_body(app: dict[str, Any], rev: dict[str, Any], replica: str) -> dict[str, Any]:
    running = rev["state"] == "Provisioned"
    state = "Running" if running else "Waiting" if rev["state"] == "Provisioning" else "Terminated"
    containers = []
    for name in container_names(rev):
        cid = hashlib.sha256(f"{replica}|{name}".encode()).hexdigest()
        containers.append(
            {
                "name": name,
                "containerId": f"containerd://{cid}",
                "ready": running,
                "started": running,
                "restartCount": 0,
                "runningState": state,
                "runningStateDetails": state,
                "logStreamEndpoint": log_stream_endpoint(app, rev, replica, name),
                # Not served here (no exec into the local process): see docs/fidelity.md.
                "execEndpoint": log_stream_endpoint(app, rev, replica, name)
                .replace("https://", "wss://", 1)
                .removesuffix("/logstream")
                + "/exec",
            }
        )
    return {
        "id": f"{app['id']}/revisions/{rev['name']}/replicas/{replica}",
        "name": replica,
        "type": REPLICA_TYPE,
        "properties": {
            "createdTime": iso(_replica_started(rev)),
            "runningState": "Running" if running else "NotRunning",
            "runningStateDetails": "Running" if running else rev["state"],
            "containers": containers,
            "initContainers": [],
        },
    }


@router.route("GET", APP_PATH + r"/revisions/(?P<rev>[^/]+)/replicas")
def list_replicas(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        rev = _find_revision(app, req.params["rev"])
        return Response(200, {"value": [_replica_body(app, rev, r) for r in replicas(app, rev)]})


@router.route("GET", APP_PATH + r"/revisions/(?P<rev>[^/]+)/replicas/(?P<replica>[^/]+)")
def get_replica(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        rev = _find_revision(app, req.params["rev"])
        for name in replicas(app, rev):
            if name.lower() == req.params["replica"].lower():
                return Response(200, _replica_body(app, rev, name))
    raise CloudError(
        404,
        "ContainerAppReplicaNotFound",
        f"Replica '{req.params['replica']}' of revision '{rev['name']}' was not found.",
    )


def _record_fqdn(eng: Engine, app_id: str, fqdn: str) -> None:
    with eng.store.write() as st:
        r = st["resources"].get(key(app_id))
        if r is None:
            return
        r["_fqdn"] = fqdn
        ingress = (r["properties"].get("configuration") or {}).get("ingress")
        if ingress is not None:
            ingress["fqdn"] = fqdn


@router.route("POST", APP_PATH + r"/revisions/(?P<rev>[^/]+)/restart")
def restart_revision(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        rev = _find_revision(app, req.params["rev"])
        rev["restarted"] = now()
        snapshot = copy.deepcopy(app)
        active = rev["active"]
        secrets: dict[str, str] = {}
        if active and eng.runner:
            # The restarted replica gets the app's copy of its Key Vault references (a
            # versionless one is re-read only on the platform's schedule: see kv_refs).
            try:
                secrets, app["_kv_cache"] = replica_secrets(eng, st, snapshot, now())
            except CloudError:
                secrets = {}
    if active and eng.runner is not None and traffic.is_multiple(snapshot):
        threading.Thread(
            target=_restart_one, args=(eng, snapshot, rev["name"], secrets), daemon=True
        ).start()
    elif active and eng.runner is not None and not scaled_to_zero(snapshot):
        runner = eng.runner

        def _restart() -> None:
            with eng.runner_lock:
                try:
                    url = runner.start(build_spec(snapshot, secrets))
                except Exception:  # the revision shows unhealthy; nothing to report to the caller
                    return
            _record_fqdn(eng, snapshot["id"], urlsplit(url).netloc)

        threading.Thread(target=_restart, daemon=True, name="revision-restart").start()
    return Response(200, None)


def _restart_one(eng: Engine, app: dict[str, Any], name: str, secrets: dict[str, str]) -> None:
    """Multiple mode: restart one revision's process, then route to its (new) port."""
    with eng.runner_lock:
        try:
            port = traffic.start_revisions(eng, app, secrets, [name])[name]
        except Exception:  # the revision shows unhealthy; nothing to report to the caller
            return
    with eng.store.write() as st:
        r = st["resources"].get(key(app["id"]))
        if r is not None:
            for rev in r["_revisions"]:
                if rev["name"] == name and rev["active"]:
                    rev["port"] = port
            traffic.open_fronts(eng, r)


# POST .../revisions/{revisionName}/activate and /deactivate (ContainerAppsRevisions_
# ActivateRevision, _DeactivateRevision: azure-rest-api-specs specification/app/
# resource-manager/Microsoft.App/ContainerApps/stable/2026-07-01/openapi.json; 200, no body).
# Only in multiple mode: in single mode the platform decides which revision is active
# (learn.microsoft.com/azure/container-apps/revisions). Deactivating a revision that still has
# traffic is accepted, as on Azure: the spec states no precondition (200 or the default
# ErrorResponse), and Azure lets even the only active revision, with all the traffic, be
# deactivated (microsoft/azure-container-apps#1345). Its share then fails: Azure answers it
# "Error 403 - This Container App is stopped or does not exist" (microsoft/azure-container-apps
# #755 for an app with no active revision, #301, microsoft/vscode-azurecontainerapps#299);
# here that share's connections are closed (traffic.open_fronts). aigw checks this itself
# before it deactivates (resources/revision_traffic.py).
@router.route("POST", APP_PATH + r"/revisions/(?P<rev>[^/]+)/(?P<verb>activate|deactivate)")
def set_revision_active(eng: Engine, req: Request) -> Response:
    activate = req.params["verb"] == "activate"
    with eng.store.write() as st:
        app = must_find(st, app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        rev = _find_revision(app, req.params["rev"])
        if not traffic.is_multiple(app):
            raise CloudError(
                400,
                "ContainerAppRevisionModeSingle",
                "Revisions can be activated or deactivated in multiple revision mode only.",
            )
        if rev["active"] == activate:
            return Response(200, None)
        rev["active"] = activate
        port = rev.pop("port", None)
        snapshot = copy.deepcopy(app)
        secrets: dict[str, str] = {}
        if activate and eng.runner is not None:
            try:
                secrets, app["_kv_cache"] = replica_secrets(eng, st, snapshot, now())
            except CloudError:
                secrets = {}
        if not activate:
            traffic.open_fronts(eng, app)
    if not activate and port is not None:
        with eng.runner_lock:
            traffic.stop_revision(eng, snapshot, rev["name"])
    if activate and eng.runner is not None:
        _restart_one(eng, snapshot, rev["name"], secrets)
    return Response(200, None)
