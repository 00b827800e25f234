"""`aigw usage`'s Log Analytics query: the gateway's usage lines from the workspace's
`ContainerAppConsoleLogs_CL`, as Azure keeps that table. SDKs are imported inside the functions.

Three things of Azure's shape it (each pinned by the local cloud, aigw_localcloud/arm/
log_analytics.py, and tests/engine/test_usage_ingestion_e2e.py):

- The table exists only once the first console line of the environment arrived, minutes after a
  first deploy (microsoft/azure-container-apps#185, #450). A query before is a 400 whose
  innermost error is SEM0100 "'where' operator: Failed to resolve table or column expression
  named 'ContainerAppConsoleLogs_CL'" (the Logs query API's errorResponse, Azure/
  azure-rest-api-specs specification/operationalinsights/data-plane/Microsoft.OperationalInsights/
  stable/v1/OperationalInsights.json; CDCgov/prime-reportstream#11773 shows the body). That is
  "no usage yet", not an error.
- Rows arrive late: "The average latency to ingest log data is between 20 seconds and 3 minutes"
  (learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time). aigw says how old the
  newest usage row is (its TimeGenerated) and that the latest calls may be missing.
- An environment with `logAnalyticsConfiguration.dynamicJsonColumns: true` stores a JSON console
  line as one column per key, `Log_<key>_<type>` (`_s` string, `_d` real, `_b` bool, `_t`
  datetime, `_g` guid), with `Log_s` empty (microsoft/azure-container-apps#754;
  learn.microsoft.com/azure/azure-monitor/logs/data-collector-api for the suffixes). A column
  exists only once a row had it, and naming a missing one is a 400 (SEM0100 "Failed to resolve
  scalar expression", microsoft/azure-container-apps#1018), so the query reads both shapes
  through `column_ifexists` (learn.microsoft.com/kusto/query/column-ifexists-function) and the
  line is rebuilt from the columns when `Log_s` is empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aigw.errors import AzureError
from aigw.redact import redact
from aigw.resources import names_of

TABLE = "ContainerAppConsoleLogs_CL"
MARKER = "aigw_usage"
MARKER_COLUMN = f"Log_{MARKER}_d"  # the usage line's marker under dynamicJsonColumns
# The guard's line for a request it refused (gateway/files/aigw_guard.py log_refusal): counted
# too, so a refused call is not invisible in `aigw usage`.
REFUSED = "aigw_refused"
REFUSED_COLUMN = f"Log_{REFUSED}_d"
_DYNAMIC = re.compile(r"Log_(\w+)_([sdbtg])")
INGESTION_NOTE = (
    "Log Analytics shows a console line 20 s to 3 min after it is written (on Azure), "
    "so the latest calls may not be counted yet"
)
NO_TABLE_NOTE = (
    f"the Log Analytics workspace has no {TABLE} table yet: Log Analytics creates it with the "
    "gateway's first console line, minutes after a first deploy"
)


def usage_kql(app_name: str) -> str:
    """The query aigw sends (the local cloud answers exactly this shape: aigw_localcloud/kql)."""
    return (
        TABLE
        + f" | where ContainerAppName_s == {json.dumps(app_name)}"
        + ' | where column_ifexists("Log_s", "") startswith "{\\"aigw_usage\\""'
        + f' or isnotnull(column_ifexists("{MARKER_COLUMN}", real(null)))'
        + ' or column_ifexists("Log_s", "") startswith "{\\"aigw_refused\\""'
        + f' or isnotnull(column_ifexists("{REFUSED_COLUMN}", real(null)))'
    )


@dataclass(frozen=True)
class UsageRows:
    """What the workspace holds: the usage lines, the newest row's TimeGenerated, and whether
    the table exists at all (False: nothing was ingested yet)."""

    lines: list[str]
    newest: datetime | None
    table_exists: bool = True

    def newest_age(self, now: datetime | None = None) -> timedelta | None:
        if self.newest is None:
            return None
        return (now or datetime.now(UTC)) - self.newest


def _plain(value: Any, suffix: str) -> Any:
    if suffix == "d" and isinstance(value, float) and value.is_integer():
        return int(value)
    if suffix == "t" and isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def line_of(row: Mapping[str, Any]) -> str | None:
    """The console line a query row carries: `Log_s`, or, when dynamicJsonColumns emptied it,
    the JSON object rebuilt from the row's `Log_<key>_<type>` columns (marker first, as the
    gateway writes it). None for a row that is neither."""
    text = row.get("Log_s")
    if isinstance(text, str) and text:
        return text
    marker = next((m for m, c in ((MARKER, MARKER_COLUMN), (REFUSED, REFUSED_COLUMN))
                   if row.get(c) is not None), None)  # fmt: skip
    if marker is None:
        return None
    record: dict[str, Any] = {}
    for name, value in row.items():
        m = _DYNAMIC.fullmatch(name)
        if m is None or name == "Log_s" or value is None or value == "":
            continue
        record[m.group(1)] = _plain(value, m.group(2))
    return json.dumps({marker: record.pop(marker), **record}, separators=(",", ":"))


def table_missing(exc: Exception) -> bool:
    """Whether a query error is Log Analytics not knowing ContainerAppConsoleLogs_CL (400,
    SEM0100 "Failed to resolve table [or column] expression named '...'")."""
    if getattr(exc, "status_code", None) != 400:
        return False
    response = getattr(exc, "response", None)
    try:
        text = response.text() if response is not None else str(exc)
    except Exception:  # a body that cannot be read: the message is all there is
        text = str(exc)
    return "Failed to resolve table" in text and f"named '{TABLE}'" in text


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return _when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def rows_of(tables: Any) -> UsageRows:
    """The query answer's tables as UsageRows."""
    lines: list[str] = []
    newest: datetime | None = None
    for table in tables:
        columns = list(table.columns)
        for values in table.rows:
            row = dict(zip(columns, values, strict=False))
            line = line_of(row)
            if line is None:
                continue
            lines.append(line)
            when = _when(row.get("TimeGenerated"))
            if when is not None and (newest is None or when > newest):
                newest = when
    return UsageRows(lines, newest)


def _error(what: str, exc: Exception) -> AzureError:
    message = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
    return AzureError(f"{what}: {redact(message)}", hint="is the environment deployed?")


def fetch(session: Any, since: timedelta) -> UsageRows:
    """The gateway app's usage rows of the last `since`."""
    from azure.core.exceptions import HttpResponseError
    from azure.monitor.query import LogsQueryClient, LogsQueryStatus

    names = names_of(session.config)
    target = session.target
    try:
        ws = session.ctx.clients.loganalytics().workspaces.get(
            names.resource_group, names.log_analytics
        )
    except HttpResponseError as exc:
        raise _error(f"Log Analytics workspace {names.log_analytics}", exc) from exc
    kw: dict[str, Any] = {}
    if target.local:
        kw["endpoint"] = target.base_url
    if target.ca_file:
        kw["connection_verify"] = str(target.ca_file)
    client = LogsQueryClient(target.credential, **kw)
    try:
        result = client.query_workspace(
            str(ws.customer_id), usage_kql(names.container_app), timespan=since
        )
    except HttpResponseError as exc:
        if table_missing(exc):
            return UsageRows([], None, table_exists=False)
        raise _error("Log Analytics query", exc) from exc
    finally:
        client.close()
    if result.status != LogsQueryStatus.SUCCESS:
        raise AzureError("Log Analytics answered a partial result", hint="try a shorter --since")
    return rows_of(result.tables)


def age_text(age: timedelta) -> str:
    """`45 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`."""
    s = max(0, int(age.total_seconds()))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
