"""`aigw --help` as a new user reads it: every command summary whole, shell completion on."""

from __future__ import annotations

import os
import subprocess
import sys

CMD = [sys.executable, "-m", "aigw"]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", **env}
    return subprocess.run([*CMD, *args], capture_output=True, text=True, env=environ, timeout=60)


def test_help_summaries_are_not_cut_off() -> None:
    for args in (["--help"], ["litellm", "--help"], ["localcloud", "--help"]):
        r = _run(*args)
        assert r.returncode == 0, r.stderr
        commands = r.stdout.split("Commands:", 1)[1]
        assert "..." not in commands, (args, commands)
    # the longest first sentence is there in full (wrapped, not cut)
    words = " ".join(_run("--help").stdout.split())
    assert (
        "Print the LiteLLM config the gateway will run (or --json: everything aigw derives)."
        in (words)
    )


def test_shell_completion_is_offered_and_completes_commands() -> None:
    r = _run("--help")
    assert "--install-completion" in r.stdout and "--show-completion" in r.stdout
    script = _run("--show-completion", "bash")
    assert script.returncode == 0 and "_AIGW_COMPLETE" in script.stdout, script.stderr
    done = _run(_AIGW_COMPLETE="complete_bash", COMP_WORDS="aigw de", COMP_CWORD="1")
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == {"deploy", "destroy"}, done.stdout
