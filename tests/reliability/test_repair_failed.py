"""Failed resources are repaired, running operations waited for (issue 17 R8). The local
cloud's "failed" fault accepts a PUT and ends its operation Failed, leaving the resource in
provisioningState Failed, as Azure does when provisioning fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.engine import workflow
from aigw.output import report
from aigw.resources import container_app, names_of
from aigw.state import resolve
from aigw_localcloud.core.lro import Timing

from .scenarios import FastStack, fresh_stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[FastStack]:
    with fresh_stack(tmp_path / "stack") as s:
        yield s


def test_a_failed_environment_plans_as_a_repair_and_deploy_repairs_it(stack: FastStack) -> None:
    stack.cloud.faults.add("PUT */managedEnvironments/*", "failed", limit=1)
    _, result = stack.deploy()
    assert not result.ok  # the environment's operation failed; the app was skipped
    session = stack.session()
    env = session.ctx.clients.apps().managed_environments.get(
        session.ctx.rg, names_of(session.config).container_env
    )
    assert env.provisioning_state == "Failed"

    plan = workflow.make_plan(session)
    change = {c.key: c for c in plan.changes}["container_env"]
    assert (change.action.value, change.reason) == (
        "repair",
        "provisioningState is Failed: PUT it again",
    )
    assert any("repair" in line for line in report.plan_markdown(plan).splitlines())

    _, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    assert not workflow.make_plan(stack.session()).has_changes


def _put_app_without_waiting(stack: FastStack) -> None:
    """A deploy that crashed right after PUTting the container app (same body as deploy)."""
    session = stack.session()
    workflow.observe(session)
    res = session.desired.by_key()["container_app"]
    body = container_app.build_body(
        resolve(res.managed, session.ctx.outputs), session.desired.volume_files
    )
    apps = session.ctx.clients.apps().container_apps
    apps.begin_create_or_update(session.ctx.rg, res.name, body)  # never waited for


def _release_after_read(stack: FastStack, app: str, mark: int, timeout: float = 120) -> None:
    """End the running operations once a GET of container app `app` reached the cloud."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            e.method == "GET" and e.path.split("?", 1)[0].lower().endswith(f"/containerapps/{app}")
            for e in stack.since(mark)
        ):
            break
        time.sleep(0.05)
    with stack.cloud.engine.store.write() as st:
        for op in st["operations"].values():
            if op["status"] == "InProgress":
                op["due"] = time.time()


def test_an_app_still_provisioning_is_waited_for(stack: FastStack) -> None:
    _, result = stack.deploy()
    assert result.ok
    stack.cloud.engine.timing = Timing("realistic", 0.05)  # an app update takes 1.5 s
    _put_app_without_waiting(stack)
    plan = workflow.make_plan(stack.session())
    running = [
        op for op in stack.cloud.operations()
        if op["kind"] == "containerapp.update" and op["status"] == "InProgress"
    ]  # fmt: skip
    assert not running  # the plan read the app after its operation ended
    assert not plan.has_changes


def test_an_app_that_fails_while_plan_runs_plans_as_a_repair(stack: FastStack) -> None:
    _, result = stack.deploy()
    assert result.ok
    stack.cloud.engine.timing = Timing("realistic", 0.05)
    stack.cloud.faults.add("PUT */containerApps/*", "failed", limit=1)
    _put_app_without_waiting(stack)
    plan = workflow.make_plan(stack.session())  # InProgress now, Failed 1.5 s later
    change = {c.key: c for c in plan.changes}["container_app"]
    assert change.action.value == "repair", plan.to_json()
    stack.cloud.engine.timing = Timing()
    _, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    assert not workflow.make_plan(stack.session()).has_changes


KEY_MODE_YAML = "\nazure_openai:\n  auth: key\n  api_key_env: AIGW_AZURE_OPENAI_API_KEY\n"


def test_plan_says_what_it_waits_for(stack: FastStack, tmp_path: Path) -> None:
    from aigw_localcloud.core.endpoint import write_endpoint
    from engine.harness import copy_envs

    from .cli_support import aigw
    from .test_secrets_and_destroy import KEYS

    stack.cloud.aoai_url = stack.aoai.url
    write_endpoint(stack.cloud.state_dir, stack.cloud.endpoint())
    # the CLI reads a copy of the files in the key mode the harness deploys with (Stack.config)
    env_dir = copy_envs(tmp_path / "environments")
    prod = env_dir / "prod.yaml"
    prod.write_text(prod.read_text() + KEY_MODE_YAML)
    _, result = stack.deploy()
    assert result.ok
    # The app's operation is held until the CLI has read the app (however long the CLI takes to
    # start on a loaded machine), then ends: the plan must have seen it InProgress and waited.
    stack.cloud.engine.timing = Timing("realistic", 10.0)  # 300 s unless released
    _put_app_without_waiting(stack)
    app = names_of(stack.config("prod")).container_app.lower()
    release = threading.Thread(target=_release_after_read, args=(stack, app, stack.mark()))
    release.start()
    ran = aigw(
        "plan", "--env", "prod", "--cloud", "local", "--detailed-exitcode",
        cloud_dir=stack.cloud.state_dir,
        env={**KEYS, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md"), "AIGW_ENV_DIR": str(env_dir)},
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    waits = [ln for ln in ran.stderr.splitlines() if ln.startswith("waiting for container_app")]
    release.join(timeout=5)
    assert len(waits) == 1 and "InProgress" in waits[0], ran.stderr
