"""The subset of KQL the local Log Analytics answers (pure: a parser and an evaluator).

Azure answers any KQL; the local cloud answers exactly the shapes aigw sends and refuses every
other query with a 400 naming what it does not know (stricter than Azure):

    ContainerAppConsoleLogs_CL
    | where <string column> == "<text>"          (also !=, startswith, contains)
    | where TimeGenerated > ago(<n>d|h|m|s)      (also >=)
    | project <column>, <column>, ...
    | order by TimeGenerated asc|desc            (also sort by)
    | take <n>                                   (also limit)

String literals are KQL's: "..." or '...' with backslash escapes (learn.microsoft.com/kusto/
query/scalar-data-types/string). The table and its columns are Container Apps' console logs
sent to a Log Analytics workspace (`ContainerAppConsoleLogs_CL`, learn.microsoft.com/azure/
container-apps/log-monitoring; string columns end in `_s`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

TABLE = "ContainerAppConsoleLogs_CL"
# column -> Log Analytics type (the query API's `columns[].type`)
COLUMNS: dict[str, str] = {
    "TimeGenerated": "datetime",
    "ContainerAppName_s": "string",
    "EnvironmentName_s": "string",
    "RevisionName_s": "string",
    "ContainerName_s": "string",
    "ContainerImage_s": "string",
    "ContainerGroupName_s": "string",
    "Stream_s": "string",
    "Log_s": "string",
    "_ResourceId": "string",
    "Type": "string",
}
SUPPORTED = (
    f'{TABLE} | where <column> ==|!=|startswith|contains "text" | where TimeGenerated '
    "> ago(7d) | project <columns> | order by TimeGenerated asc|desc | take <n>"
)
_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

Row = Mapping[str, Any]


class KqlError(ValueError):
    """A query outside the subset; the message says which part and what is supported."""


@dataclass
class Query:
    filters: list[Callable[[Row, datetime], bool]] = field(default_factory=list)
    project: list[str] = field(default_factory=lambda: list(COLUMNS))
    order: str | None = None
    take: int | None = None


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _split_pipes(text: str) -> list[str]:
    parts, start, i = [], 0, 0
    while i < len(text):
        m = re.compile(_STRING).match(text, i)
        if m:
            i = m.end()
            continue
        if text[i] == "|":
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return parts


def _column(name: str, stage: str) -> str:
    if name not in COLUMNS:
        raise KqlError(f"unknown column '{name}' in '{stage}' (known: {', '.join(COLUMNS)})")
    return name


def _where(stage: str) -> Callable[[Row, datetime], bool]:
    m = re.fullmatch(r"where\s+(\w+)\s*(==|!=|startswith|contains)\s*(" + _STRING + r")", stage)
    if m:
        col = _column(m.group(1), stage)
        if COLUMNS[col] != "string":
            raise KqlError(f"'{stage}': {col} is not a string column")
        op, value = m.group(2), _unquote(m.group(3))
        tests: dict[str, Callable[[str], bool]] = {
            "==": lambda s: s == value,
            "!=": lambda s: s != value,
            # KQL's startswith and contains are case-insensitive.
            "startswith": lambda s: s.lower().startswith(value.lower()),
            "contains": lambda s: value.lower() in s.lower(),
        }
        test = tests[op]
        return lambda row, now: test(str(row.get(col) or ""))
    m = re.fullmatch(r"where\s+TimeGenerated\s*(>=|>)\s*ago\(\s*(\d+)\s*([dhms])\s*\)", stage)
    if m:
        since = timedelta(seconds=int(m.group(2)) * _UNITS[m.group(3)])
        strict = m.group(1) == ">"

        def recent(row: Row, now: datetime) -> bool:
            t = parse_time(str(row["TimeGenerated"]))
            return t > now - since if strict else t >= now - since

        return recent
    raise KqlError(f"unsupported filter '{stage}' (supported: {SUPPORTED})")


def parse(text: str) -> Query:
    """The query as data, or KqlError naming the first part outside the subset."""
    if not isinstance(text, str) or not text.strip():
        raise KqlError("the query is empty")
    stages = _split_pipes(" ".join(text.split()))
    if stages[0] != TABLE:
        raise KqlError(f"unknown table '{stages[0]}': the local cloud has only {TABLE}")
    q = Query()
    for stage in stages[1:]:
        word = stage.split(" ", 1)[0]
        if word == "where":
            q.filters.append(_where(stage))
        elif word == "project":
            names = [n.strip() for n in stage[len("project") :].split(",")]
            q.project = [_column(n, stage) for n in names if n] or q.project
        elif word in ("order", "sort"):
            m = re.fullmatch(r"(?:order|sort)\s+by\s+TimeGenerated(?:\s+(asc|desc))?", stage)
            if not m:
                raise KqlError(f"unsupported '{stage}' (only: order by TimeGenerated asc|desc)")
            q.order = m.group(1) or "desc"  # KQL sorts descending by default
        elif word in ("take", "limit"):
            m = re.fullmatch(r"(?:take|limit)\s+(\d+)", stage)
            if not m:
                raise KqlError(f"unsupported '{stage}' (take <n>)")
            q.take = int(m.group(1))
        else:
            raise KqlError(f"unsupported operator '{word}' (supported: {SUPPORTED})")
    return q


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def timespan_start(timespan: str | None, now: datetime) -> datetime | None:
    """The start of an ISO 8601 duration timespan (`P7D`, `PT12H`, `P1DT2H`) before `now`, or
    of `<start>/<end>`; None when absent. Azure's query API takes both (spec: stable/v1
    OperationalInsights.json, `timespan`)."""
    if not timespan:
        return None
    if "/" in timespan:
        start = timespan.split("/", 1)[0]
        try:
            return parse_time(start)
        except ValueError:
            pass
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", timespan)
    if not m or not any(m.groups()):
        raise KqlError(f"timespan '{timespan}' is not an ISO 8601 duration (e.g. P7D, PT12H)")
    d, h, mi, s = (float(g or 0) for g in m.groups())
    return now - timedelta(days=d, hours=h, minutes=mi, seconds=s)


def run(
    query: Query, rows: Iterable[Row], *, now: datetime | None = None, since: datetime | None = None
) -> dict[str, Any]:
    """The query API's answer body: one table `PrimaryResult` with typed columns and rows."""
    now = now or datetime.now(UTC)
    picked = [
        r
        for r in rows
        if (since is None or parse_time(str(r["TimeGenerated"])) >= since)
        and all(f(r, now) for f in query.filters)
    ]
    if query.order is not None:
        picked.sort(key=lambda r: str(r["TimeGenerated"]), reverse=query.order == "desc")
    if query.take is not None:
        picked = picked[: query.take]
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": c, "type": COLUMNS[c]} for c in query.project],
                "rows": [[r.get(c) for c in query.project] for r in picked],
            }
        ]
    }
