"""What real Azure does to a deploy, on the local cloud (no gateway process needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.engine import workflow
from aigw.engine.apply import raise_on_failure
from aigw.engine.plan import Action
from aigw.errors import AzureError, UserError
from aigw.resources import names_of

from .harness import Stack, close_stack, make_stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = make_stack(tmp_path, with_gateway=False)
    try:
        yield s
    finally:
        close_stack(s)


def test_unregistered_provider_gets_registered(stack: Stack) -> None:
    stack.cloud.set_provider_state("Microsoft.App", "NotRegistered")
    plan, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    actions = {c.key: c.action for c in plan.changes}
    assert actions["provider:Microsoft.App"] is Action.register
    assert not workflow.make_plan(stack.session()).has_changes


def test_deployer_without_rights_gets_one_line(stack: Stack) -> None:
    stack.cloud.deny_deployer_authorization(True)
    _, result = stack.deploy()
    assert not result.ok
    with pytest.raises(AzureError) as info:
        raise_on_failure(result)
    line = info.value.one_line()
    assert "\n" not in line and "AuthorizationFailed" in line and "role" in line.lower()


def test_vault_name_taken_elsewhere_says_how_to_fix(stack: Stack) -> None:
    stack.cloud.seed_taken_vault_name(names_of(stack.config()).key_vault)
    # Found in plan now (checkNameAvailability), before anything is created.
    with pytest.raises(UserError) as info:
        stack.deploy()
    assert "name_suffix" in info.value.one_line()
