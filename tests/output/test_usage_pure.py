"""`aigw usage` aggregation (aigw/output/usage.py), its query and rows (aigw/engine/
usage_query.py) and the local cloud's KQL subset (aigw_localcloud/kql.py) on plain data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aigw.engine.app_logs import mask_line
from aigw.engine.usage_query import line_of, rows_of, usage_kql
from aigw.output import usage
from aigw_localcloud.arm import kql, log_analytics


def _line(key: str, model: str, total: int, status: str = "success", day: str = "01") -> str:
    return json.dumps(
        {
            "aigw_usage": 1,
            "time": f"2026-01-{day}T10:00:00Z",
            "key": key,
            "model": model,
            "prompt_tokens": total - 1,
            "completion_tokens": 1,
            "total_tokens": total,
            "status": status,
        },
        separators=(",", ":"),
    )


def test_aggregate_sums_by_key_model_and_day() -> None:
    lines = [_line("alice", "m1", 10), _line("bob", "m1", 5, "failure", "02"),
             _line("alice", "m2", 7, day="02"), "not usage", '{"aigw_usage": "x"}']  # fmt: skip
    records = [r for r in map(usage.parse_line, lines) if r]
    assert len(records) == 3
    by_key = usage.aggregate(records, "key")
    assert [(r["key"], r["total_tokens"], r["requests"]) for r in by_key] == [
        ("alice", 17, 2),
        ("bob", 5, 1),
    ]
    assert by_key[1]["failures"] == 1
    assert [r["day"] for r in usage.aggregate(records, "day")] == ["2026-01-01", "2026-01-02"]
    assert usage.totals(by_key)["total_tokens"] == 22
    assert usage.to_csv(by_key, "key").splitlines()[1] == "alice,2,0,0,15,2,17"
    chart = usage.bar_chart(by_key, "key", width=10)
    assert chart[0].count("█") == 10 and chart[1].count("█") == 3
    with pytest.raises(ValueError):
        usage.aggregate(records, "team")


def test_requests_the_gateway_refused_are_counted_apart_by_key() -> None:
    refused = [
        '{"aigw_refused":1,"time":"2026-01-01T10:00:00Z","status":429,"reason":"budget",'
        '"route":"/v1/responses","key":"alice"}',
        '{"aigw_refused":1,"time":"2026-01-02T10:00:00Z","status":401,"reason":"key",'
        '"route":"/v1/responses","key":null}',
    ]
    records = [r for r in map(usage.parse_line, [_line("alice", "m1", 10), *refused]) if r]
    by_key = {r["key"]: r for r in usage.aggregate(records, "key")}
    assert (by_key["alice"]["requests"], by_key["alice"]["refused"]) == (1, 1)
    assert by_key["(no key)"] == {**by_key["(no key)"], "requests": 0, "refused": 1}
    assert by_key["alice"]["total_tokens"] == 10  # a refused call has no tokens
    assert usage.totals(by_key.values())["refused"] == 2


def test_the_gateway_keys_former_log_name_adds_up_under_its_name() -> None:
    """Lines the gateway logged before issue 25 name the gateway key `aigw-admin`: `aigw usage`
    counts them as `aigw-gateway-key`, one row across the upgrade."""
    lines = [
        _line("aigw-admin", "m1", 10),
        _line("aigw-gateway-key", "m1", 5),
        _line("bob", "m1", 1),
    ]
    records = [r for r in map(usage.parse_line, lines) if r]
    by_key = usage.aggregate(records, "key")
    assert [(r["key"], r["total_tokens"], r["requests"]) for r in by_key] == [
        ("aigw-gateway-key", 15, 2),
        ("bob", 1, 1),
    ]


def _row(app: str, log: str, at: str = "2026-01-01T10:00:00Z") -> dict[str, str]:
    return {"TimeGenerated": at, "ContainerAppName_s": app, "Log_s": log}


def test_the_query_aigw_sends_is_answered() -> None:
    rows = [_row("gw", '{"aigw_usage":1}'), _row("gw", "INFO x"), _row("other", '{"aigw_usage":1}')]
    now = datetime(2026, 1, 2, tzinfo=UTC)
    answer = kql.run(kql.parse(usage_kql("gw")), rows, now=now)
    (table,) = answer["tables"]
    assert {"name": "Log_s", "type": "string"} in table["columns"]
    assert {"name": "TimeGenerated", "type": "datetime"} in table["columns"]
    (row,) = table["rows"]
    picked = dict(zip([c["name"] for c in table["columns"]], row, strict=True))
    assert (
        picked["Log_s"] == '{"aigw_usage":1}' and picked["TimeGenerated"] == "2026-01-01T10:00:00Z"
    )
    since = kql.timespan_start("P7D", now)
    assert (
        since is not None
        and len(kql.run(kql.parse(usage_kql("gw")), rows, since=since)["tables"][0]["rows"]) == 1
    )
    assert kql.run(kql.parse(usage_kql("gw")), rows, since=now)["tables"][0]["rows"] == []
    recent = kql.parse("ContainerAppConsoleLogs_CL | where TimeGenerated > ago(1h) | take 5")
    assert kql.run(recent, rows, now=now)["tables"][0]["rows"] == []


class _Table:
    def __init__(self, answer: dict[str, Any]) -> None:
        (table,) = answer["tables"]
        self.columns = [c["name"] for c in table["columns"]]
        self.rows = table["rows"]


def test_dynamic_json_columns_rows_add_up_like_whole_lines() -> None:
    """The same usage lines, once whole in Log_s and once split into Log_<key>_<type> columns
    (dynamicJsonColumns), give the same sums; the newest row's TimeGenerated is kept."""
    lines = [_line("alice", "m1", 10), _line("bob", "m2", 5, "failure", "02")]
    whole = [_row("gw", line) for line in lines] + [_row("gw", "INFO started")]
    split = [log_analytics.split_json_line(r) for r in whole]
    assert split[0]["Log_s"] == "" and split[0]["Log_total_tokens_d"] == 10.0
    assert split[0]["Log_time_t"] == "2026-01-01T10:00:00Z"
    assert split[2]["Log_s"] == "INFO started"
    schema = log_analytics.schema_of(split)
    answer = kql.run(kql.parse(usage_kql("gw")), split, schema=schema)
    found = rows_of([_Table(answer)])
    assert len(found.lines) == 2
    assert found.newest == datetime(2026, 1, 1, 10, tzinfo=UTC)

    def sums(texts: list[str]) -> list[dict[str, Any]]:
        return usage.aggregate([r for r in map(usage.parse_line, texts) if r], "key")

    assert sums(found.lines) == sums(lines)
    assert [r["day"] for r in usage.aggregate(map(usage.parse_line, found.lines), "day")] == [  # type: ignore[arg-type]
        "2026-01-01",
        "2026-01-02",
    ]
    # the SDK hands a `datetime` column as datetime and a `real` as float
    row = {"Log_s": "", "Log_aigw_usage_d": 1.0, "Log_time_t": datetime(2026, 1, 3, tzinfo=UTC),
           "Log_prompt_tokens_d": 4.0, "Log_stream_b": False, "Log_model_s": ""}  # fmt: skip
    assert json.loads(line_of(row) or "") == {
        "aigw_usage": 1,
        "time": "2026-01-03T00:00:00Z",
        "prompt_tokens": 4,
        "stream": False,
    }
    assert line_of({"Log_s": "", "Log_key_s": "x"}) is None  # not a usage row


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("Usage | take 10", "unknown table 'Usage'"),
        ("ContainerAppConsoleLogs_CL | mv-expand x", "unsupported operator 'mv-expand'"),
        ("ContainerAppConsoleLogs_CL | where Log_s matches regex 'x'", "unsupported filter"),
        ("", "empty"),
    ],
)
def test_other_queries_are_refused_clearly(query: str, words: str) -> None:
    with pytest.raises(kql.KqlError, match=words.replace("(", r"\(").replace(")", r"\)")):
        kql.parse(query)


def test_a_column_the_table_lacks_is_azures_semantic_error() -> None:
    q = kql.parse("ContainerAppConsoleLogs_CL | where Nope_s == 'x'")
    with pytest.raises(kql.SemanticError, match=r"'where' operator: .* scalar expression .*Nope_s"):
        kql.run(q, [_row("gw", "x")])
    q = kql.parse("ContainerAppConsoleLogs_CL | where column_ifexists('Nope_s', 'd') == 'd'")
    assert len(kql.run(q, [_row("gw", "x")])["tables"][0]["rows"]) == 1


def test_a_pipe_inside_a_string_is_not_a_stage() -> None:
    q = kql.parse('ContainerAppConsoleLogs_CL | where Log_s contains "a | b"')
    assert kql.run(q, [_row("gw", "x a | b y"), _row("gw", "a b")])["tables"][0]["rows"]


def test_log_lines_are_masked() -> None:
    line = "Authorization: Bearer abcdefghijklmnop key sk-0123456789abcdef tail"
    out = mask_line(line, "tail")
    assert "abcdefghijklmnop" not in out and "sk-0123456789abcdef" not in out
    assert out.endswith("***")


def test_the_query_picks_refusal_lines_whole_and_split() -> None:
    refused = '{"aigw_refused":1,"time":"2026-01-01T10:00:00Z","status":429,"key":"alice"}'
    rows = [_row("gw", refused), _row("gw", _line("alice", "m1", 10)), _row("gw", "INFO x")]
    now = datetime(2026, 1, 2, tzinfo=UTC)
    for shape in (rows, [log_analytics.split_json_line(r) for r in rows]):
        schema = log_analytics.schema_of(shape)  # the columns the table has (split: Log_*_d)
        answer = kql.run(kql.parse(usage_kql("gw")), shape, now=now, schema=schema)
        found = rows_of([_Table(answer)])
        records = [r for r in map(usage.parse_line, found.lines) if r]
        (row,) = usage.aggregate(records, "key")
        assert (row["requests"], row["refused"], row["total_tokens"]) == (1, 1, 10), found.lines
