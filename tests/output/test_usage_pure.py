"""`aigw usage` aggregation (aigw/output/usage.py) and the local cloud's KQL subset
(aigw_localcloud/kql.py) on plain data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aigw.engine.app_logs import mask_line, usage_kql
from aigw.output import usage
from aigw_localcloud.arm import kql


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
    assert usage.to_csv(by_key, "key").splitlines()[1] == "alice,2,0,15,2,17"
    chart = usage.bar_chart(by_key, "key", width=10)
    assert chart[0].count("█") == 10 and chart[1].count("█") == 3
    with pytest.raises(ValueError):
        usage.aggregate(records, "team")


def _row(app: str, log: str, at: str = "2026-01-01T10:00:00Z") -> dict[str, str]:
    return {"TimeGenerated": at, "ContainerAppName_s": app, "Log_s": log}


def test_the_query_aigw_sends_is_answered() -> None:
    rows = [_row("gw", '{"aigw_usage":1}'), _row("gw", "INFO x"), _row("other", '{"aigw_usage":1}')]
    now = datetime(2026, 1, 2, tzinfo=UTC)
    answer = kql.run(kql.parse(usage_kql("gw")), rows, now=now)
    (table,) = answer["tables"]
    assert table["columns"] == [
        {"name": "TimeGenerated", "type": "datetime"},
        {"name": "Log_s", "type": "string"},
    ]
    assert table["rows"] == [["2026-01-01T10:00:00Z", '{"aigw_usage":1}']]
    since = kql.timespan_start("P7D", now)
    assert (
        since is not None
        and len(kql.run(kql.parse(usage_kql("gw")), rows, since=since)["tables"][0]["rows"]) == 1
    )
    assert kql.run(kql.parse(usage_kql("gw")), rows, since=now)["tables"][0]["rows"] == []
    recent = kql.parse("ContainerAppConsoleLogs_CL | where TimeGenerated > ago(1h) | take 5")
    assert kql.run(recent, rows, now=now)["tables"][0]["rows"] == []


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("Usage | take 10", "unknown table 'Usage'"),
        ("ContainerAppConsoleLogs_CL | summarize count()", "unsupported operator 'summarize'"),
        ("ContainerAppConsoleLogs_CL | where Log_s matches regex 'x'", "unsupported filter"),
        ("", "empty"),
    ],
)
def test_other_queries_are_refused_clearly(query: str, words: str) -> None:
    with pytest.raises(kql.KqlError, match=words.replace("(", r"\(").replace(")", r"\)")):
        kql.parse(query)


def test_a_column_the_table_lacks_is_azures_semantic_error() -> None:
    q = kql.parse("ContainerAppConsoleLogs_CL | where Nope_s == 'x'")
    with pytest.raises(kql.SemanticError, match="'where' operator: .* scalar expression .*Nope_s"):
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
