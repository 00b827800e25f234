"""What `aigw --help`, every command's `--help` and shell completion import: never pydantic and
never an Azure SDK module (they cost ~110 ms and ~1 s; completion pays it on every Tab). The
assertion is on the import graph, not on time (the time is bench/startup.py's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("pydantic", "pydantic_core", "azure", "yaml", "httpx", "openai")

# Runs in a new interpreter: every command path's --help in turn, then one completion, printing
# after each which heavy top-level packages are loaded (so a failure names the command).
_PROBE = r"""
import json, os, sys
HEAVY = set(json.loads(sys.argv[1]))
from aigw.cli import app as cli
import typer.main

def heavy():
    return sorted({m.split(".")[0] for m in sys.modules} & HEAVY)

out = [["import aigw.cli.app", heavy()]]
group = typer.main.get_command(cli.app)
paths = [[]]
for name, cmd in group.commands.items():
    paths.append([name])
    for sub in getattr(cmd, "commands", {}) or {}:
        paths.append([name, sub])
for path in paths:
    try:
        cli.app(args=[*path, "--help"], prog_name="aigw", standalone_mode=False)
    except SystemExit:
        pass
    out.append([" ".join(["aigw", *path, "--help"]), heavy()])
sys.stdout.flush()
print("\n@@" + json.dumps(out))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **extra}
    env.pop("AIGW_GATEWAY_KEY", None)
    return env


def test_every_help_imports_no_model_and_no_sdk() -> None:
    r = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(r.stdout.rsplit("\n@@", 1)[1])
    assert len(rows) > 20, rows  # the probe walked the command tree
    loaded = {cmd: mods for cmd, mods in rows if mods}
    assert loaded == {}, loaded


def test_completion_imports_no_model_and_no_sdk() -> None:
    code = (
        "import sys, json, atexit\n"
        f"H = set({list(HEAVY)!r})\n"
        "atexit.register(lambda: sys.stderr.write("
        "'@@' + json.dumps(sorted({m.split('.')[0] for m in sys.modules} & H)) + '\\n'))\n"
        "from aigw.cli.app import main\n"
        "main()\n"
    )
    for words, cword in (
        ("aigw de", "1"),
        ("aigw client-config --client ", "2"),
        ("aigw deploy --", "2"),
    ):
        r = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=_env(_AIGW_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=cword),
            timeout=60,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.split(), (words, r.stdout)  # it completed something
        heavy = json.loads(r.stderr.rsplit("@@", 1)[1])
        assert heavy == [], (words, heavy)
