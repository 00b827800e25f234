"""Former spellings of commands (issue 25, one name per idea) still work as before, hidden from
`--help`: a user may have scripted them. `aigw key` is now `aigw gateway-key` (`aigw keys` stays
the developer keys). The alias against a deployed gateway: tests/localcloud/
test_key_and_status_cli.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys

CMD = [sys.executable, "-m", "aigw"]
# former spelling -> the name it has now
ALIASES = {("key",): ("gateway-key",)}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([*CMD, *args], capture_output=True, text=True, env=environ, timeout=60)


def _listed(help_text: str) -> set[str]:
    """The command names a --help lists (each row of its Commands: section)."""
    rows = help_text.split("Commands:", 1)[1]
    return set(re.findall(r"^  (\S+)", rows, flags=re.MULTILINE))


def _as_now(text: str, former: tuple[str, ...], now: tuple[str, ...]) -> str:
    return text.replace(f"aigw {' '.join(former)} ", f"aigw {' '.join(now)} ")


def test_the_new_names_are_listed_and_the_former_ones_hidden() -> None:
    top = _listed(_run("--help").stdout)
    for former, now in ALIASES.items():
        assert now[-1] in top, top
        assert former[-1] not in top, top
    assert "keys" in top  # the developer keys keep their name


def test_a_former_name_runs_the_same_command() -> None:
    for former, now in ALIASES.items():
        for tail in (["--help"], ["show", "--help"]):
            old, new = _run(*former, *tail), _run(*now, *tail)
            assert old.returncode == new.returncode == 0, old.stderr + new.stderr
            # the same help but for the usage line's command path
            assert _as_now(old.stdout, former, now) == new.stdout
        # bad input: the same one-line error and exit code
        old, new = _run(*former, "show"), _run(*now, "show")
        assert old.returncode == new.returncode == 2
        assert "--env" in old.stderr and "Traceback" not in old.stderr
        assert _as_now(old.stderr, former, now) == new.stderr
