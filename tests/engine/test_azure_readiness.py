"""Issue 11 (behaviours 1, 2, 5, 7) and issue 17 R13: failures real Azure produces, on the
local cloud, through aigw's own workflow and the real SDKs (no gateway process needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.desired import KEY_VAULT_SECRETS_OFFICER

from .harness import Stack, close_stack, make_stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = make_stack(tmp_path, with_gateway=False)
    try:
        yield s
    finally:
        close_stack(s)


def _officer_assignments(stack: Stack) -> list[dict[str, str]]:
    with stack.cloud.engine.store.read() as st:
        return [
            ra["properties"]
            for ra in st["role_assignments"].values()
            if ra["properties"]["roleDefinitionId"].endswith(KEY_VAULT_SECRETS_OFFICER)
        ]


@pytest.mark.parametrize("kind", ["User", "ServicePrincipal"])
def test_deployer_role_assignment_carries_the_signed_in_principal_kind(
    stack: Stack, kind: str
) -> None:
    """Behaviour 1: `az login` (a User) and CI (a ServicePrincipal) both deploy; ARM refuses a
    principalType that is not the principal's own with 400 UnmatchedPrincipalType."""
    stack.cloud.set_deployer_kind(kind)
    _, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    officer = _officer_assignments(stack)
    assert [(p["principalId"], p["principalType"]) for p in officer] == [
        (stack.cloud.deployer_principal_id, kind)
    ]


def test_vault_is_created_with_access_policies_as_the_spec_requires(stack: Stack) -> None:
    """Behaviour 2: accessPolicies is required unless createMode is recover (2026-05-15 spec);
    the local cloud refuses a create without it, and aigw sends `[]` (the vault is RBAC)."""
    _, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    name = stack.config().names().key_vault
    with stack.cloud.engine.store.read() as st:
        vault = next(r for r in st["resources"].values() if r["name"] == name)
    assert vault["properties"]["accessPolicies"] == []
    assert vault["properties"]["enableRbacAuthorization"] is True
