"""Opt-in: deploy a throwaway copy of dev to a real subscription, smoke-test it, destroy it.

One command, after `az login` (or OIDC) with AZURE_SUBSCRIPTION_ID, AIGW_GATEWAY_KEY and
AIGW_AZURE_OPENAI_API_KEY set:

    AIGW_LIVE=1 .venv/bin/python -m pytest -m live tests/engine/test_live.py

It never touches your own environments: the environment files are copied to a temporary folder
with a unique project name (`aigwlive<6 hex>`), so every resource name is new. It destroys and
purges what it made in a `finally`, also when a step fails or the run is interrupted, and a
failed clean-up fails the test with the commands to finish it by hand.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aigw.resources import names_of
from helpers import ENV_DIR, REPO

NEEDED = ("AZURE_SUBSCRIPTION_ID", "AIGW_GATEWAY_KEY", "AIGW_AZURE_OPENAI_API_KEY")
missing = [v for v in NEEDED if not os.environ.get(v)]

live = pytest.mark.skipif(
    os.environ.get("AIGW_LIVE") != "1" or bool(missing),
    reason="live Azure test: set AIGW_LIVE=1 and " + ", ".join(NEEDED),
)


def throwaway_environments(dest: Path, project: str) -> Path:
    """environments/ copied with `project` replaced: new names for every resource."""
    for f in ENV_DIR.glob("*.yaml"):
        shutil.copy(f, dest / f.name)
    base = dest / "base.yaml"
    data = yaml.safe_load(base.read_text())
    data["project"] = project
    data.setdefault("tags", {})["project"] = project
    base.write_text(yaml.safe_dump(data, sort_keys=False))
    return dest


def aigw(env_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args, "--env-dir", str(env_dir)],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=3600,
    )


@pytest.mark.live
@live
def test_live_deploy_smoke_destroy(tmp_path: Path) -> None:
    env = os.environ.get("AIGW_LIVE_ENV", "dev")
    env_dir = throwaway_environments(tmp_path, f"aigwlive{secrets.token_hex(3)}")
    try:
        r = aigw(env_dir, "deploy", "--env", env, "--yes")
        assert r.returncode == 0, r.stderr[-2000:]
        r = aigw(env_dir, "plan", "--env", env, "--detailed-exitcode")
        assert r.returncode == 0, r.stdout[-2000:]
        r = aigw(env_dir, "smoke-test", "--env", env)
        assert r.returncode == 0, r.stdout[-2000:]
    finally:
        r = aigw(env_dir, "destroy", "--env", env, "--yes", "--confirm-env", env, "--purge")
        assert r.returncode == 0, (
            f"clean-up failed; finish it with: aigw destroy --env {env} --env-dir {env_dir} "
            f"--purge (the folder is kept by pytest's tmp_path)\n{r.stderr[-2000:]}"
        )


def test_throwaway_environments_rename_every_resource(tmp_path: Path) -> None:
    """The copy validates and shares no resource name with the real environments."""
    from aigw.config.load import load_env

    env_dir = throwaway_environments(tmp_path, "aigwlive0a1b2c")
    for env in ("dev", "staging", "prod"):
        ours = names_of(load_env(env, env_dir).config)
        theirs = names_of(load_env(env, ENV_DIR).config)
        assert not set(ours.values()) & set(theirs.values()), env
