"""Deleting a Key Vault deletes the role assignments scoped at or under it; recovering the vault
does not bring them back (learn.microsoft.com/azure/key-vault/general/soft-delete-overview:
"When a Key Vault is soft-deleted, services that are integrated with the Key Vault are deleted.
For example: Azure RBAC roles assignments ... Recovering a soft-deleted Key Vault does not
restore these services. They must be recreated.")."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from aigw_localcloud.cloud import LocalCloud

from .conftest import SECRETS_OFFICER, SECRETS_USER, Clients
from .stack import LOC, RG


def _vault(c: Clients, name: str, **props: object) -> object:
    body = {
        "location": LOC,
        "properties": {
            "tenantId": c.cloud.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "accessPolicies": [],
            **props,
        },
    }
    return c.keyvault.vaults.begin_create_or_update(RG, name, body).result()


def test_deleting_a_vault_deletes_its_role_assignments(cloud: LocalCloud, clients: Clients) -> None:
    clients.resource.resource_groups.create_or_update(RG, {"location": LOC})
    v = _vault(clients, "kv-rbac")
    other = _vault(clients, "kv-other")
    officer = clients.grant(v.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
    # an assignment under the vault (one secret's scope) goes too; the other vault's stays
    under = clients.grant(f"{v.id}/secrets/s", SECRETS_USER, cloud.deployer_principal_id, "User")
    kept = clients.grant(other.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
    clients.secrets(v.properties.vault_uri).set_secret("s", "v1")

    clients.keyvault.vaults.delete(RG, "kv-rbac")

    ra = clients.auth.role_assignments
    for gone in (officer, under):
        with pytest.raises(ResourceNotFoundError):
            ra.get(gone.scope, gone.name)
    assert ra.get(kept.scope, kept.name).principal_id == cloud.deployer_principal_id
    listed = {a.name for a in ra.list_for_scope(v.id)}
    assert officer.name not in listed and under.name not in listed

    # Recovered with its secrets, but not with its grants: reading needs a new assignment.
    v2 = _vault(clients, "kv-rbac", createMode="recover")
    sc = clients.secrets(v2.properties.vault_uri)
    with pytest.raises(HttpResponseError) as e:
        sc.get_secret("s")
    assert e.value.status_code == 403
    clients.grant(v2.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
    assert sc.get_secret("s").value == "v1"
