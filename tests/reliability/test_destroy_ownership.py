"""Destroy deletes only what this environment owns (issue 17 R2): aigw's resources one by one,
then the group only if, listed again right before its DELETE, nothing foreign is in it.
Foreign: missing any of managed-by=aigw, aigw-env=<env>, aigw-project=<project>."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.engine import workflow
from aigw.engine.plan import Action
from aigw_localcloud.core.endpoint import write_endpoint

from .cli_support import aigw
from .scenarios import FastStack, fresh_stack
from .test_secrets_and_destroy import KEYS

LOC = {"location": "southafricanorth"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[FastStack]:
    with fresh_stack(tmp_path / "stack") as s:
        s.cloud.aoai_url = s.aoai.url
        write_endpoint(s.cloud.state_dir, s.cloud.endpoint())
        yield s


def _left(stack: FastStack, rg: str) -> list[str]:
    clients = stack.session().ctx.clients
    return sorted(str(r.name) for r in clients.resources().resources.list_by_resource_group(rg))


def test_identity_created_after_the_plan_survives_destroy(stack: FastStack) -> None:
    _, result = stack.deploy()
    assert result.ok
    session = stack.session()
    rg = session.desired.resource_group
    plan = workflow.make_plan(session, destroy=True)
    assert {c.key: c.action for c in plan.changes}["resource_group"] is Action.delete
    # Someone else's identity lands in the group between the plan and the apply.
    ids = session.ctx.clients.msi().user_assigned_identities
    ids.create_or_update(rg, "someone-elses-identity", {**LOC, "tags": {"team": "data"}})
    result = workflow.apply(session, plan)
    assert result.ok, [e.one_line() for e in result.errors]
    assert _left(stack, rg) == ["someone-elses-identity"]  # ours gone, theirs and the group kept
    kept = session.ctx.outputs["resource_group"]["kept"]
    assert "someone-elses-identity" in kept and "does not own" in kept


def test_identity_of_another_aigw_project_survives_destroy(
    stack: FastStack, tmp_path: Path
) -> None:
    _, result = stack.deploy()
    assert result.ok
    session = stack.session()
    rg = session.desired.resource_group
    other = {**session.desired.tags, "aigw-project": "another-project"}
    ids = session.ctx.clients.msi().user_assigned_identities
    ids.create_or_update(rg, "another-projects-identity", {**LOC, "tags": other})
    plan = workflow.make_plan(stack.session(), destroy=True)
    group = {c.key: c for c in plan.changes}["resource_group"]
    assert group.action is Action.noop and "another-projects-identity" in group.reason
    ran = aigw(
        "destroy", "--env", "prod", "--cloud", "local", "--yes", "--confirm-env", "prod",
        cloud_dir=stack.cloud.state_dir,
        env={**KEYS, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")},
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert _left(stack, rg) == ["another-projects-identity"]


def test_kept_group_says_why_on_the_cli(stack: FastStack, tmp_path: Path) -> None:
    """The group DELETE is decided by the re-list: a foreign resource appearing after the
    plan keeps the group, with one warning line naming it; exit 0 (nothing of ours is left)."""
    import threading

    _, result = stack.deploy()
    assert result.ok
    session = stack.session()
    rg = session.desired.resource_group
    ids = session.ctx.clients.msi().user_assigned_identities
    # The foreign identity is created as soon as aigw deletes the container app (after the
    # plan was read, before the group's turn).
    seen = threading.Event()

    def create_when_app_deleted() -> None:
        for _ in range(600):
            if any(
                e.method == "DELETE" and "containerapps/" in e.path.lower()
                for e in stack.cloud.journal.entries()
            ):
                ids.create_or_update(rg, "late-identity", {**LOC, "tags": {}})
                seen.set()
                return
            threading.Event().wait(0.02)

    t = threading.Thread(target=create_when_app_deleted, daemon=True)
    t.start()
    ran = aigw(
        "destroy", "--env", "prod", "--cloud", "local", "--yes", "--confirm-env", "prod",
        cloud_dir=stack.cloud.state_dir,
        env={**KEYS, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")},
    )  # fmt: skip
    t.join(5)
    assert seen.is_set()
    assert ran.code == 0, ran.stderr
    lines = [ln for ln in ran.stderr.splitlines() if "kept resource group" in ln]
    assert len(lines) == 1 and "late-identity" in lines[0], ran.stderr
    assert _left(stack, rg) == ["late-identity"]
