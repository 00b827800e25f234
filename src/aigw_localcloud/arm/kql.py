"""The subset of KQL the local Log Analytics answers (pure: a parser and an evaluator).

Azure answers any KQL; the local cloud answers exactly the shapes aigw sends and refuses every
other query with a 400 naming what it does not know (stricter than Azure):

    ContainerAppConsoleLogs_CL
    | where <cond> [or <cond> ...]
    | where TimeGenerated > ago(<n>d|h|m|s)      (also >=)
    | project <column>, <column>, ...
    | order by TimeGenerated asc|desc            (also sort by)
    | take <n>                                   (also limit)

    <cond>:   <col> ==|!=|startswith|contains "<text>"  |  isnotnull(<col>)  |  isnotempty(<col>)
    <col>:    <column name>  |  column_ifexists("<name>", "<text>"|real(null))

String literals are KQL's: "..." or '...' with backslash escapes (learn.microsoft.com/kusto/
query/scalar-data-types/string); `column_ifexists` is learn.microsoft.com/kusto/query/
column-ifexists-function (the column, or the default where the table has no such column). The
table and its columns are Container Apps' console logs sent to a Log Analytics workspace
(`ContainerAppConsoleLogs_CL`, learn.microsoft.com/azure/container-apps/log-monitoring; string
columns end in `_s`), plus the `Log_<key>_<type>` columns of an environment with
dynamicJsonColumns (console_logs.py, log_analytics.py).

Parsing checks the syntax only; columns are resolved when the query runs, against the columns
the table has then (`run(schema=...)`): a column the table does not have is Azure's semantic
error SEM0100 "Failed to resolve scalar expression named '<name>'" (`SemanticError`, answered as
Azure answers it by log_analytics.py; microsoft/azure-container-apps#1018 shows it for a
ContainerAppConsoleLogs_CL column).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

TABLE = "ContainerAppConsoleLogs_CL"
# column -> Log Analytics type (the query API's `columns[].type`): the columns every row has
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
    f'{TABLE} | where <column> ==|!=|startswith|contains "text" [or ...] | where TimeGenerated '
    "> ago(7d) | project <columns> | order by TimeGenerated asc|desc | take <n>"
)
_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_COLREF = (
    r"(?:column_ifexists\(\s*(?:"
    + _STRING
    + r")\s*,\s*(?:"
    + _STRING
    + r"|real\(null\))\s*\)|"
    + _NAME
    + r")"
)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

Row = Mapping[str, Any]
Schema = Mapping[str, str]  # column -> type: the table's columns when the query runs


class KqlError(ValueError):
    """A query outside the subset; the message says which part and what is supported."""


class SemanticError(KqlError):
    """A name the table does not resolve: Azure's SEM0100, `'<operator>' operator: Failed to
    resolve <what> named '<name>'`."""

    def __init__(self, operator: str, what: str, name: str) -> None:
        self.operator, self.what, self.name = operator, what, name
        super().__init__(f"'{operator}' operator: Failed to resolve {what} named '{name}'")


@dataclass(frozen=True)
class ColRef:
    name: str
    optional: bool = False  # column_ifexists: absent column -> default
    default: Any = None


@dataclass
class Query:
    filters: list[Callable[[Row, datetime], bool]] = field(default_factory=list)
    project: list[str] | None = None  # None: every column of the table
    order: str | None = None
    take: int | None = None
    refs: list[tuple[str, ColRef]] = field(default_factory=list)  # (operator, column)
    first_operator: str = "table"  # the operator after the table, as Azure's errors name it


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _split_outside_strings(text: str, sep: str) -> list[str]:
    """`text` split at `sep` (a regex) where it is not inside a string literal."""
    parts, start, i = [], 0, 0
    string, separator = re.compile(_STRING), re.compile(sep)
    while i < len(text):
        m = string.match(text, i)
        if m:
            i = m.end()
            continue
        s = separator.match(text, i)
        if s and s.end() > i:
            parts.append(text[start:i].strip())
            start = i = s.end()
            continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def _split_pipes(text: str) -> list[str]:
    return _split_outside_strings(text, r"\|")


def _colref(text: str) -> ColRef:
    m = re.fullmatch(
        r"column_ifexists\(\s*(" + _STRING + r")\s*,\s*(" + _STRING + r"|real\(null\))\s*\)", text
    )
    if m:
        default = None if m.group(2) == "real(null)" else _unquote(m.group(2))
        return ColRef(_unquote(m.group(1)), optional=True, default=default)
    return ColRef(text)


def _value(ref: ColRef, row: Row) -> Any:
    return row.get(ref.name, ref.default if ref.optional else None)


def _condition(cond: str, stage: str, q: Query) -> Callable[[Row, datetime], bool]:
    m = re.fullmatch(r"(" + _COLREF + r")\s*(==|!=|startswith|contains)\s*(" + _STRING + r")", cond)
    if m:
        ref = _colref(m.group(1))
        q.refs.append(("where", ref))
        op, value = m.group(2), _unquote(m.group(3))
        tests: dict[str, Callable[[str], bool]] = {
            "==": lambda s: s == value,
            "!=": lambda s: s != value,
            # KQL's startswith and contains are case-insensitive.
            "startswith": lambda s: s.lower().startswith(value.lower()),
            "contains": lambda s: value.lower() in s.lower(),
        }
        test = tests[op]
        return lambda row, now: test(str(_value(ref, row) or ""))
    m = re.fullmatch(r"(isnotnull|isnotempty)\(\s*(" + _COLREF + r")\s*\)", cond)
    if m:
        ref = _colref(m.group(2))
        q.refs.append(("where", ref))
        if m.group(1) == "isnotnull":
            return lambda row, now: _value(ref, row) is not None
        return lambda row, now: _value(ref, row) not in (None, "")
    m = re.fullmatch(r"TimeGenerated\s*(>=|>)\s*ago\(\s*(\d+)\s*([dhms])\s*\)", cond)
    if m:
        since = timedelta(seconds=int(m.group(2)) * _UNITS[m.group(3)])
        strict = m.group(1) == ">"

        def recent(row: Row, now: datetime) -> bool:
            t = parse_time(str(row["TimeGenerated"]))
            return t > now - since if strict else t >= now - since

        return recent
    raise KqlError(f"unsupported filter '{stage}' (supported: {SUPPORTED})")


def _where(stage: str, q: Query) -> Callable[[Row, datetime], bool]:
    conds = _split_outside_strings(stage[len("where") :].strip(), r"\s+or\s+")
    tests = [_condition(c, stage, q) for c in conds]
    return lambda row, now: any(t(row, now) for t in tests)


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
        if q.first_operator == "table":
            q.first_operator = {"sort": "order", "limit": "take"}.get(word, word)
        if word == "where":
            q.filters.append(_where(stage, q))
        elif word == "project":
            names = [n.strip() for n in stage[len("project") :].split(",")]
            for n in names:
                if n and not re.fullmatch(_NAME, n):
                    raise KqlError(f"unsupported '{stage}' (project <column>, <column>)")
            q.project = [n for n in names if n] or q.project
            q.refs.extend(("project", ColRef(n)) for n in q.project or [])
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
    query: Query,
    rows: Iterable[Row],
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    schema: Schema | None = None,
) -> dict[str, Any]:
    """The query API's answer body: one table `PrimaryResult` with typed columns and rows.
    `schema`: the table's columns (default: COLUMNS); a column the query names that the table
    lacks (and not through column_ifexists) is a SemanticError."""
    now = now or datetime.now(UTC)
    schema = schema if schema is not None else COLUMNS
    for operator, ref in query.refs:
        if ref.name not in schema and not ref.optional:
            raise SemanticError(operator, "scalar expression", ref.name)
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
    columns = query.project if query.project is not None else list(schema)
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": c, "type": schema[c]} for c in columns],
                "rows": [[r.get(c) for c in columns] for r in picked],
            }
        ]
    }
