"""aigw.output.github: Markdown tables, workflow-command escaping, job summary, redaction."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aigw.output import github
from aigw.redact import redact
from aigw.secrets import SECRET_ENV_VARS

CANARY = "canary-Zq7|x:y,%0A\nsecond-line-9f3"


def split_row(line: str) -> list[str]:
    """Split a GFM table row the way GitHub does: on pipes not escaped by a backslash."""
    assert line.startswith("| ") and line.endswith(" |"), line
    cells: list[str] = []
    current = ""
    i = 0
    body = line[1:-1]
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            current += body[i : i + 2]
            i += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        i += 1
    cells.append(current)
    # markdown_table pads each cell with exactly one space on each side.
    assert all(c.startswith(" ") and c.endswith(" ") for c in cells), cells
    return [c[1:-1] for c in cells]


def unescape_cell(cell: str) -> str:
    """Invert markdown_table's cell escaping: 2k+1 backslashes before a pipe were k."""

    def pipe(match: re.Match[str]) -> str:
        run = len(match.group(1))
        assert run % 2 == 1, "an unescaped pipe inside a cell"
        return "\\" * (run // 2) + "|"

    return re.sub(r"(\\*)\|", pipe, cell).replace("<br>", "\n")


# ---- markdown_table -------------------------------------------------------------------------


def test_table_shape() -> None:
    table = github.markdown_table(["Resource", "Action"], [["rg", "create"], ["kv", "noop"]])
    assert table == ("| Resource | Action |\n|---|---|\n| rg | create |\n| kv | noop |\n")


def test_table_escapes_pipes_and_newlines() -> None:
    table = github.markdown_table(["a", "b"], [["x|y", "line1\nline2\r\nline3"]])
    row = table.splitlines()[2]
    assert row == "| x\\|y | line1<br>line2<br>line3 |"
    assert split_row(row) == ["x\\|y", "line1<br>line2<br>line3"]


def test_table_backslash_before_pipe_cannot_close_cell() -> None:
    row = github.markdown_table(["a", "b"], [["ends\\|", "c\\\\|d"]]).splitlines()[2]
    assert len(split_row(row)) == 2
    assert [unescape_cell(c) for c in split_row(row)] == ["ends\\|", "c\\\\|d"]


def test_table_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        github.markdown_table(["a", "b"], [["only one"]])
    with pytest.raises(ValueError):
        github.markdown_table([], [])


@given(st.lists(st.lists(st.text(max_size=20), min_size=3, max_size=3), max_size=5))
def test_table_structure_survives_any_text(rows: list[list[str]]) -> None:
    assume(not any("<br>" in cell for row in rows for cell in row))
    table = github.markdown_table(["h1", "h2", "h3"], rows)
    lines = table.split("\n")
    assert lines.pop() == ""
    assert len(lines) == 2 + len(rows)  # no cell can add a line
    for line, row in zip(lines[2:], rows, strict=True):
        cells = split_row(line)
        assert len(cells) == 3
        expected = [re.sub(r"\r\n|\r|\n", "\n", c) for c in row]
        assert [unescape_cell(c) for c in cells] == expected


# ---- annotation -----------------------------------------------------------------------------


def test_annotation_plain() -> None:
    assert github.annotation("error", "deploy failed") == "::error::deploy failed"
    assert github.annotation("notice", "ok", title="Plan") == "::notice title=Plan::ok"


def test_annotation_escapes_message_and_title() -> None:
    line = github.annotation("warning", "50% done\r\nnext: a,b", title="dev: plan, 2%")
    assert line == "::warning title=dev%3A plan%2C 2%25::50%25 done%0D%0Anext: a,b"
    assert "\n" not in line and "\r" not in line


def test_annotation_percent_escaped_first() -> None:
    # "%0A" typed literally must not turn into a newline when GitHub unescapes it.
    assert github.annotation("error", "%0A") == "::error::%250A"


def test_annotation_rejects_unknown_level() -> None:
    with pytest.raises(ValueError):
        github.annotation("debug", "x")  # type: ignore[arg-type]


@given(st.text(), st.text())
def test_annotation_round_trips(message: str, title: str) -> None:
    line = github.annotation("error", message, title=title or None)
    assert "\n" not in line and "\r" not in line
    head, _, data = line[2:].partition("::")
    unescape = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}

    def decode(value: str) -> str:
        return re.sub(r"%25|%0D|%0A|%3A|%2C", lambda m: unescape[m.group(0)], value)

    assert decode(data) == message
    if title:
        name, _, props = head.partition(" ")
        assert name == "error"
        assert "," not in props.removeprefix("title=")
        assert decode(props.removeprefix("title=")) == title


# ---- summary --------------------------------------------------------------------------------


def test_in_github_actions() -> None:
    assert github.in_github_actions({"GITHUB_ACTIONS": "true"})
    assert not github.in_github_actions({})
    assert not github.in_github_actions({"GITHUB_ACTIONS": "false"})


def test_summary_section() -> None:
    assert github.summary_section("Plan\nfor dev", "body\n\n") == "### Plan for dev\n\nbody\n\n"
    assert github.summary_section("Empty", "") == "### Empty\n\n"


def test_append_step_summary_without_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert github.append_step_summary("anything") is False


def test_append_step_summary_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("existing\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert github.append_step_summary(github.summary_section("Plan: dev", "no changes"))
    assert github.append_step_summary("second")
    assert summary.read_text(encoding="utf-8") == (
        "existing\n### Plan: dev\n\nno changes\n\nsecond\n"
    )


def test_append_step_summary_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing-dir" / "summary.md"))
    assert github.append_step_summary("x") is False


# ---- redaction ------------------------------------------------------------------------------


def test_redact_basics() -> None:
    assert redact("key=abc123 again abc123", ["abc123", ""]) == "key=*** again ***"
    assert redact("nothing here", []) == "nothing here"
    # The longer secret wins when one contains the other.
    assert redact("sk-abcdef", ["abc", "sk-abcdef"]) == "***"


def test_redact_multiline_secret_line_by_line() -> None:
    assert redact("first: line-one\nthen line-two", ["line-one\nline-two"]) == (
        "first: ***\nthen ***"
    )


def test_canary_never_reaches_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for name in SECRET_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    table = github.markdown_table(
        ["Setting", "Value"], [["gateway key", CANARY], ["header", f"Bearer {CANARY}"]]
    )
    body = f"{table}\nraw: {CANARY}\n"
    assert github.append_step_summary(github.summary_section("Smoke", body), [CANARY])
    written = summary.read_text(encoding="utf-8")
    assert "***" in written
    for piece in (CANARY, *CANARY.splitlines(), github.markdown_table(["x"], [[CANARY]])):
        assert piece not in written
    assert "canary" not in written and "second-line" not in written


def test_secret_env_vars_redacted_without_being_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for index, name in enumerate(SECRET_ENV_VARS):
        monkeypatch.setenv(name, f"canary-env-{index}-7c1e")
    text = " ".join(f"canary-env-{i}-7c1e" for i in range(len(SECRET_ENV_VARS)))
    assert github.append_step_summary(text)
    written = summary.read_text(encoding="utf-8")
    assert "canary" not in written
    assert written.count("***") == len(SECRET_ENV_VARS)


@given(st.text(min_size=1, max_size=30).filter(lambda s: s.strip()), st.text(max_size=40))
def test_redact_removes_any_secret(secret: str, noise: str) -> None:
    assume("*" not in secret)
    out = redact(f"{noise}{secret}{noise}", [secret])
    assert secret not in out
