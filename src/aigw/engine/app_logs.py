"""The gateway's console output, read from Azure: usage lines through Log Analytics, and the
live log stream of the container app. SDKs are imported inside the functions.

- Usage: the environment sends the app's stdout to its Log Analytics workspace (table
  `ContainerAppConsoleLogs_CL`, learn.microsoft.com/azure/container-apps/log-monitoring);
  `LogsQueryClient.query_workspace` (azure-monitor-query, the Logs query API v1) runs USAGE_KQL
  against the workspace's customerId (its `customer_id` from the management API).
- Logs: `POST .../containerApps/{name}/getAuthToken` (Microsoft.App ContainerApps_GetAuthToken,
  through azure-mgmt-appcontainers), then `GET <eventStreamEndpoint>?tailLines=N&follow=...
  &output=text[&revision=R]` with `Authorization: Bearer <token>`
  (learn.microsoft.com/azure/container-apps/log-streaming; the app's `eventStreamEndpoint`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from aigw.errors import AzureError, UserError
from aigw.redact import redact

MAX_TAIL = 300  # Container Apps' log stream serves at most 300 past lines


# Key-shaped text a log line may carry whatever process wrote it: bearer tokens and sk- keys.
_KEYISH = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\bsk-[A-Za-z0-9_-]{8,}")


def mask_line(line: str, *extra: str) -> str:
    """A console line with every secret this process knows (aigw.redact), `extra`, bearer
    tokens and sk- keys replaced by ***."""
    masked = redact(line, extra)
    return _KEYISH.sub(lambda m: (m.group(1) or "") + "***", masked)


def usage_kql(app_name: str) -> str:
    """The query aigw sends (the local cloud answers exactly this shape: aigw_localcloud/kql)."""
    return (
        "ContainerAppConsoleLogs_CL"
        f" | where ContainerAppName_s == {json.dumps(app_name)}"
        ' | where Log_s startswith "{\\"aigw_usage\\""'
        " | project TimeGenerated, Log_s"
    )


def parse_since(text: str) -> timedelta:
    """`7d`, `12h`, `30m` -> a timedelta; anything else is bad input (exit 2)."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    value, unit = text[:-1], text[-1:]
    if unit not in units or not value.isdigit() or int(value) <= 0:
        raise UserError(
            f"--since {text!r} is not a duration", hint="use a number and d, h or m, e.g. 7d"
        )
    return timedelta(**{units[unit]: int(value)})


def _names(session: Any) -> tuple[str, str, str]:
    names = session.config.names()
    return names.resource_group, names.log_analytics, names.container_app


def _azure_error(what: str, exc: Exception) -> AzureError:
    message = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
    return AzureError(f"{what}: {redact(message)}", hint="is the environment deployed?")


def workspace_customer_id(session: Any) -> str:
    from azure.core.exceptions import HttpResponseError

    rg, workspace, _ = _names(session)
    try:
        ws = session.ctx.clients.loganalytics().workspaces.get(rg, workspace)
    except HttpResponseError as exc:
        raise _azure_error(f"Log Analytics workspace {workspace}", exc) from exc
    return str(ws.customer_id)


def usage_lines(session: Any, since: timedelta) -> list[str]:
    """The usage lines (Log_s) of the gateway's app in the last `since`."""
    from azure.core.exceptions import HttpResponseError
    from azure.monitor.query import LogsQueryClient, LogsQueryStatus

    target = session.target
    customer_id = workspace_customer_id(session)
    kw: dict[str, Any] = {}
    if target.local:
        kw["endpoint"] = target.base_url
    if target.ca_file:
        kw["connection_verify"] = str(target.ca_file)
    _, _, app = _names(session)
    client = LogsQueryClient(target.credential, **kw)
    try:
        result = client.query_workspace(customer_id, usage_kql(app), timespan=since)
    except HttpResponseError as exc:
        raise _azure_error("Log Analytics query", exc) from exc
    finally:
        client.close()
    if result.status != LogsQueryStatus.SUCCESS:
        raise AzureError("Log Analytics answered a partial result", hint="try a shorter --since")
    lines: list[str] = []
    for table in result.tables:
        column = list(table.columns).index("Log_s")
        lines.extend(str(row[column]) for row in table.rows)
    return lines


def stream_url(session: Any, endpoint: str, query: dict[str, str]) -> str:
    """The log stream URL; under the local cloud the endpoint's host is the local cloud's own
    (its `*.localhost` names are never looked up)."""
    if session.target.local:
        parts = urlsplit(endpoint)
        endpoint = f"{session.target.base_url}{parts.path}"
    return f"{endpoint}?{urlencode(query)}"


def log_stream(session: Any, *, tail: int, follow: bool, revision: str | None) -> Iterator[str]:
    """Lines of the app's console log stream, secrets masked."""
    import httpx
    from azure.core.exceptions import HttpResponseError

    if not 0 <= tail <= MAX_TAIL:
        raise UserError(f"--tail {tail} is out of range", hint=f"use 0..{MAX_TAIL}")
    rg, _, app_name = _names(session)
    apps = session.ctx.clients.apps()
    try:
        app = apps.container_apps.get(rg, app_name)
        token = apps.container_apps.get_auth_token(rg, app_name).token
    except HttpResponseError as exc:
        raise _azure_error(f"container app {app_name}", exc) from exc
    if not app.event_stream_endpoint:
        raise AzureError(f"container app {app_name} has no log stream endpoint")
    query = {"tailLines": str(tail), "follow": str(follow).lower(), "output": "text"}
    if revision:
        query["revision"] = revision
    url = stream_url(session, app.event_stream_endpoint, query)
    verify: Any = str(session.target.ca_file) if session.target.ca_file else True
    timeout = httpx.Timeout(30.0, read=None if follow else 60.0)
    with (
        httpx.Client(verify=verify, timeout=timeout, trust_env=not session.target.local) as c,
        c.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        if r.status_code != 200:
            body = mask_line(r.read().decode(errors="replace")[:300], token)
            raise AzureError(f"log stream: HTTP {r.status_code}: {body}")
        for line in r.iter_lines():
            yield mask_line(line, token)
