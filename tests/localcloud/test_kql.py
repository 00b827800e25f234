"""The local Log Analytics' KQL (aigw_localcloud/arm/kql.py) on plain rows: the operators and
functions the alert rules use (extend, parse_json and member access, to*() conversions,
summarize count()/countif()/sum()/max() [by ...], bin(), startofmonth(), arithmetic with
Kusto's types, null logic), the answer's column types, Azure's semantic errors, and the refusal
of everything else. Pure: no cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aigw_localcloud.arm import kql

T = kql.TABLE
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _usage(status: int, key: str = "alice", **more: Any) -> str:
    record = {
        "aigw_usage": 1,
        "key": key,
        "status": "success" if status < 400 else "failure",
        "http_status": status,
        **more,
    }
    return json.dumps(record, separators=(",", ":"))


def _row(log: str, at: str = "2026-03-10T11:58:00.000000Z", app: str = "gw") -> dict[str, Any]:
    return {"TimeGenerated": at, "ContainerAppName_s": app, "Log_s": log}


def _answer(query: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = kql.run(kql.parse(query), rows, now=NOW)["tables"][0]
    return table


def _records(query: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = _answer(query, rows)
    names = [c["name"] for c in table["columns"]]
    return [dict(zip(names, r, strict=True)) for r in table["rows"]]


ROWS = [
    _row(_usage(200)),
    _row(_usage(200, "bob")),
    _row(_usage(500)),
    _row(_usage(503, "bob")),
    _row(_usage(429)),
    _row("INFO:     127.0.0.1:50000 - GET /health/readiness HTTP/1.1 200 OK"),
]


def test_extend_parses_the_json_line_and_where_compares_its_fields() -> None:
    q = (
        f"{T} | where Log_s startswith '{{\"aigw_usage\"' | extend u = parse_json(Log_s)"
        " | extend status = toint(u.http_status) | where status >= 500 | project Log_s, status"
    )
    found = _records(q, ROWS)
    assert [r["status"] for r in found] == [500, 503]
    assert _answer(q, ROWS)["columns"] == [
        {"name": "Log_s", "type": "string"},
        {"name": "status", "type": "int"},
    ]


def test_summarize_counts_and_countifs_into_one_row() -> None:
    q = (
        f"{T} | where Log_s startswith '{{\"aigw_usage\"' | extend u = parse_json(Log_s)"
        " | summarize calls = count(), failed = countif(toint(u.http_status) >= 500)"
        " | extend percent = 100.0 * failed / calls"
    )
    assert _records(q, ROWS) == [{"calls": 5, "failed": 2, "percent": 40.0}]
    assert [c["type"] for c in _answer(q, ROWS)["columns"]] == ["long", "long", "real"]
    # learn.microsoft.com/kusto/query/summarize-operator: an empty input without `by` gives one
    # row (count() and countif() are 0 there); with `by`, no row at all.
    assert _records(f"{T} | summarize calls = count(), n = countif(true)", []) == [
        {"calls": 0, "n": 0}
    ]
    assert _records(f"{T} | summarize calls = count() by ContainerAppName_s", []) == []


def test_summarize_by_a_column_with_the_default_names() -> None:
    q = (
        f"{T} | where Log_s startswith '{{\"aigw_usage\"' | extend u = parse_json(Log_s)"
        " | extend developer = tostring(u.key) | summarize count(), countif(toint(u.http_status)"
        " == 200), total = sum(toint(u.http_status)), top = max(toint(u.http_status))"
        " by developer"
    )
    found = sorted(_records(q, ROWS), key=lambda r: r["developer"])
    assert found == [
        {"developer": "alice", "count_": 3, "countif_": 1, "total": 1129, "top": 500},
        {"developer": "bob", "count_": 2, "countif_": 1, "total": 703, "top": 503},
    ]


def test_bin_groups_times_into_windows() -> None:
    rows = [
        _row(_usage(200), at="2026-03-10T11:41:00Z"),
        _row(_usage(200), at="2026-03-10T11:44:59Z"),
        _row(_usage(200), at="2026-03-10T11:45:00Z"),
    ]
    found = _records(f"{T} | summarize n = count() by bin(TimeGenerated, 5m)", rows)
    assert sorted((r["TimeGenerated"], r["n"]) for r in found) == [
        ("2026-03-10T11:40:00Z", 2),
        ("2026-03-10T11:45:00Z", 1),
    ]


def test_arithmetic_follows_kustos_types() -> None:
    # learn.microsoft.com/kusto/query/numerical-operators: integers divide to an integer
    q = f"{T} | extend a = 7 / 2, b = 7 / 2.0, c = -7 / 2, d = 2 * 3 + 1 | project a, b, c, d"
    assert _records(q, [_row("x")]) == [{"a": 3, "b": 3.5, "c": -3, "d": 7}]
    with pytest.raises(kql.KqlError, match="division by zero"):
        _records(f"{T} | extend a = 1 / 0", [_row("x")])


def test_a_line_that_is_not_json_is_a_dynamic_string_with_no_fields() -> None:
    # learn.microsoft.com/kusto/query/parse-json-function: not JSON -> the string, as dynamic
    q = (
        f"{T} | extend u = parse_json(Log_s) | extend k = tostring(u.key), s = toint(u.status),"
        " whole = tostring(u) | project k, s, whole"
    )
    found = _records(q, [_row("INFO started")])
    assert found == [{"k": "", "s": None, "whole": "INFO started"}]


def test_null_logic_and_empty_strings() -> None:
    rows = [_row(_usage(200)), _row("INFO x")]
    q = (
        f"{T} | extend u = parse_json(Log_s) | extend s = toint(u.http_status)"
        " | where isnull(s) or s > 100 | extend empty = isempty(tostring(u.reason)),"
        " known = isnotnull(s) and s == 200 | project empty, known"
    )
    assert _records(q, rows) == [{"empty": True, "known": True}, {"empty": True, "known": False}]
    # a comparison with null is null, and `where` keeps only true
    assert _records(f"{T} | extend s = toint(Log_s) | where s != 3", rows) == []
    assert len(_records(f"{T} | where not(Log_s startswith 'INFO')", rows)) == 1


def test_startofmonth_and_now_keep_this_months_rows() -> None:
    rows = [
        _row(_usage(200), at="2026-02-28T23:59:59Z"),
        _row(_usage(200), at="2026-03-01T00:00:00Z"),
    ]
    q = f"{T} | where startofmonth(TimeGenerated) == startofmonth(now()) | project TimeGenerated"
    assert _records(q, rows) == [{"TimeGenerated": "2026-03-01T00:00:00Z"}]
    assert len(_records(f"{T} | where TimeGenerated > ago(10d)", rows)) == 2


def test_names_are_resolved_against_each_stage_as_azure_does() -> None:
    with pytest.raises(kql.SemanticError, match=r"'extend' operator: .* named 'Nope_s'"):
        _records(f"{T} | extend x = Nope_s", ROWS)
    with pytest.raises(kql.SemanticError, match=r"'where' operator: .* named 'Log_s'"):
        _records(f"{T} | summarize n = count() | where Log_s == 'x'", ROWS)
    with pytest.raises(kql.SemanticError, match=r"'summarize' operator: .* named 'nope'"):
        _records(f"{T} | summarize n = count() by nope", ROWS)
    # checked before any row is read: the same error with no rows
    with pytest.raises(kql.SemanticError):
        _records(f"{T} | summarize n = count() | where Log_s == 'x'", [])
    assert _records(f"{T} | extend x = column_ifexists('Nope_s', 'd') | project x", ROWS[:1]) == [
        {"x": "d"}
    ]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (f"{T} | join (Other) on x", "unsupported operator 'join'"),
        (f"{T} | mv-expand x", "unsupported operator 'mv-expand'"),
        (f"{T} | extend x = bag_unpack(Log_s)", "unsupported function 'bag_unpack'"),
        (f"{T} | extend parse_json(Log_s)", "name"),
        (f"{T} | extend u = parse_json(Log_s) | where u.status == 'x'", "dynamic"),
        (f"{T} | where toint(Log_s)", "true/false"),
        (f"{T} | where Log_s == 3", "compare"),
        (f"{T} | summarize n = count() by parse_json(Log_s).key", "name"),
        (f"{T} | summarize n = percentile(x, 50)", "unsupported aggregation 'percentile'"),
        (f"{T} | where Log_s matches regex 'x'", "unsupported filter"),
        (f"{T} | extend x = (1 + 2", "unsupported"),
    ],
)
def test_anything_else_is_refused_with_what_is_not_known(query: str, words: str) -> None:
    with pytest.raises(kql.KqlError, match=words):
        _records(query, ROWS)
