"""The vault's publicNetworkAccess is a managed field (Enabled, stated in desired.py with why):
turned off out of band, the container app can no longer resolve its Key Vault references (the
local cloud refuses them as Azure does), plan shows the drift, deploy repairs it, a second plan
is empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from aigw.azure.session import Clients
from aigw.engine import workflow
from aigw.engine.plan import Action
from aigw.resources import names_of

from .harness import close_stack, make_stack


def test_public_network_access_drift_is_planned_and_repaired(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, with_gateway=False)
    try:
        _, first = stack.deploy()
        assert first.ok, [e.one_line() for e in first.errors]
        names = names_of(stack.config())
        clients = Clients(stack.target())
        vaults = clients.keyvault().vaults
        body = vaults.get(names.resource_group, names.key_vault).as_dict()
        assert body["properties"]["publicNetworkAccess"] == "Enabled"
        vaults.begin_create_or_update(
            names.resource_group,
            names.key_vault,
            {
                "location": body["location"],
                "tags": body["tags"],
                "properties": {
                    "tenantId": body["properties"]["tenantId"],
                    "sku": {"family": "A", "name": "standard"},
                    "accessPolicies": [],  # required unless createMode is recover
                    "publicNetworkAccess": "Disabled",
                },
            },
        ).result()

        # Why aigw keeps it Enabled: the app's Key Vault references no longer resolve.
        apps = clients.apps().container_apps
        app = apps.get(names.resource_group, names.container_app).as_dict()
        with pytest.raises(HttpResponseError) as info:
            apps.begin_create_or_update(names.resource_group, names.container_app, app).result()
        assert "Unable to get value using Managed identity" in str(info.value)

        session = stack.session()
        plan = workflow.make_plan(session)
        writes = {c.key: c for c in plan.writes}
        assert set(writes) == {"key_vault"}, plan.to_json()
        assert writes["key_vault"].action is Action.update
        assert [(d.path, d.before, d.after) for d in writes["key_vault"].diffs] == [
            ("publicNetworkAccess", "Disabled", "Enabled")
        ]
        result = workflow.apply(session, plan)
        session.close()
        assert result.ok, [e.one_line() for e in result.errors]
        assert vaults.get(names.resource_group, names.key_vault).properties.public_network_access
        mark = stack.mark()
        session = stack.session()
        assert not workflow.make_plan(session).has_changes
        session.close()
        assert stack.writes_since(mark) == []
        apps.begin_create_or_update(names.resource_group, names.container_app, app).result()
    finally:
        close_stack(stack)
