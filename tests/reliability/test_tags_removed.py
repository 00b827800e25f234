"""A tag removed from the YAML is a change (issue 17 R13): aigw lists the YAML tags it set in
its own tag aigw-tags, so the next plan removes the ones the YAML dropped, deploy removes them
and a second plan is empty. Tags others added (not listed) are left alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.engine import workflow
from aigw.engine.plan import Action
from aigw.state import Kind

from .scenarios import FastStack, fresh_stack

TAGGED = {
    Kind.resource_group,
    Kind.log_analytics,
    Kind.identity,
    Kind.key_vault,
    Kind.container_env,
    Kind.container_app,
}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[FastStack]:
    with fresh_stack(tmp_path / "stack") as s:
        yield s


def test_a_tag_removed_from_the_yaml_is_removed_from_every_resource(stack: FastStack) -> None:
    cfg = stack.config("prod")
    assert "owner" in cfg.tags
    _, result = stack.deploy(config=cfg)
    assert result.ok
    session = stack.session()
    rg = session.desired.resource_group
    rgs = session.ctx.clients.resources().resource_groups
    # Someone else tags the group by hand: not aigw's, so never a change.
    group = rgs.get(rg)
    rgs.create_or_update(rg, {"location": group.location, "tags": {**group.tags, "cost": "42"}})

    dropped = cfg.model_copy(update={"tags": {k: v for k, v in cfg.tags.items() if k != "owner"}})
    plan = workflow.make_plan(stack.session(config=dropped))
    updates = {c.kind for c in plan.changes if c.action is Action.update}
    assert updates == TAGGED, plan.to_json()
    for c in plan.changes:
        if c.action is Action.update:
            assert ("tags.owner", "platform-engineering", "(removed)") in [
                (d.path, d.before, d.after) for d in c.diffs
            ], c.to_json()
            assert not any(d.path == "tags.cost" for d in c.diffs)

    _, result = stack.deploy(config=dropped)
    assert result.ok, [e.one_line() for e in result.errors]
    assert not workflow.make_plan(stack.session(config=dropped)).has_changes
    tags = rgs.get(rg).tags
    assert "owner" not in tags and tags["aigw-tags"] == "env/project"
    assert tags["cost"] == "42"  # the tag aigw did not set survives aigw's PUT

    # Removing the last YAML tag removes aigw-tags too.
    bare = cfg.model_copy(update={"tags": {}})
    plan = workflow.make_plan(stack.session(config=bare))
    paths = {d.path for c in plan.changes for d in c.diffs if c.kind is Kind.identity}
    assert paths == {"tags.aigw-tags", "tags.env", "tags.project"}, plan.to_json()
    _, result = stack.deploy(config=bare)
    assert result.ok
    assert not workflow.make_plan(stack.session(config=bare)).has_changes
