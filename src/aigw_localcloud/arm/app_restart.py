"""At start, the local cloud runs every active revision again: its LiteLLM processes died with
the previous cloud process, while on Azure an app's active revision keeps running (replicas
are restarted by the platform). Until the process answers, the app reports runningStatus
"Progressing" (ContainerApp properties.runningStatus: Progressing, Running, Stopped,
Suspended, Ready; azure-rest-api-specs specification/app/resource-manager/Microsoft.App/
stable/2025-01-01/ContainerApps.json), never "Running"."""

from __future__ import annotations

import copy
import threading
from typing import Any
from urllib.parse import urlsplit

from ..apps.app_container import build_spec, resolve_secrets, scaled_to_zero
from ..core.engine import Engine
from ..core.errors import CloudError
from ..core.util import key
from . import traffic
from .microsoft_app import APP_TYPE


def restart_active_apps(eng: Engine) -> list[threading.Thread]:
    """Start each provisioned, not scaled-to-zero app in a thread of its own; return them."""
    if eng.runner is None:
        return []
    todo: list[tuple[dict[str, Any], dict[str, str]]] = []
    with eng.store.write() as st:
        for r in st["resources"].values():
            props = r["properties"]
            if r["type"] != APP_TYPE or props.get("provisioningState") != "Succeeded":
                continue
            if scaled_to_zero(r):
                continue
            try:
                secrets = resolve_secrets(eng, st, r)
            except CloudError:
                props["runningStatus"] = "Stopped"  # its secrets cannot be read any more
                continue
            props["runningStatus"] = "Progressing"
            for rev in r.get("_revisions") or []:
                rev.pop("port", None)  # its process died with the previous cloud
            todo.append((copy.deepcopy(r), secrets))
    threads = [
        threading.Thread(target=_start, args=(eng, app, secrets), daemon=True, name="app-restart")
        for app, secrets in todo
    ]
    for t in threads:
        t.start()
    return threads


def _start(eng: Engine, app: dict[str, Any], secrets: dict[str, str]) -> None:
    runner = eng.runner
    assert runner is not None
    if traffic.is_multiple(app):
        traffic.restart(eng, app, secrets)  # each active revision, then the routes
        return
    fqdn: str | None = None
    with eng.runner_lock:
        try:
            fqdn = urlsplit(runner.start(build_spec(app, secrets))).netloc
        except Exception as e:  # the app shows Stopped; the reason goes to the daemon's log
            print(f"localcloud: restarting {app['name']} failed: {e}", flush=True)
    with eng.store.write() as st:
        r = st["resources"].get(key(app["id"]))
        if r is None or r["properties"].get("runningStatus") != "Progressing":
            return  # deleted or redeployed meanwhile: that operation decides
        r["properties"]["runningStatus"] = "Running" if fqdn else "Stopped"
        if fqdn:
            r["_fqdn"] = fqdn
            ingress = (r["properties"].get("configuration") or {}).get("ingress")
            if ingress is not None:
                ingress["fqdn"] = fqdn
