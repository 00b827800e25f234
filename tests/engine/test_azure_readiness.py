"""Issue 11 (behaviours 1, 2, 5, 7) and issue 17 R13: failures real Azure produces, on the
local cloud, through aigw's own workflow and the real SDKs (no gateway process needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aigw.config.model import EnvConfig
from aigw.engine import workflow
from aigw.errors import UserError
from aigw.resources import names_of
from aigw.resources.role_assignment import KEY_VAULT_SECRETS_OFFICER
from aigw_localcloud.core.capture import ENV_VAR as CAPTURE_VAR

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
    name = names_of(stack.config()).key_vault
    with stack.cloud.engine.store.read() as st:
        vault = next(r for r in st["resources"].values() if r["name"] == name)
    assert vault["properties"]["accessPolicies"] == []
    assert vault["properties"]["enableRbacAuthorization"] is True


def _with_vault(cfg: EnvConfig, **changes: Any) -> EnvConfig:
    return cfg.model_copy(update={"key_vault": cfg.key_vault.model_copy(update=changes)})


def _plan_refusal(stack: Stack, cfg: EnvConfig) -> str:
    """The one line plan refuses with; and nothing was written on the way."""
    mark = stack.mark()
    session = stack.session(config=cfg)
    try:
        with pytest.raises(UserError) as info:
            workflow.make_plan(session)
    finally:
        session.close()
    assert stack.writes_since(mark) == []
    line = info.value.one_line()
    assert "\n" not in line
    return line


def test_changed_retention_plans_as_a_refusal(stack: Stack) -> None:
    """Behaviour 5: softDeleteRetentionInDays cannot change after create (Azure: 400
    BadRequest); plan says so in one line instead of 'no changes' or a failed PUT."""
    _, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    cfg = stack.config()
    before = cfg.key_vault.soft_delete_retention_days
    changed = _with_vault(cfg, soft_delete_retention_days=7 if before != 7 else 30)
    line = _plan_refusal(stack, changed.model_copy(update={"tags": {**cfg.tags, "t": "1"}}))
    assert "retention of an existing vault cannot change" in line
    assert "key_vault.soft_delete_retention_days" in line and str(before) in line


def test_vault_retention_is_sent_only_on_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behaviour 5: a later vault PUT (here a tag change) leaves retention out."""
    captured = tmp_path / "traffic"
    monkeypatch.setenv(CAPTURE_VAR, str(captured))
    s = make_stack(tmp_path / "stack", with_gateway=False)
    try:
        _, result = s.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        cfg = s.config()
        _, result = s.deploy(config=cfg.model_copy(update={"tags": {**cfg.tags, "t": "1"}}))
        assert result.ok, [e.one_line() for e in result.errors]
    finally:
        close_stack(s)
    name = names_of(cfg).key_vault
    puts = [
        d["liveRequest"]["body"]["properties"]
        for d in (json.loads(f.read_text()) for f in sorted(captured.glob("*.json")))
        if d["liveRequest"]["method"] == "PUT"
        and d["liveRequest"]["url"].split("?")[0].endswith(f"/vaults/{name}")
    ]
    assert len(puts) == 2
    assert puts[0]["softDeleteRetentionInDays"] == cfg.key_vault.soft_delete_retention_days
    assert "softDeleteRetentionInDays" not in puts[1]


def test_location_without_container_apps_fails_in_plan(stack: Stack) -> None:
    """Behaviour 7: the provider metadata plan already reads says where each resource type
    lives; a YAML location without Container Apps fails in plan, before any write."""
    cfg = stack.config().model_copy(update={"location": "westindia", "location_short": "inw"})
    line = _plan_refusal(stack, cfg)
    assert line.startswith("dev.yaml: location:"), line
    assert "Microsoft.App/managedEnvironments" in line and "southafricanorth" in line


def _other_group_vault(stack: Stack, name: str, *, delete: bool) -> None:
    """A vault named `name` in another resource group of the same subscription."""
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    cloud = stack.cloud
    kw: dict[str, Any] = cloud.client_kwargs()
    ResourceManagementClient(
        cloud.credential(), cloud.subscription_id, **kw
    ).resource_groups.create_or_update("someone-elses-rg", {"location": "southafricanorth"})
    vaults = KeyVaultManagementClient(cloud.credential(), cloud.subscription_id, **kw).vaults
    body = {
        "location": "southafricanorth",
        "properties": {
            "tenantId": cloud.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
        },
    }
    vaults.begin_create_or_update("someone-elses-rg", name, body).result()
    if delete:
        vaults.delete("someone-elses-rg", name)


@pytest.mark.parametrize("where", ["another subscription", "another group", "soft-deleted"])
def test_vault_name_taken_fails_in_plan(stack: Stack, where: str) -> None:
    """Issue 17 R13: vault names are global; checkNameAvailability in plan finds a taken name
    before anything is created, and says how to choose another one."""
    name = names_of(stack.config()).key_vault
    if where == "another subscription":
        stack.cloud.seed_taken_vault_name(name)
    else:
        _other_group_vault(stack, name, delete=where == "soft-deleted")
    line = _plan_refusal(stack, stack.config())
    assert line.startswith("dev.yaml: key_vault.name_suffix:"), line
    assert name in line and "name_suffix" in line
