"""The vault deleted out of band (its group kept): Azure deletes the role assignments on it with
it and a recover does not restore them (learn.microsoft.com/azure/key-vault/general/
soft-delete-overview). The next deploy recovers the vault AND grants both roles again; the
app's identity then resolves its Key Vault references, and a second plan is empty."""

from __future__ import annotations

from pathlib import Path

from azure.core.exceptions import ResourceNotFoundError

from aigw.azure.session import Clients
from aigw.engine import workflow
from aigw.engine.plan import Action
from aigw.resources import names_of

from .harness import close_stack, make_stack


def test_deploy_after_out_of_band_vault_delete_recovers_and_grants_again(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, with_gateway=False)
    try:
        _, first = stack.deploy()
        assert first.ok, [e.one_line() for e in first.errors]
        names = names_of(stack.config())
        clients = Clients(stack.target())
        ras = clients.authorization().role_assignments
        vault_id = clients.keyvault().vaults.get(names.resource_group, names.key_vault).id
        grants = [a for a in ras.list_for_scope(vault_id) if a.scope.lower() == vault_id.lower()]
        assert len(grants) == 2, [(a.name, a.role_definition_id) for a in grants]

        clients.keyvault().vaults.delete(names.resource_group, names.key_vault)
        for a in grants:  # gone with the vault, as on Azure
            try:
                ras.get(a.scope, a.name)
            except ResourceNotFoundError:
                continue
            raise AssertionError(f"role assignment {a.name} survived its vault")

        plan, result = stack.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        actions = {c.key: c.action for c in plan.writes}
        assert actions["key_vault"] is Action.recover, plan.to_json()
        assert actions["role:deployer-secrets-officer"] is Action.create, plan.to_json()
        assert actions["role:app-secrets-user"] is Action.create, plan.to_json()
        for a in grants:  # the same deterministic names, made again
            assert ras.get(a.scope, a.name).principal_id == a.principal_id

        # The app's identity reads its secrets again: a PUT of the app as it is resolves them.
        apps = clients.apps().container_apps
        app = apps.get(names.resource_group, names.container_app).as_dict()
        apps.begin_create_or_update(names.resource_group, names.container_app, app).result()

        mark = stack.mark()
        session = stack.session()
        try:
            again = workflow.make_plan(session)
        finally:
            session.close()
        assert not again.has_changes, again.to_json()
        assert stack.writes_since(mark) == []
    finally:
        close_stack(stack)
