"""The container apps' logs: the Log Analytics query API and Container Apps' log stream.

- `POST /v1/workspaces/{workspaceId}/query` with `{query, timespan}`: the Logs query API
  (Azure/azure-rest-api-specs specification/operationalinsights/data-plane/
  Microsoft.OperationalInsights/stable/v1/OperationalInsights.json, operation `Query_Execute`;
  example oms-post-example.json). Azure serves it at https://api.loganalytics.io/v1; here beside
  ARM. The answer is `{tables: [{name, columns: [{name, type}], rows}]}`. Only the KQL subset of
  kql.py is answered; any other query is a 400 `BadArgumentError` naming the unknown part.
- `POST .../containerApps/{name}/getAuthToken` (Microsoft.App, api-version 2025-01-01,
  ContainerApps_GetAuthToken: `{id, name, type: Microsoft.App/containerApps/accesstoken,
  location, properties: {token, expires}}`).
- `GET <eventStreamEndpoint>?tailLines=N&follow=true|false[&output=json]` with
  `Authorization: Bearer <that token>`: the app's *system* log stream (platform events), one
  JSON object a line, `{TimeStamp, Type, ContainerAppName, RevisionName, ReplicaName, Msg,
  Reason, EventSource, Count}`, after the two lines the stream always starts with
  (StartingGettingEvents, ConnectedToEventsServer) (learn.microsoft.com/azure/container-apps/
  troubleshooting, "View logs": `az containerapp logs show --type=system`; MicrosoftDocs/
  azure-docs articles/container-apps/troubleshooting.md). The events here are the ones the
  local cloud knows of: each running replica's AssigningReplica ("Replica '<r>' has been
  scheduled to run on a node.", learn.microsoft.com/azure/container-apps/tutorial-scaling) and
  ContainerCreated ("Created container <c>", the troubleshooting page). az refuses any output
  but json for system logs (Azure/azure-cli .../containerapp/custom.py
  `stream_containerapp_logs`); here any other `output` is a 400 (stricter: a client asking for
  text learns it gets JSON).
- `GET <base>/subscriptions/../containerApps/{app}/revisions/{rev}/replicas/{replica}/containers/
  {container}/logstream?tailLines=N&follow=..&output=text|json`, same token: one container's
  *console* (stdout/stderr) of one replica, the URL the az CLI builds for `--type console` and
  each replica container's `logStreamEndpoint` (revisions.py). It starts with Azure's two
  connect lines ("Connecting to the container '<c>'...", "Successfully Connected to container:
  '<c>' [Revision: '<rev>', Replica: '<replica>']"); output=json gives `{TimeStamp, Log}` a line
  (troubleshooting page, `--type=console`), text `<time>Z stdout F <line>` (the container
  runtime's line, as the Foundry hosted agents' logstream sample shows it:
  learn.microsoft.com/azure/ai-foundry/agents/how-to/deploy-hosted-agent). A replica that is
  not the revision's current one, a container not in it: 404.
- Both: Azure caps tailLines at 300 (az: "--tail must be between 0 and 300"); here more is a
  400 (stricter).
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..apps import console_logs
from ..core.engine import Engine, Router, decode_token
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.util import iso, key, now
from . import kql, log_analytics, revisions
from .common import NAME, RG, must_find

router = Router()  # ARM (authenticated by the engine)
data_router = Router()  # data plane: each handler authenticates
APP_TYPE = "Microsoft.App/containerApps"
APP_PATH = RG + r"/providers/Microsoft.App/containerApps/" + NAME
TOKEN_SECONDS = 3600
MAX_TAIL = 300
_tokens: dict[str, tuple[str, float]] = {}  # token -> (app id lower-cased, expiry)
_tokens_lock = threading.Lock()


def _aad_caller(req: Request) -> None:
    auth = req.headers.get("authorization", "")
    claims = decode_token(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
    if claims is None:
        raise CloudError(401, "AuthorizationRequiredError", "Valid authentication was not provided")


@data_router.route("POST", r"/v1/workspaces/(?P<ws>[^/]+)/query")
def query(eng: Engine, req: Request) -> Response:
    _aad_caller(req)
    ws = req.params["ws"].lower()
    with eng.store.read() as st:
        known = {
            str((r.get("properties") or {}).get("customerId", "")).lower()
            for r in st["resources"].values()
            if r["type"] == "Microsoft.OperationalInsights/workspaces"
        }
    if ws not in known:
        raise CloudError(404, "WorkspaceNotFoundError", f"Workspace '{ws}' was not found.")
    body = req.json()
    text = body.get("query") if isinstance(body, dict) else None
    try:
        parsed = kql.parse(text if isinstance(text, str) else "")
        at = datetime.now(UTC)
        since = kql.timespan_start(body.get("timespan"), at)
    except kql.KqlError as exc:
        return Response(
            400,
            {
                "error": {
                    "code": "BadArgumentError",
                    "message": f"The local cloud does not answer this query: {exc}",
                    "innererror": {"code": "SemanticError", "message": str(exc)},
                }
            },
        )
    # the table as Log Analytics has it: rows once ingested, Azure's 400 before the first
    return log_analytics.query_table(eng, ws, parsed, at=at, since=since)


@router.route("POST", APP_PATH + r"/getAuthToken")
def get_auth_token(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(
            st,
            f"/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}"
            f"/providers/Microsoft.App/containerApps/{req.params['name']}",
            APP_TYPE,
            req.params["name"],
            req.params["rg"],
        )
    token = secrets.token_urlsafe(32)
    expires = now() + TOKEN_SECONDS
    with _tokens_lock:
        for t in [t for t, (_, exp) in _tokens.items() if exp < now()]:
            _tokens.pop(t, None)
        _tokens[token] = (key(app["id"]), expires)
    return Response(
        200,
        {
            "id": app["id"],
            "name": app["name"],
            "type": "Microsoft.App/containerApps/accesstoken",
            "location": app["location"],
            "properties": {"token": token, "expires": iso(expires)},
        },
    )


def _bool(req: Request, name: str) -> bool:
    value = req.query.get(name, "false").lower()
    if value not in ("true", "false"):
        raise CloudError(400, "BadRequest", f"'{name}' must be true or false, not '{value}'")
    return value == "true"


_APP_DATA = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/containerApps/" + NAME


def _authorized_app(eng: Engine, req: Request) -> dict[str, Any]:
    """The app of the path, if the bearer token is one getAuthToken gave for it."""
    auth = req.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    app_id = (
        f"/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}"
        f"/providers/Microsoft.App/containerApps/{req.params['name']}"
    ).lower()
    with _tokens_lock:
        granted = _tokens.get(token)
    if granted is None or granted[0] != app_id or granted[1] < now():
        raise CloudError(401, "Unauthorized", "The log stream token is missing, expired or wrong.")
    with eng.store.read() as st:
        app = st["resources"].get(key(app_id))
    if app is None:
        raise CloudError(404, "ContainerAppNotFound", f"Container app '{req.params['name']}'.")
    return copy.deepcopy(app)


def _tail(req: Request) -> int:
    try:
        tail = int(req.query.get("tailLines", "20"))
    except ValueError as exc:
        raise CloudError(400, "BadRequest", "tailLines must be a whole number") from exc
    if not 0 <= tail <= MAX_TAIL:
        raise CloudError(400, "BadRequest", f"tailLines must be between 0 and {MAX_TAIL}")
    return tail


# ------------------------------------------------------------------ the system log stream
def _event(app: str | None, rev: str | None, replica: str | None, msg: str, reason: str,
           stamp: str, type_: str = "Normal") -> dict[str, Any]:  # fmt: skip
    return {
        "TimeStamp": stamp,
        "Type": type_,
        "ContainerAppName": app,
        "RevisionName": rev,
        "ReplicaName": replica,
        "Msg": msg,
        "Reason": reason,
        "EventSource": "ContainerAppController",
        "Count": 1,
    }


def _k8s_time(ts: float) -> str:
    """Platform events carry Kubernetes' time format: `2023-10-06 21:41:33 +0000 UTC`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def system_events(app: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """(time, event) for what the local cloud knows happened to the app's running replicas,
    oldest first."""
    out: list[tuple[float, dict[str, Any]]] = []
    for rev in app.get("_revisions") or []:
        for replica in revisions.replicas(app, rev):
            at = float(rev.get("restarted", rev["created"]))
            stamp = _k8s_time(at)
            out.append(
                (
                    at,
                    _event(
                        app["name"],
                        rev["name"],
                        replica,
                        f"Replica '{replica}' has been scheduled to run on a node.",
                        "AssigningReplica",
                        stamp,
                    ),
                )
            )
            for c in revisions.container_names(rev):
                out.append(
                    (
                        at,
                        _event(
                            app["name"],
                            rev["name"],
                            replica,
                            f"Created container {c}",
                            "ContainerCreated",
                            stamp,
                        ),
                    )
                )
    out.sort(key=lambda pair: pair[0])
    return out


def _preamble() -> list[dict[str, Any]]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        _event(
            None,
            None,
            None,
            "Connecting to the events collector...",
            "StartingGettingEvents",
            stamp,
        ),
        _event(
            None,
            None,
            None,
            "Successfully connected to events server",
            "ConnectedToEventsServer",
            stamp,
        ),
    ]


@data_router.route("GET", _APP_DATA + r"/eventstream")
def event_stream(eng: Engine, req: Request) -> Response:
    app = _authorized_app(eng, req)
    tail = _tail(req)
    follow = _bool(req, "follow")
    output = req.query.get("output", "json")
    if output != "json":
        raise CloudError(400, "BadRequest", "The system log stream is JSON only: output=json")
    app_key = key(app["id"])

    def lines() -> Iterator[bytes]:
        for e in _preamble():
            yield (json.dumps(e) + "\n").encode()
        events = [e for _, e in system_events(app)]
        seen = {json.dumps(e, sort_keys=True) for e in events}
        for e in events[len(events) - tail :] if tail else []:
            yield (json.dumps(e) + "\n").encode()
        while follow:
            time.sleep(0.2)
            yield b""  # idle: the server checks whether the client is still there
            with eng.store.read() as st:
                current = st["resources"].get(app_key)
                current = copy.deepcopy(current) if current is not None else None
            if current is None:
                return
            for _, e in system_events(current):
                k = json.dumps(e, sort_keys=True)
                if k not in seen:
                    seen.add(k)
                    yield (json.dumps(e) + "\n").encode()

    return Response(200, headers={"Content-Type": "text/plain; charset=utf-8"}, stream=lines())


# ------------------------------------------------------------ a replica's console stream
@data_router.route(
    "GET",
    _APP_DATA
    + r"/revisions/(?P<rev>[^/]+)/replicas/(?P<replica>[^/]+)/containers/(?P<container>[^/]+)"
    + r"/logstream",
)
def console_stream(eng: Engine, req: Request) -> Response:
    app = _authorized_app(eng, req)
    tail = _tail(req)
    follow = _bool(req, "follow")
    output = req.query.get("output", "text")
    if output not in ("text", "json"):
        raise CloudError(400, "BadRequest", "output must be text or json")
    p = req.params
    rev = next((r for r in app["_revisions"] if r["name"].lower() == p["rev"].lower()), None)
    if rev is None:
        raise CloudError(404, "ContainerAppRevisionNotFound", f"Revision '{p['rev']}' not found.")
    replica = next(
        (r for r in revisions.replicas(app, rev) if r.lower() == p["replica"].lower()), None
    )
    if replica is None:
        raise CloudError(
            404, "ContainerAppReplicaNotFound", f"Replica '{p['replica']}' was not found."
        )
    container = next(
        (c for c in revisions.container_names(rev) if c.lower() == p["container"].lower()), None
    )
    if container is None:
        raise CloudError(
            404, "ContainerAppContainerNotFound", f"Container '{p['container']}' was not found."
        )
    path = console_logs.revision_file(eng, app["id"], rev["name"])
    if path is None:
        raise CloudError(
            404, "ContainerAppReplicaNotFound", f"Replica '{replica}' has written no output."
        )
    connect = [
        f"Connecting to the container '{container}'...",
        f"Successfully Connected to container: '{container}' [Revision: '{rev['name']}', "
        f"Replica: '{replica}']",
    ]
    stream = _lines(path, tail, follow, output, connect)
    return Response(200, headers={"Content-Type": "text/plain; charset=utf-8"}, stream=stream)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _format(line: str, output: str) -> bytes:
    if output == "json":
        return (json.dumps({"TimeStamp": _stamp() + "Z", "Log": line}) + "\n").encode()
    return f"{_stamp()}Z stdout F {line}\n".encode()


def _connect_line(line: str, output: str) -> bytes:
    if output == "json":
        return (json.dumps({"TimeStamp": _stamp(), "Log": line}) + "\n").encode()
    return f"{_stamp()}  {line}\n".encode()


def _lines(path: Path, tail: int, follow: bool, output: str, connect: list[str]) -> Iterator[bytes]:
    for line in connect:
        yield _connect_line(line, output)
    with open(path, "rb") as fh:
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        lines = data[:cut].decode("utf-8", errors="replace").splitlines()
        for line in lines[len(lines) - tail :] if tail else []:
            yield _format(line, output)
        fh.seek(cut)
        pending = b""
        while follow:
            chunk = fh.read()
            if not chunk:
                time.sleep(0.2)
                yield b""  # idle: the server checks whether the client is still there
                continue
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                yield _format(raw.decode("utf-8", errors="replace"), output)
