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
- `GET <eventStreamEndpoint>?tailLines=N&follow=true|false&output=text&revision=R&container=C`
  with `Authorization: Bearer <that token>`: the app's console log stream
  (learn.microsoft.com/azure/container-apps/log-streaming; the app's `eventStreamEndpoint`
  property). Azure caps tailLines at 300; here more is a 400 (stricter).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..apps import console_logs
from ..core.engine import Engine, Router, decode_token
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.util import iso, key, now
from . import kql
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
    console_logs.ingest(eng)
    return Response(200, kql.run(parsed, console_logs.rows(eng, ws), now=at, since=since))


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


@data_router.route(
    "GET",
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/containerApps/"
    + NAME
    + r"/eventstream",
)
def event_stream(eng: Engine, req: Request) -> Response:
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
    try:
        tail = int(req.query.get("tailLines", "20"))
    except ValueError as exc:
        raise CloudError(400, "BadRequest", "tailLines must be a whole number") from exc
    if not 0 <= tail <= MAX_TAIL:
        raise CloudError(400, "BadRequest", f"tailLines must be between 0 and {MAX_TAIL}")
    follow = _bool(req, "follow")
    output = req.query.get("output", "text")
    if output not in ("text", "json"):
        raise CloudError(400, "BadRequest", "output must be text or json")
    with eng.store.read() as st:
        app = st["resources"].get(key(app_id))
    if app is None:
        raise CloudError(404, "ContainerAppNotFound", f"Container app '{req.params['name']}'.")
    props = app.get("properties") or {}
    revision = req.query.get("revision") or props.get("latestReadyRevisionName") or ""
    files = dict(console_logs.app_files(eng, app_id))
    path = files.get(revision)
    if path is None:
        raise CloudError(404, "RevisionNotFound", f"No running replica of revision '{revision}'.")
    container = req.query.get("container") or console_logs._container(app)
    stream = _lines(path, tail, follow, output, revision, container)
    ctype = "text/plain; charset=utf-8" if output == "text" else "application/x-ndjson"
    return Response(200, headers={"Content-Type": ctype}, stream=stream)


def _format(line: str, output: str, revision: str, container: str) -> bytes:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if output == "json":
        rec = {"TimeStamp": stamp, "Log": line, "Revision": revision, "Container": container}
        return (json.dumps(rec) + "\n").encode()
    return f"{stamp} {line}\n".encode()


def _lines(
    path: Path, tail: int, follow: bool, output: str, revision: str, container: str
) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        lines = data[:cut].decode("utf-8", errors="replace").splitlines()
        for line in lines[len(lines) - tail :] if tail else []:
            yield _format(line, output, revision, container)
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
                yield _format(raw.decode("utf-8", errors="replace"), output, revision, container)
