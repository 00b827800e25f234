"""Run `python -m aigw` as a subprocess with a private local cloud directory and canary keys."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORLD_FILE = REPO / "localcloud" / "world.yaml"  # (tests/helpers.py WORLD_FILE)


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def aigw(
    *args: str,
    cloud_dir: Path,
    env: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    timeout: float = 120,
) -> Ran:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIGW_", "GITHUB_"))}
    environ.update(
        {
            "PYTHONPATH": str(REPO / "src"),
            "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
            "AIGW_LOCALCLOUD_WORLD": str(WORLD_FILE),  # a cloud it starts: the repo's world
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    environ.update(env or {})
    for k in drop:
        environ.pop(k, None)
    proc = subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)
