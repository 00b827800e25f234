"""Microsoft.OperationalInsights: workspaces (body-polled create) and their shared keys; and
the workspace's `ContainerAppConsoleLogs_CL` table as the Logs query API sees it
(`query_table`, called by app_logs.py's `POST /v1/workspaces/{id}/query`):

- The table exists only once its first row arrived: Log Analytics creates a custom log table
  (`_CL`) with its first record (learn.microsoft.com/azure/azure-monitor/logs/data-collector-api,
  "Record type and properties"; microsoft/azure-container-apps#185: "Sometimes it takes 10
  minutes for the table to load upon initial env creation", #450). A query before is a 400
  (errorResponse of the Logs query API, Azure/azure-rest-api-specs specification/
  operationalinsights/data-plane/Microsoft.OperationalInsights/stable/v1/OperationalInsights.json;
  the body as Azure sends it, CDCgov/prime-reportstream#11773:
  `{error: {message: "The request had some invalid properties", code: "BadArgumentError",
  correlationId, innererror: {code: "SemanticError", message: "A semantic error occurred.",
  innererror: {code: "SEM0100", message: "'where' operator: Failed to resolve table or column
  expression named 'X'"}}}}`; a bare table query names the `'table'` operator and "table
  expression", microsoft/azure-container-apps#1530).
- Ingestion latency: a row is visible only `ingestion_delay` seconds (the state's
  `ingestion_delay`, `set_ingestion_delay`; else $AIGW_LOCALCLOUD_INGESTION_DELAY, which the
  daemon keeps; default 0) after its TimeGenerated, which stays the time the line was
  collected, not the time it became visible (learn.microsoft.com/azure/azure-monitor/logs/
  data-ingestion-time: "The average latency to ingest log data is between 20 seconds and 3
  minutes"; TimeGenerated is the time the record was created). The delay applies at query
  time, so changing it shows or hides rows already collected.
- dynamicJsonColumns (Microsoft.App managedEnvironments `appLogsConfiguration.
  logAnalyticsConfiguration.dynamicJsonColumns`, added in api-version 2023-08-01-preview,
  Azure/azure-rest-api-specs#26432; not in stable 2025-07-01 ManagedEnvironments.json; az CLI
  `--logs-dynamic-json-columns`): a console line that is a JSON object is lifted into one column
  per key, `Log_<key>_<type>`, and `Log_s` is left empty (microsoft/azure-container-apps#754:
  "`Log_msg_s`, `Log_pid_d`, `Log_context_s`. And `Log_s` column will be empty"). The type
  suffixes are the custom log ones (data-collector-api, "Record type and properties"): `_s`
  string, `_d` double (`real`), `_b` boolean, `_t` date/time, `_g` GUID-shaped strings; a null
  property makes no column. Not verified, so chosen here: an ISO 8601 string with a time is
  `_t`; a nested object or array is its JSON text in `_s`; characters outside [A-Za-z0-9_] in a
  key become `_`. Not emulated: the 500-column limit of a table (microsoft/azure-container-apps
  #938).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from ..apps import console_logs
from ..core import lro
from ..core.engine import Engine, Router, finish_provisioning, finisher
from ..core.http import Request, Response
from ..core.util import guid, iso, key, now
from . import kql
from .common import (
    NAME,
    RG,
    SUB,
    async_poll,
    build_tracked,
    list_of,
    location_poll,
    must_find,
    ok,
    put_resource,
    resource_id,
)
from .locations import GENERAL, provides

router = Router()
NS = "Microsoft.OperationalInsights"
TYPE = "Microsoft.OperationalInsights/workspaces"
provides(NS, "workspaces", GENERAL)
provides(NS, "locations/operationStatuses")
PATH = RG + r"/providers/Microsoft.OperationalInsights/workspaces/" + NAME


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "workspaces", p["name"])


def _key() -> str:
    return base64.b64encode(os.urandom(64)).decode()


@router.route("PUT", PATH)
def put_workspace(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        body = build_tracked(req, rid, TYPE, req.params["name"], payload, existing)
        props: dict[str, Any] = body["properties"]
        old: dict[str, Any] = (existing or {}).get("properties", {})
        props.setdefault("sku", {"name": "PerGB2018"})
        props.setdefault("retentionInDays", 30)
        props.setdefault("publicNetworkAccessForIngestion", "Enabled")
        props.setdefault("publicNetworkAccessForQuery", "Enabled")
        props["customerId"] = old.get("customerId") or guid()
        props["createdDate"] = old.get("createdDate") or iso()
        props["modifiedDate"] = iso()
        props["features"] = {
            "legacy": 0,
            "searchVersion": 1,
            "enableLogAccessUsingOnlyResourcePermissions": True,
        }
        props["workspaceCapping"] = {
            "dailyQuotaGb": -1.0,
            "quotaNextResetTime": iso(now() + 86400),
            "dataIngestionStatus": "RespectQuota",
        }
        body["_keys"] = (existing or {}).get("_keys") or [_key(), _key()]
        op = lro.new_operation(st, eng.timing, "workspace.create", rid, location=body["location"])
        props["provisioningState"] = "Creating" if op["due"] > now() else "Succeeded"
        if op["due"] <= now():
            lro.finish(op)
        body["_op"] = op["id"]
        put_resource(st, body)
    # Azure answers 200/201 with provisioningState; the SDK polls the resource (body polling).
    headers = eng.lro_headers()
    return ok(body, 200 if existing else 201, headers)


finisher("workspace.create")(finish_provisioning)


@router.route("GET", PATH)
def get_workspace(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        r = must_find(
            st,
            _rid(req),
            "Microsoft.OperationalInsights/workspaces",
            req.params["name"],
            req.params["rg"],
        )
        op = st["operations"].get(r.get("_op", ""))
        if op is not None:
            lro.mark_observed(op)
        return ok(r)


@router.route("PATCH", PATH)
def patch_workspace(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        if "tags" in payload:
            r["tags"] = payload["tags"] or {}
        r["properties"].update({k: v for k, v in (payload.get("properties") or {}).items()})
        return ok(r)


@router.route("DELETE", PATH)
def delete_workspace(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = _rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        r["properties"]["provisioningState"] = "Deleting"
        op = lro.new_operation(st, eng.timing, "workspace.delete", rid, location=r["location"])
    sub = req.params["sub"]
    async_path = f"/subscriptions/{sub}/providers/{NS}/locations/{r['location']}/operationstatuses/{op['id']}"  # noqa: E501
    location = f"{rid}/operationresults/{op['id']}"
    headers = {
        "Azure-AsyncOperation": eng.op_url(async_path, req.api_version),
        "Location": eng.op_url(location, req.api_version),
        **eng.lro_headers(),
    }
    return Response(202, None, headers)


@finisher("workspace.delete")
def _finish_delete(eng: Engine, op: dict[str, Any]) -> None:
    with eng.store.write() as st:
        st["resources"].pop(key(op["resource_id"]), None)
        lro.finish(st["operations"][op["id"]])


@router.route(
    "GET",
    SUB
    + r"/providers/Microsoft.OperationalInsights/locations/[^/]+/operationstatuses/(?P<op>[^/]+)",
)
def workspace_op_status(eng: Engine, req: Request) -> Response:
    return async_poll(eng, req, req.params["op"])


@router.route("GET", PATH + r"/operationresults/(?P<op>[^/]+)")
def workspace_op_result(eng: Engine, req: Request) -> Response:
    return location_poll(eng, req, req.params["op"])


@router.route("POST", PATH + r"/sharedKeys")
def shared_keys(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        return Response(
            200, {"primarySharedKey": r["_keys"][0], "secondarySharedKey": r["_keys"][1]}
        )


@router.route("GET", RG + r"/providers/Microsoft.OperationalInsights/workspaces")
def list_workspaces(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])


# ----------------------------------------------------------------- the console log table
HIDDEN = "__"  # stored keys with this prefix are the local cloud's, never a column
DYNAMIC_FLAG = console_logs.DYNAMIC_JSON_KEY
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
SUFFIX_TYPES = {"s": "string", "d": "real", "b": "bool", "t": "datetime", "g": "guid"}


def _typed(value: Any) -> tuple[str, Any] | None:
    """(suffix, value) of one JSON property as a custom log column; None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "b", value
    if isinstance(value, int | float):
        return "d", float(value)
    if isinstance(value, str):
        if _GUID.fullmatch(value):
            return "g", value
        if _ISO_TIME.fullmatch(value):
            return "t", value
        return "s", value
    return "s", json.dumps(value, separators=(",", ":"))


def split_json_line(row: dict[str, Any]) -> dict[str, Any]:
    """The row as an environment with dynamicJsonColumns stores it: a JSON-object line lifted
    into `Log_<key>_<type>` columns with `Log_s` empty; any other line unchanged."""
    try:
        data = json.loads(str(row.get("Log_s") or ""))
    except ValueError:
        return row
    if not isinstance(data, dict):
        return row
    out = {**row, "Log_s": ""}
    for k, v in data.items():
        typed = _typed(v)
        if typed is not None:
            out[f"Log_{re.sub(r'[^A-Za-z0-9_]', '_', str(k))}_{typed[0]}"] = typed[1]
    return out


def _public(row: dict[str, Any]) -> dict[str, Any]:
    shaped = split_json_line(row) if row.get(DYNAMIC_FLAG) else row
    return {k: v for k, v in shaped.items() if not k.startswith(HIDDEN)}


def visible_rows(
    rows: Iterable[dict[str, Any]], now: datetime, delay: float
) -> Iterator[dict[str, Any]]:
    """The rows ingested by `now`: generated at least `delay` seconds before it."""
    cutoff = now - timedelta(seconds=max(0.0, delay))
    for row in rows:
        if kql.parse_time(str(row["TimeGenerated"])) <= cutoff:
            yield _public(row)


def schema_of(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The table's columns: Container Apps' own, then each `Log_<key>_<type>` one a row has."""
    schema = dict(kql.COLUMNS)
    for row in rows:
        for name in row:
            if name not in schema:
                suffix = name.rsplit("_", 1)[-1]
                schema[name] = SUFFIX_TYPES.get(suffix, "string")
    return schema


def semantic_error(exc: kql.SemanticError) -> Response:
    """Azure's 400 for a name the query cannot resolve (see the module docstring)."""
    return Response(
        400,
        {
            "error": {
                "message": "The request had some invalid properties",
                "code": "BadArgumentError",
                "correlationId": guid(),
                "innererror": {
                    "code": "SemanticError",
                    "message": "A semantic error occurred.",
                    "innererror": {"code": "SEM0100", "message": str(exc)},
                },
            }
        },
    )


INGESTION_DELAY_ENV = "AIGW_LOCALCLOUD_INGESTION_DELAY"
# Azure: "between 20 seconds and 3 minutes" (learn.microsoft.com/azure/azure-monitor/logs/
# data-ingestion-time); scaled down by default, never zero (issue 23 #6).
DEFAULT_INGESTION_DELAY = 1.0


def ingestion_delay(eng: Engine) -> float:
    """Seconds between a line's TimeGenerated and its row becoming visible: the state's
    `ingestion_delay` (set_ingestion_delay), else $AIGW_LOCALCLOUD_INGESTION_DELAY, else
    DEFAULT_INGESTION_DELAY."""
    with eng.store.read() as st:
        stored = (st or {}).get("ingestion_delay")
    if stored is not None:
        return max(0.0, float(stored))
    try:
        return max(0.0, float(os.environ.get(INGESTION_DELAY_ENV) or DEFAULT_INGESTION_DELAY))
    except ValueError:
        return DEFAULT_INGESTION_DELAY  # a bad value: the local cloud's default


def set_ingestion_delay(eng: Engine, seconds: float | None) -> None:
    """Kept in the state, so a daemon sharing the directory sees it at its next query; None
    goes back to $AIGW_LOCALCLOUD_INGESTION_DELAY or DEFAULT_INGESTION_DELAY."""
    with eng.store.write() as st:
        if seconds is None:
            st.pop("ingestion_delay", None)
        else:
            st["ingestion_delay"] = max(0.0, float(seconds))


def query_table(
    eng: Engine, customer_id: str, query: kql.Query, *, at: datetime, since: datetime | None
) -> Response:
    """The Logs query API's answer for the workspace `customer_id` at `at`."""
    console_logs.ingest(eng)
    rows = list(visible_rows(console_logs.rows(eng, customer_id), at, ingestion_delay(eng)))
    try:
        if not rows:  # no row ingested yet: no table
            op = query.first_operator
            what = "table expression" if op == "table" else "table or column expression"
            raise kql.SemanticError(op, what, kql.TABLE)
        return Response(200, kql.run(query, rows, now=at, since=since, schema=schema_of(rows)))
    except kql.SemanticError as exc:
        return semantic_error(exc)
