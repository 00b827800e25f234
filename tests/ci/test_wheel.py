"""aigw installs like a CLI: the built wheel, in a clean virtual environment, runs
`aigw --version`, `aigw init` and `aigw validate` (.ci/check-wheel, also the release job)."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow


def test_wheel_installs_into_a_clean_venv_and_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    r = subprocess.run(
        ["bash", str(REPO / ".ci" / "check-wheel"), str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f"aigw {version}\n" in r.stdout
    assert len(re.findall(r"^ok environments/\w+\.yaml extends", r.stdout, re.M)) == 3, r.stdout
    (wheel,) = (tmp_path / "out" / "dist").glob("*.whl")
    assert wheel.name == f"aigw-{version}-py3-none-any.whl"
    assert list((tmp_path / "out" / "dist").glob("*.tar.gz")), "no sdist"
    # The aigw that ran is the installed one, not this checkout's source tree.
    site = tmp_path / "out" / "venv" / "lib"
    assert list(site.glob("python3*/site-packages/aigw/cli/app.py"))
    assert list(site.glob("python3*/site-packages/aigw/gateway/files/aigw_guard.py"))
    assert list(site.glob("python3*/site-packages/aigw_localcloud/daemon.py"))
