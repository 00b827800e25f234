"""When the local cloud dies mid-deploy, aigw says so within seconds and names the command
that starts it again (issue 17 R9), instead of retrying for minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw_localcloud.core.endpoint import write_endpoint
from aigw_localcloud.core.lro import Timing

from .cli_support import aigw
from .scenarios import FastStack, fresh_stack
from .test_secrets_and_destroy import KEYS


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[FastStack]:
    with fresh_stack(tmp_path / "stack") as s:
        s.cloud.aoai_url = s.aoai.url
        write_endpoint(s.cloud.state_dir, s.cloud.endpoint())
        yield s


def test_a_dead_local_cloud_is_named_within_seconds(stack: FastStack, tmp_path: Path) -> None:
    # The environment takes 4.8 s to provision: the cloud dies while aigw polls it.
    stack.cloud.engine.timing = Timing("realistic", 0.02)
    died: list[float] = []

    def kill_when_the_environment_is_put() -> None:
        for _ in range(3000):
            if any(
                e.method == "PUT" and "managedenvironments/" in e.path.lower()
                for e in stack.cloud.journal.entries()
            ):
                stack.cloud.stop()  # connections to its ports are refused from now on
                died.append(time.monotonic())
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_when_the_environment_is_put, daemon=True)
    killer.start()
    ran = aigw(
        "deploy", "--env", "prod", "--cloud", "local", "--yes", "--no-smoke",
        cloud_dir=stack.cloud.state_dir,
        env={**KEYS, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")},
        timeout=90,
    )  # fmt: skip
    ended = time.monotonic()
    killer.join(5)
    assert died, "the deploy never reached the environment"
    assert ran.code == 1, ran.stderr
    errors = [ln for ln in ran.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, ran.stderr
    assert "local cloud" in errors[0] and "aigw localcloud start" in errors[0], errors[0]
    assert "Traceback" not in ran.stderr and "ServiceRequestError" not in ran.stderr
    print(f"aigw exited {ended - died[0]:.1f} s after the local cloud died")
    assert ended - died[0] < 20, f"took {ended - died[0]:.1f} s after the cloud died"
