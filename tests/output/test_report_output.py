"""Output in CI logs (no terminal): nothing cut or wrapped; a list diff names what changed."""

from __future__ import annotations

import re

import pytest

from aigw.engine.plan import plan_deploy
from aigw.output import report
from aigw.output.ui import UI
from plan_support import deployed, desired_for

NEW_MODEL = {"alias": "gpt-4.1-mini", "kind": "chat", "api_version": "2024-10-21"}


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest captures stdout and stderr: neither is a terminal. Nothing may force one.
    for var in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)


def test_plan_diff_of_the_model_list_names_the_added_model(
    no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = deployed(desired_for("dev"))
    plan = plan_deploy(desired_for("dev", {"models": [NEW_MODEL]}), before)
    ui = UI()
    report.print_plan(ui.out, plan)
    out = capsys.readouterr().out
    assert "AIGW_MODELS: +gpt-4.1-mini" in out, out
    assert "…" not in out, out  # nothing cut
    # each diff on one line of its own, not wrapped within the column
    assert re.search(r"pvc-dev-aigateway-ca-san .* env\.AIGW_CONFIG_SHA256: [0-9a-f]{12} → ", out)
    assert re.search(r"secrets\.litellm-config\.sha256: [0-9a-f]{12} → [0-9a-f]{12}", out), out


def test_list_diff_shows_added_and_removed_items() -> None:
    assert report.list_diff("a,b,c", "a,c,d") == "+d -b"
    assert report.list_diff("x", "x,y") == "+y"
    assert report.list_diff("x,y", "y") == "-x"
    assert report.list_diff("a,b", "b,a") == "order a,b → b,a"
    assert report.list_diff("https://x/a,b", 3) is None
    assert report.list_diff("a, b", "a, c") is None  # prose, not a list


def test_long_lines_are_not_wrapped_without_a_terminal(
    no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ui = UI()
    assert not ui.out.is_terminal and not ui.err.is_terminal
    hint = "GitHub: environment 'dev' secret AIGW_GATEWAY_KEY (gh secret set AIGW_GATEWAY_KEY "
    hint += "--env dev); a deploy with the old value writes the old key back"
    ui.out.print(f"  - {hint}", markup=False)
    ui.info(hint)
    outputs = {"gateway_url": "https://" + "x" * 150 + ".example", "resource_group": "rg"}
    ui.out.print(report.outputs_table(outputs))
    captured = capsys.readouterr()
    assert f"  - {hint}\n" in captured.out
    assert captured.err == hint + "\n"
    assert "https://" + "x" * 150 + ".example" in captured.out
