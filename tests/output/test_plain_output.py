"""Data from Azure, Key Vault or the gateway's stdout prints as plain text (aigw/output/plain.py):
a key name holding Rich markup, ESC sequences, an OSC 8 hyperlink or a bidi override reaches the
terminal neither as markup nor as control bytes; `-o json` keeps the raw value (JSON-escaped).

The CLI runs in this process with Azure replaced: the usage lines, key list and log stream are
what Log Analytics, Key Vault and the log stream would hand back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console

from aigw.output import report
from aigw.output.plain import clean, plain

CANARY = "[red]x[/red]\x1b[2J\x1b]8;;http://e\x07bob"
SHOWN = "[red]x[/red]\\x1b[2J\\x1b]8;;http://e\\x07bob"  # what a person sees instead
MODEL = "gpt[bold]\r\u202eevil\x9b31m"
MODEL_SHOWN = "gpt[bold]\\r\\u202eevil\\x9b31m"


class _Session:
    def __init__(self) -> None:
        from aigw.config.load import load_env
        from helpers import ENV_DIR

        self.config = load_env("dev", ENV_DIR).config  # prices and limits for `keys list`

    def close(self) -> None:
        pass


def _usage_line(key: str, model: str, total: int) -> str:
    return json.dumps(
        {
            "aigw_usage": 1,
            "time": "2026-01-01T10:00:00Z",
            "key": key,
            "model": model,
            "prompt_tokens": total - 1,
            "completion_tokens": 1,
            "total_tokens": total,
            "status": "success",
        }
    )


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> None:
    from aigw.cli import options
    from aigw.engine import app_logs, developer_keys, usage_query

    lines = [_usage_line(CANARY, MODEL, 12), _usage_line("alice", "m1", 5)]
    monkeypatch.setattr(options, "open_session", lambda *a, **k: _Session())
    monkeypatch.setattr(
        usage_query, "fetch", lambda session, since: usage_query.UsageRows(lines, None)
    )
    monkeypatch.setattr(
        app_logs,
        "log_stream",
        lambda session, **kw: iter([f"INFO key={CANARY} model={MODEL}", "INFO\ttab kept"]),
    )
    key = {"name": CANARY, "last4": "\x1b[5m", "created": "2026-01-01", "expires": None,
           "expired": False, "models": [MODEL]}  # fmt: skip
    monkeypatch.setattr(developer_keys, "list_keys", lambda session: [key])
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def _aigw(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    from aigw.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    assert done.value.code == 0, out + err
    return out, err


def _assert_plain(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\x9b" not in text and "\u202e" not in text


@pytest.mark.parametrize("by", ["key", "model"])
def test_usage_table_shows_names_as_plain_text(
    azure: None, capsys: pytest.CaptureFixture[str], by: str
) -> None:
    out, err = _aigw(capsys, "usage", "--env", "dev", "--by", by)
    _assert_plain(out + err)
    shown = SHOWN if by == "key" else MODEL_SHOWN
    assert out.count(shown) == 2, out  # the table row and the bar chart, markup text verbatim
    assert "alice" in out or "m1" in out


def test_usage_json_keeps_the_raw_names(azure: None, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _aigw(capsys, "usage", "--env", "dev", "--by", "key", "-o", "json")
    assert "\x1b" not in out and "\\u001b" in out  # JSON-escaped on stdout, not raw
    rows = json.loads(out)["rows"]
    assert rows[0]["key"] == CANARY


def test_keys_list_and_logs_show_names_as_plain_text(
    azure: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _aigw(capsys, "keys", "list", "--env", "dev")
    _assert_plain(out + err)
    assert SHOWN in out and MODEL_SHOWN in out and "…\\x1b[5m" in out
    key_line, note = out.strip().splitlines()  # the key, then where its spend comes from
    assert SHOWN in key_line and "spent $0.00 this month" in key_line and note.startswith("spend:")
    data = json.loads(_aigw(capsys, "keys", "list", "--env", "dev", "-o", "json")[0])
    assert data["keys"][0]["name"] == CANARY
    out, err = _aigw(capsys, "logs", "--env", "dev")
    _assert_plain(out + err)
    assert out.splitlines() == [f"INFO key={SHOWN} model={MODEL_SHOWN}", "INFO\ttab kept"]


def _render(renderable: Any) -> str:
    console = Console(width=400, no_color=True, highlight=False, force_terminal=False)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def test_status_and_check_tables_show_azure_values_as_plain_text() -> None:
    rows = [{"kind": "app", "name": CANARY, "state": MODEL, "ok": False}]
    text = _render(report.health_table(rows))
    _assert_plain(text)
    assert SHOWN in text and MODEL_SHOWN in text
    checks = [{"name": CANARY, "ok": False, "ms": 3.0, "details": f"line1\n{MODEL}"}]
    text = _render(report.checks_table(checks, "smoke"))
    _assert_plain(text)
    assert SHOWN in text and MODEL_SHOWN in text and "line1" in text
    text = _render(report.outputs_table({"fqdn": CANARY}))
    _assert_plain(text)
    assert SHOWN in text


def test_clean_and_plain() -> None:
    assert clean(CANARY) == SHOWN
    assert clean("a\nb") == "a\\nb" and clean("a\nb", newlines=True) == "a\nb"
    assert clean("tab\tkept \u00e9 \u2588") == "tab\tkept \u00e9 \u2588"
    assert clean(None) == "" and clean(3) == "3"
    assert plain("[bold]x[/]").plain == "[bold]x[/]"
    assert _render(plain("[bold]x[/] :smile:")).strip() == "[bold]x[/] :smile:"
