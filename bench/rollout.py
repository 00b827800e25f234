"""Safe rollouts under load: 4 callers loop through the gateway's main URL (POST
/v1/responses, each on its own keep-alive connection) while `aigw deploy` rolls a changed
config, then a broken one (a chat alias on the codex deployment, which serves only the
Responses API, caught by the smoke test on the candidate's label URL). Counts every failed
call.

Runs the real CLI as subprocesses against a private local cloud with the real LiteLLM (like
tests/engine/test_rollout_e2e.py, which is the smaller version). Writes the `rollout` section
of docs/performance.md.

    .venv/bin/python bench/rollout.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    AOAI_KEY,
    GATEWAY_KEY,
    REPO,
    SRC,
    copy_envs,
    machine,
    percentile,
    table,
    write_section,
)

sys.path.insert(0, str(REPO / "tests" / "engine"))
from rollout_load import CallerLoop, add_model, pin_codex_deployment


def environ(root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "AIGW_LOCALCLOUD_DIR": str(root / "localcloud"),
        "AIGW_ENV_DIR": str(copy_envs(root / "environments")),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY,
        "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY,
        "NO_COLOR": "1",
    }
    for k in ("AIGW_CLOUD", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        env.pop(k, None)
    return env


DEPLOY_ARGS = ("--env", "dev", "--cloud", "local", "--yes", "-o", "json")


def deploy(env: dict[str, str]) -> tuple[int, float, dict[str, Any]]:
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "aigw",
            "deploy",
            *("--env", "dev", "--cloud", "local"),
            "--yes",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    seconds = time.perf_counter() - t0
    try:
        data = json.loads(r.stdout)
    except ValueError:
        data = {"stderr": r.stderr[-2000:]}
    return r.returncode, seconds, data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from aigw.engine import localcloud as daemon

    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="aigw-bench-rollout-") as tmp:
        root = Path(tmp)
        env = environ(root)
        ca = root / "localcloud" / "ca.pem"
        env_file = Path(env["AIGW_ENV_DIR"]) / "dev.yaml"
        try:
            code, seconds, first = deploy(env)
            if code != 0:
                raise SystemExit(f"first deploy failed: {first}")
            url = first["outputs"]["gateway_url"]
            plan = [
                ("changed config", f"gpt-5.3-codex-v{i}", "2025-04-01-preview", 0)
                for i in range(args.rounds)
            ]
            plan += [
                ("broken config", f"gpt-5.3-codex-bad{i}", "2024-10-21", 1)  # kind chat
                for i in range(max(1, args.rounds - 1))
            ]
            for what, alias, api_version, expected in plan:
                # broken: a chat alias on the codex deployment, which serves only the Responses
                # API (plan's preflight cannot see that; the smoke test on the label URL does)
                if expected:
                    pin_codex_deployment(Path(env["AIGW_LOCALCLOUD_DIR"]))
                add_model(env_file, alias, api_version, "chat" if expected else "responses")
                with CallerLoop(url, GATEWAY_KEY, ca, callers=4) as loop:
                    code, seconds, data = deploy(env)
                if expected == 1:  # the broken model leaves the file: the next round is good
                    env_file.write_text(env_file.read_text().rsplit("  - {alias: " + alias, 1)[0])
                roll = data.get("rollout") or {}
                lat = [x * 1000 for x in loop.latencies]
                rows.append(
                    [
                        what,
                        code,
                        code == expected,
                        f"{seconds:.1f}",
                        "yes" if roll.get("promoted") else "no",
                        loop.ok,
                        loop.failed,
                        f"{percentile(lat, 50):.0f}",
                        f"{percentile(lat, 95):.0f}",
                    ]
                )
                print(rows[-1], loop.errors[:3], flush=True)
        finally:
            daemon.stop(root / "localcloud")
    body = (
        f"Machine: {machine()}.\n\n"
        "4 callers loop through the gateway's main URL (POST /v1/responses via LiteLLM 1.81.15 "
        "to the Azure OpenAI emulator, keep-alive connections) during each `aigw deploy --cloud "
        "local` (a subprocess, as a user runs it). *changed config* adds a model (a new "
        "revision); *broken config* adds a chat alias on the codex deployment, which serves "
        "only the Responses API: the smoke test on the candidate's label URL fails, the "
        "traffic stays on the live revision, the candidate is deactivated and deploy exits 1. "
        "A failed call is any transport error or any status but 200.\n\n"
        + table(
            [
                "deploy",
                "exit",
                "as expected",
                "deploy s",
                "promoted",
                "calls ok",
                "calls failed",
                "p50 ms",
                "p95 ms",
            ],
            rows,
        )
    )
    print(write_section("rollout", "Rollouts under load (bench/rollout.py)", body))


if __name__ == "__main__":
    main()
