"""Container app revisions: list, get, restart (the runner restarts the app for real)."""

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
            "trafficWeight": 100 if rev["active"] else 0,
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
    if active and eng.runner is not None and not scaled_to_zero(snapshot):
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
