"""Pid files of the LiteLLM processes the local cloud runs, so none outlives it: `localcloud
stop` and the next start end any process a dead cloud (SIGKILL, crash) left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

PID_FILE = "litellm.pid"


def record(app_dir: Path, pid: int) -> None:
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / PID_FILE).write_text(str(pid), encoding="utf-8")


def forget(app_dir: Path) -> None:
    (app_dir / PID_FILE).unlink(missing_ok=True)


def _ours(pid: int, app_dir: Path) -> bool:
    """Still the LiteLLM we started there (not a pid the system reused)? Linux /proc only."""
    proc = Path(f"/proc/{pid}")
    try:
        cmd = (proc / "cmdline").read_bytes()
        cwd = Path(os.readlink(proc / "cwd"))
    except OSError:
        return False
    return b"litellm" in cmd and cwd.resolve() == app_dir.resolve()


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return ") Z " in stat  # a zombie has exited


def reap_orphans(workdir: Path, timeout: float = 10.0) -> list[int]:
    """End every recorded LiteLLM process under `workdir` (its whole process group: SIGTERM,
    then SIGKILL after `timeout`); return their pids."""
    found: list[int] = []
    for pid_file in Path(workdir).glob(f"*/{PID_FILE}"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text(encoding="utf-8").strip())
            if _ours(pid, pid_file.parent):
                found.append(pid)
        pid_file.unlink(missing_ok=True)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)  # started in its own session: the group is its workers too
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(_gone(p) for p in found):
            time.sleep(0.05)
        if all(_gone(p) for p in found):
            break
    return found
