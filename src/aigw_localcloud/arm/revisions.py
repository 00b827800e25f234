"""Container app revisions: list, get, restart, activate, deactivate (the runner restarts,
starts and stops the revisions' processes for real; traffic.py routes between them)."""

from __future__ import annotations

import copy
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
from .microsoft_app import APP_PATH, APP_TYPE, app_rid

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
            "replicas": 1 if rev["active"] and not scaled_to_zero(app) else 0,
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
# traffic is refused here; Azure accepts it and the share then goes nowhere
# (microsoft/azure-container-apps#1345): stricter, so aigw never leaves traffic on nothing.
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
        if not activate and traffic.revision_weight(app, rev["name"]) > 0:
            raise CloudError(
                400,
                "ContainerAppRevisionHasTraffic",
                f"Revision '{rev['name']}' still receives traffic; move it first.",
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
