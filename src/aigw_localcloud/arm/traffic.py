"""Multiple-revision mode: traffic weights, labels, revisions side by side.

`configuration.activeRevisionsMode` and `configuration.ingress.traffic` (TrafficWeight:
revisionName | latestRevision, weight, label) and `template.revisionSuffix` are those of
azure-rest-api-specs specification/app/resource-manager/Microsoft.App/ContainerApps/stable/
2026-07-01/openapi.json (the api-version azure-mgmt-appcontainers 5.1.0 sends). What Azure
refuses, and so does this emulator (PUT/PATCH answer 400 before anything changes):

- the weights must add up to 100 ("The combined weight of all traffic split rules must equal
  100%": learn.microsoft.com/azure/container-apps/traffic-splitting);
- a label names one revision: labels are unique within the traffic list
  (learn.microsoft.com/azure/container-apps/revisions#labels, "az containerapp revision label
  add" moves a label rather than duplicating it);
- a revision named in the traffic list must exist. An inactive one is accepted, as on Azure
  ("az cli allows setting of ingress percentage to a deactivated revision":
  microsoft/azure-container-apps#1345; the ingress TrafficWeight of the spec has no such rule):
  its share then fails (Azure answers "Error 403 - This Container App is stopped or does not
  exist": microsoft/azure-container-apps#755, #301); here open_fronts closes those connections
  (the front passes TLS through and holds no certificate to answer a 403 with);
- each entry names exactly one of revisionName and latestRevision, weight 0..100;
- in single mode the traffic list and its labels do not route (traffic splitting needs
  multiple mode: .../traffic-splitting) and are not checked: Azure accepts them, e.g.
  Microsoft's own example ContainerApps_CreateOrUpdate.json (2026-07-01/examples) carries a
  label without asking for multiple mode (tests/localcloud/test_fidelity.py replays it).

The exact error codes Azure answers with are not documented; the code below is this emulator's.
"""

from __future__ import annotations

import copy
from typing import Any

from ..apps import front
from ..apps.app_container import build_spec
from ..core.endpoint import (
    NAMES_FILE,
    label_host,
    predicted_app_port,
    predicted_label_port,
    record_names,
    subscription_of,
)
from ..core.engine import Engine
from ..core.errors import CloudError
from ..core.util import key
from . import ingress_rules


def _bad(message: str) -> CloudError:
    return CloudError(400, "ContainerAppInvalidTrafficConfiguration", message)


def is_multiple(app: dict[str, Any]) -> bool:
    mode = (app["properties"].get("configuration") or {}).get("activeRevisionsMode") or "Single"
    return str(mode).lower() == "multiple"


def traffic_of(app: dict[str, Any]) -> list[dict[str, Any]]:
    ingress = (app["properties"].get("configuration") or {}).get("ingress") or {}
    return list(ingress.get("traffic") or [])


def validate(app: dict[str, Any], revisions: list[dict[str, Any]]) -> None:
    """Refuse a traffic list Azure refuses (see the module docstring)."""
    entries = traffic_of(app)
    if not is_multiple(app):
        return  # single mode: accepted and ignored (see the module docstring)
    by_name = {r["name"].lower(): r for r in revisions}
    total = 0
    labels: set[str] = set()
    for e in entries:
        weight = e.get("weight", 0)
        if not isinstance(weight, int) or not 0 <= weight <= 100:
            raise _bad(f"Traffic weight {weight!r} must be an integer from 0 to 100.")
        total += weight
        name, latest = e.get("revisionName"), bool(e.get("latestRevision"))
        if bool(name) == latest:
            raise _bad("Each traffic entry names either revisionName or latestRevision: true.")
        if name:
            rev = by_name.get(str(name).lower())
            if rev is None:
                raise _bad(f"Revision '{name}' named in the traffic configuration does not exist.")
        label = e.get("label")
        if label:
            if str(label).lower() in labels:
                raise _bad(f"Label '{label}' is assigned to more than one traffic entry.")
            labels.add(str(label).lower())
    if entries and total != 100:
        raise _bad(f"The traffic weights add up to {total}; they must add up to 100.")


def weights(app: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    """(revision name, weight, label) per traffic entry; latestRevision is the latest ready one
    ("the latest stable revision": TrafficWeight.latestRevision)."""
    props = app["properties"]
    latest = props.get("latestReadyRevisionName") or props.get("latestRevisionName")
    return [
        (str(e.get("revisionName") or latest), int(e.get("weight") or 0), e.get("label"))
        for e in traffic_of(app) or [{"latestRevision": True, "weight": 100}]
    ]


def revision_weight(app: dict[str, Any], rev_name: str) -> int:
    if not is_multiple(app):
        return 100 if _find(app, rev_name)["active"] else 0
    return sum(w for n, w, _ in weights(app) if n.lower() == rev_name.lower())


def _find(app: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in app["_revisions"] if r["name"].lower() == name.lower())


def rev_key(app: dict[str, Any], rev_name: str) -> str:
    """The runner's key for one revision's process."""
    return f"{key(app['id'])}/revisions/{rev_name.lower()}"


def _front_key(eng: Engine, app: dict[str, Any], label: str | None = None) -> str:
    return f"{id(eng)}|{key(app['id'])}" + (f"#{label.lower()}" if label else "")


def start_revisions(
    eng: Engine, app: dict[str, Any], secrets: dict[str, str], names: list[str]
) -> dict[str, int]:
    """Start each named revision as a process of its own (AppStartError if one fails);
    return revision name -> port. The caller holds eng.runner_lock."""
    assert eng.runner is not None
    ports: dict[str, int] = {}
    for name in names:
        rev = _find(app, name)
        one = copy.deepcopy(app)
        one["id"] = rev_key(app, name)  # the spec's app_key: this revision's process
        one["_fqdn"] = None
        one["properties"]["template"] = rev["template"]
        one["properties"]["latestRevisionName"] = name
        url = eng.runner.start(build_spec(one, secrets))
        ports[name] = int(url.rsplit(":", 1)[1].split("/")[0])
    return ports


def open_fronts(eng: Engine, app: dict[str, Any]) -> str:
    """Route the app's port by weight and each label's port to its revision; return the app's
    FQDN (127.0.0.1:<port>). An active revision without a running process (still starting,
    failed) gets no traffic; an inactive one keeps its share, which fails (front.NOWHERE: the
    connection is closed), as on Azure (see the module docstring)."""
    ports = {
        r["name"].lower(): r.get("port") if r["active"] else front.NOWHERE
        for r in app["_revisions"]
    }
    salt = subscription_of(app["id"])
    fqdn_port = _port(app.get("_fqdn")) or predicted_app_port(app["name"], salt)
    main = front.ensure(_front_key(eng, app), fqdn_port, app["name"])
    backends: dict[int, int] = {}
    labels: dict[str, int] = {}
    for name, weight, label in weights(app):
        port = ports.get(name.lower())
        if port is not None:
            backends[port] = backends.get(port, 0) + weight
            if label:
                labels[label.lower()] = port
    main.set_backends(list(backends.items()))
    gate = ingress_rules.gate(eng, app)  # who gets through (ingress_rules.py)
    tls = (eng.directory / "server.pem", eng.directory / "server.key")  # what revisions serve
    main.set_gate(gate, tls)
    prefix = _front_key(eng, app, "x")[:-1]
    names: dict[str, int | None] = {}
    for k in [k for k in _label_keys(prefix) if k[len(prefix) :] not in labels]:
        front.close(k)
        names[label_host(app["id"], k[len(prefix) :])] = None
    for label, port in labels.items():
        f = front.ensure(prefix + label, predicted_label_port(app["name"], label, salt), label)
        f.set_backends([(port, 100)])
        f.set_gate(gate, tls)  # a label URL is held to the app's ingress rules too
        names[label_host(app["id"], label)] = f.port  # the port bound, as DNS would answer
    if names:
        record_names(eng.directory, names)
    return f"127.0.0.1:{main.port}"


def _label_keys(prefix: str) -> list[str]:
    return [k for k in list(front._FRONTS) if k.startswith(prefix)]


def stop_revision(eng: Engine, app: dict[str, Any], name: str) -> None:
    if eng.runner is not None:
        eng.runner.stop(rev_key(app, name))


def stop_app(eng: Engine, app: dict[str, Any]) -> None:
    """Stop every revision process and close the app's fronts (delete, scale to zero)."""
    for r in app.get("_revisions") or []:
        stop_revision(eng, app, r["name"])
    prefix = _front_key(eng, app, "x")[:-1]
    gone = {label_host(app["id"], k[len(prefix) :]): None for k in _label_keys(prefix)}
    front.close(_front_key(eng, app))
    if gone:
        record_names(eng.directory, dict(gone))


def close_engine(eng: Engine) -> None:
    front.close(f"{id(eng)}|")
    (eng.directory / NAMES_FILE).unlink(missing_ok=True)  # no label URL answers any more


def _port(fqdn: str | None) -> int | None:
    host, _, port = (fqdn or "").rpartition(":")
    return int(port) if host == "127.0.0.1" and port.isdigit() else None


def provision(
    eng: Engine,
    op: dict[str, Any],
    app: dict[str, Any],
    secrets: dict[str, str],
    cache: Any,
    fail: Any,
) -> None:
    """Finisher of a PUT/PATCH in multiple mode: start each active revision that has no process
    yet (the new one; after a switch from single mode, the ones that were running), beside the
    others; then route. A new revision that fails to start fails the operation and gets no
    traffic: the revisions already running keep serving."""
    from ..core import lro
    from ..core.app_runner import AppStartError

    assert eng.runner is not None
    latest = app["properties"]["latestRevisionName"]
    todo = [r["name"] for r in app["_revisions"] if r["active"] and not r.get("port")]
    ports: dict[str, int] = {}
    error: str | None = None
    with eng.runner_lock:
        for name in todo:
            try:
                ports.update(start_revisions(eng, app, secrets, [name]))
            except AppStartError as e:
                if name == latest:
                    error = str(e)
            except Exception as e:  # a runner bug must surface as a failed provisioning
                if name == latest:
                    error = f"{type(e).__name__}: {e}"
        if ports or error is None:
            eng.runner.stop(key(app["id"]))  # a single-mode process on the app's port, if any
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is None or r.get("_op") != op["id"]:
            lro.finish(st["operations"][op["id"]])
            return
        for rev in r["_revisions"]:
            if rev["name"] in ports:
                rev["port"] = ports[rev["name"]]
                rev["state"] = "Provisioned"
        r["_fqdn"] = open_fronts(eng, r)
        props = r["properties"]
        ingress = (props.get("configuration") or {}).get("ingress")
        if ingress is not None:
            ingress["fqdn"] = r["_fqdn"]
        if error is None:
            r["_kv_cache"] = cache
            props["provisioningState"] = "Succeeded"
            if _find(r, latest)["state"] == "Provisioned":
                props["latestReadyRevisionName"] = latest
            props["runningStatus"] = "Running"
            lro.finish(st["operations"][op["id"]])
    if error is not None:
        fail(eng, op, app["name"], error)


def restart(eng: Engine, app: dict[str, Any], secrets: dict[str, str]) -> None:
    """At the local cloud's start (app_restart): run each active, provisioned revision again
    and route as before."""
    names = [r["name"] for r in app["_revisions"] if r["active"] and r["state"] == "Provisioned"]
    ports: dict[str, int] = {}
    with eng.runner_lock:
        for name in names:
            try:
                ports.update(start_revisions(eng, app, secrets, [name]))
            except Exception as e:  # that revision shows Stopped; the reason goes to the log
                print(f"localcloud: restarting {name} failed: {e}", flush=True)
    with eng.store.write() as st:
        r = st["resources"].get(key(app["id"]))
        if r is None or r["properties"].get("runningStatus") != "Progressing":
            return  # deleted or redeployed meanwhile: that operation decides
        for rev in r["_revisions"]:
            rev.pop("port", None)
            if rev["name"] in ports:
                rev["port"] = ports[rev["name"]]
        r["_fqdn"] = open_fronts(eng, r)
        r["properties"]["runningStatus"] = "Running" if ports else "Stopped"
        ingress = (r["properties"].get("configuration") or {}).get("ingress")
        if ingress is not None:
            ingress["fqdn"] = r["_fqdn"]
