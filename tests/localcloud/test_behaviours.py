"""Azure behaviours the emulator reproduces (errors with Azure's codes and messages)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from aigw_localcloud.cloud import LocalCloud

from .conftest import KV_ADMIN, SECRETS_OFFICER, SECRETS_USER, Clients, make_clients
from .stack import LOC, RG, app_body, deploy

VAULT_PROPS = {
    "sku": {"family": "A", "name": "standard"},
    "enableRbacAuthorization": True,
    "accessPolicies": [],
}


def _rg(c: Clients) -> None:
    c.resource.resource_groups.create_or_update(RG, {"location": LOC})


def _vault(c: Clients, name: str, **props: object) -> object:
    body = {"location": LOC, "properties": {"tenantId": c.cloud.tenant_id, **VAULT_PROPS, **props}}
    return c.keyvault.vaults.begin_create_or_update(RG, name, body).result()


def test_unregistered_provider_then_register(cloud: LocalCloud, clients: Clients) -> None:
    cloud.set_provider_state("Microsoft.KeyVault", "NotRegistered")
    _rg(clients)
    with pytest.raises(HttpResponseError) as e:
        _vault(clients, "kv-unreg")
    assert e.value.status_code == 409
    assert e.value.error.code == "MissingSubscriptionRegistration"
    assert "not registered to use namespace 'Microsoft.KeyVault'" in e.value.error.message
    p = clients.resource.providers.register("Microsoft.KeyVault")
    assert p.registration_state == "Registering"
    assert clients.resource.providers.get("Microsoft.KeyVault").registration_state == "Registered"
    assert _vault(clients, "kv-unreg").properties.provisioning_state == "Succeeded"


def test_vault_names_are_global_and_soft_delete(cloud: LocalCloud, clients: Clients) -> None:
    _rg(clients)
    cloud.seed_taken_vault_name("kv-taken")
    kv = clients.keyvault.vaults
    res = kv.check_name_availability({"name": "kv-taken", "type": "Microsoft.KeyVault/vaults"})
    assert res.name_available is False and res.reason == "AlreadyExists"
    assert kv.check_name_availability(
        {"name": "kv-free", "type": "Microsoft.KeyVault/vaults"}
    ).name_available
    with pytest.raises(ResourceExistsError) as e:
        _vault(clients, "kv-taken")
    assert e.value.error.code == "VaultAlreadyExists"

    v = _vault(clients, "kv-soft")
    c = clients.secrets(v.properties.vault_uri)
    clients.grant(v.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
    c.set_secret("s", "v1")
    kv.delete(RG, "kv-soft")
    with pytest.raises(ResourceNotFoundError):
        kv.get(RG, "kv-soft")
    assert [d.name for d in kv.list_deleted()] == ["kv-soft"]
    assert not kv.check_name_availability(
        {"name": "kv-soft", "type": "Microsoft.KeyVault/vaults"}
    ).name_available
    with pytest.raises(ResourceExistsError) as e:
        _vault(clients, "kv-soft")
    assert e.value.error.code == "ConflictError" and "deleted state" in e.value.error.message
    # Recover brings back the vault and its secrets, at the same URL (not its role
    # assignments: tests/localcloud/test_vault_delete_rbac.py).
    v2 = _vault(clients, "kv-soft", createMode="recover")
    assert v2.properties.vault_uri == v.properties.vault_uri
    clients.grant(v2.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
    assert clients.secrets(v2.properties.vault_uri).get_secret("s").value == "v1"
    # Purge: allowed without purge protection.
    kv.delete(RG, "kv-soft")
    kv.begin_purge_deleted("kv-soft", LOC).result()
    with pytest.raises(ResourceNotFoundError):
        kv.get_deleted("kv-soft", LOC)


def test_purge_protection(clients: Clients) -> None:
    _rg(clients)
    kv = clients.keyvault.vaults
    _vault(clients, "kv-pp", enablePurgeProtection=True)
    with pytest.raises(HttpResponseError) as e:
        _vault(clients, "kv-pp", enablePurgeProtection=False)
    assert e.value.status_code == 400 and "irreversible" in e.value.error.message
    kv.delete(RG, "kv-pp")
    assert kv.get_deleted("kv-pp", LOC).properties.purge_protection_enabled is True
    with pytest.raises(HttpResponseError) as e:
        kv.begin_purge_deleted("kv-pp", LOC).result()
    assert e.value.error.code == "MethodNotAllowed"


def test_data_plane_challenge_and_rbac(tmp_path) -> None:
    with LocalCloud(tmp_path / "c", retry_after=None, propagation_delay=0.5) as cloud:
        c = make_clients(cloud)
        _rg(c)
        v = _vault(c, "kv-rbac")
        url = v.properties.vault_uri
        # Raw first request: 401 with Key Vault's challenge.
        r = requests.get(
            f"{url}secrets/x?api-version=2026-04-01", verify=str(cloud.ca_file), timeout=5
        )
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == (
            f'Bearer authorization="https://login.microsoftonline.com/{cloud.tenant_id}", '
            'resource="https://vault.azure.net"'
        )
        sc = c.secrets(url)
        with pytest.raises(HttpResponseError) as e:
            sc.set_secret("a", "b")
        assert e.value.status_code == 403 and e.value.error.code == "Forbidden"
        assert e.value.response.json()["error"]["innererror"]["code"] == "ForbiddenByRbac"
        c.grant(v.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
        with pytest.raises(HttpResponseError):  # not yet in effect
            sc.set_secret("a", "b")
        time.sleep(0.6)
        assert sc.set_secret("a", "b").value == "b"
        # A role at resource-group scope works too (inherited), for another principal.
        other = str(uuid.uuid4())
        c.grant(f"/subscriptions/{cloud.subscription_id}/resourceGroups/{RG}", SECRETS_USER, other)
        time.sleep(0.6)
        assert c.secrets(url, cloud.credential(other)).get_secret("a").value == "b"
        with pytest.raises(HttpResponseError):  # Secrets User cannot write
            c.secrets(url, cloud.credential(other)).set_secret("a", "c")


def test_secret_lifecycle(cloud: LocalCloud, clients: Clients) -> None:
    _rg(clients)
    v = _vault(clients, "kv-life")
    clients.grant(v.id, KV_ADMIN, cloud.deployer_principal_id, "User")
    sc = clients.secrets(v.properties.vault_uri)
    s1 = sc.set_secret("k", "one", content_type="text/plain", tags={"a": "b"})
    s2 = sc.set_secret("k", "two")
    assert sc.get_secret("k").value == "two"
    assert sc.get_secret("k", s1.properties.version).value == "one"
    assert {p.version for p in sc.list_properties_of_secret_versions("k")} == {
        s1.properties.version,
        s2.properties.version,
    }
    assert [p.name for p in sc.list_properties_of_secrets()] == ["k"]
    deleted = sc.begin_delete_secret("k").result()
    assert deleted.recovery_id.endswith("/deletedsecrets/k")
    assert sc.get_deleted_secret("k").name == "k"
    with pytest.raises(ResourceNotFoundError):
        sc.get_secret("k")
    with pytest.raises(ResourceExistsError):
        sc.set_secret("k", "three")
    sc.begin_recover_deleted_secret("k").result()
    assert sc.get_secret("k").value == "two"
    sc.begin_delete_secret("k").result()
    sc.purge_deleted_secret("k")
    with pytest.raises(ResourceNotFoundError):
        sc.get_deleted_secret("k")
    assert sc.set_secret("k", "fresh").value == "fresh"


def test_role_assignment_rules(cloud: LocalCloud, clients: Clients) -> None:
    _rg(clients)
    v = _vault(clients, "kv-ra")
    unknown = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as e:
        clients.grant(v.id, SECRETS_USER, unknown, "User")
    assert e.value.status_code == 400 and e.value.error.code == "PrincipalNotFound"
    ra = clients.grant(v.id, SECRETS_USER, unknown, "ServicePrincipal")  # the documented workaround
    assert ra.scope == v.id and ra.principal_type == "ServicePrincipal"
    assert clients.auth.role_assignments.get(v.id, ra.name).principal_id == unknown
    with pytest.raises(ResourceExistsError) as e:
        clients.grant(v.id, SECRETS_USER, unknown, "ServicePrincipal")
    assert e.value.error.code == "RoleAssignmentExists"
    flt = f"principalId eq '{unknown}'"
    assert [r.name for r in clients.auth.role_assignments.list_for_scope(v.id, filter=flt)] == [
        ra.name
    ]
    defs = list(
        clients.auth.role_definitions.list(v.id, filter="roleName eq 'Key Vault Secrets User'")
    )
    assert [d.name for d in defs] == [SECRETS_USER]
    assert (
        clients.auth.role_definitions.get(v.id, SECRETS_OFFICER).role_name
        == "Key Vault Secrets Officer"
    )
    clients.auth.role_assignments.delete(v.id, ra.name)
    assert not list(clients.auth.role_assignments.list_for_scope(v.id, filter=flt))
    cloud.deny_deployer_authorization(True)
    with pytest.raises(HttpResponseError) as e:
        clients.grant(v.id, SECRETS_USER, unknown)
    assert e.value.status_code == 403 and e.value.error.code == "AuthorizationFailed"


def test_environment_with_apps_cannot_be_deleted(clients: Clients) -> None:
    deploy(clients)
    with pytest.raises(HttpResponseError) as e:
        clients.apps.managed_environments.begin_delete(RG, "cae-test").result()
    assert e.value.status_code == 409 and e.value.error.code == "ManagedEnvironmentHasContainerApps"
    clients.apps.container_apps.begin_delete(RG, "ca-test").result()
    clients.apps.managed_environments.begin_delete(RG, "cae-test").result()
    with pytest.raises(ResourceNotFoundError):
        clients.apps.managed_environments.get(RG, "cae-test")


def test_key_vault_reference_needs_identity_access(cloud: LocalCloud, clients: Clients) -> None:
    s = deploy(clients)
    uri = s.vault.properties.vault_uri
    # An identity without a role on the vault cannot read the reference.
    other = clients.msi.user_assigned_identities.create_or_update(RG, "id-other", {"location": LOC})
    with pytest.raises(HttpResponseError) as e:
        clients.apps.container_apps.begin_create_or_update(
            RG, "ca-2", app_body(s.env.id, other.id, uri)
        ).result()
    assert e.value.error.code == "InvalidParameterValueInContainerTemplate"
    assert "Unable to get value using Managed identity" in e.value.error.message
    # A missing secret fails the same way.
    body = app_body(s.env.id, s.identity.id, uri)
    body["properties"]["configuration"]["secrets"][0]["keyVaultUrl"] = f"{uri}secrets/missing"
    with pytest.raises(HttpResponseError):
        clients.apps.container_apps.begin_create_or_update(RG, "ca-3", body).result()
    # The identity must be assigned to the app.
    body = app_body(s.env.id, s.identity.id, uri)
    body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {other.id: {}}}
    with pytest.raises(HttpResponseError):
        clients.apps.container_apps.begin_create_or_update(RG, "ca-4", body).result()


def test_app_start_failure_fails_provisioning(clients: Clients, runner) -> None:
    s = deploy(clients)
    runner.fail_images.add("broken:1")
    body = app_body(s.env.id, s.identity.id, s.vault.properties.vault_uri, image="broken:1")
    with pytest.raises(HttpResponseError) as e:
        clients.apps.container_apps.begin_create_or_update(RG, "ca-test", body).result()
    assert "exited with code 1" in str(e.value)
    assert clients.apps.container_apps.get(RG, "ca-test").properties.provisioning_state == "Failed"


def test_vault_put_without_access_policies_is_refused(cloud: LocalCloud, clients: Clients) -> None:
    """2026-05-15 spec: accessPolicies is required unless createMode is recover."""
    _rg(clients)
    body = {
        "location": LOC,
        "properties": {"tenantId": cloud.tenant_id, "sku": {"family": "A", "name": "standard"}},
    }
    with pytest.raises(HttpResponseError) as info:
        clients.keyvault.vaults.begin_create_or_update(RG, "kv-nopol", body).result()
    assert info.value.status_code == 400
    assert "accessPolicies is not specified" in str(info.value)
    _vault(clients, "kv-nopol")  # with `accessPolicies: []` it is created
    clients.keyvault.vaults.delete(RG, "kv-nopol")
    body["properties"]["createMode"] = "recover"  # a recover needs none
    recovered = clients.keyvault.vaults.begin_create_or_update(RG, "kv-nopol", body).result()
    assert recovered.properties.provisioning_state == "Succeeded"


def test_vault_retention_cannot_change(cloud: LocalCloud, clients: Clients) -> None:
    """Soft-delete retention is fixed at creation; the same value again is fine."""
    _rg(clients)
    _vault(clients, "kv-ret", softDeleteRetentionInDays=30)
    _vault(clients, "kv-ret", softDeleteRetentionInDays=30)
    for change in (
        lambda: _vault(clients, "kv-ret", softDeleteRetentionInDays=90),
        lambda: clients.keyvault.vaults.update(
            RG, "kv-ret", {"properties": {"softDeleteRetentionInDays": 7}}
        ),
    ):
        with pytest.raises(HttpResponseError) as info:
            change()
        assert info.value.status_code == 400
        assert "softDeleteRetentionInDays" in str(info.value) and "can't be modified" in str(
            info.value
        )
    got = clients.keyvault.vaults.get(RG, "kv-ret")
    assert got.properties.soft_delete_retention_in_days == 30


def test_locations_per_resource_type(cloud: LocalCloud, clients: Clients) -> None:
    """The provider GET lists each type's regions; a PUT elsewhere answers 400
    LocationNotAvailableForResourceType, naming the type and the regions it has."""
    app = clients.resource.providers.get("Microsoft.App")
    env_type = next(t for t in app.resource_types if t.resource_type == "managedEnvironments")
    assert "South Africa North" in env_type.locations and "West India" not in env_type.locations
    kv = clients.resource.providers.get("Microsoft.KeyVault")
    vaults = next(t for t in kv.resource_types if t.resource_type == "vaults")
    assert "West India" in vaults.locations
    clients.resource.resource_groups.create_or_update("rg-in", {"location": "westindia"})
    with pytest.raises(HttpResponseError) as info:
        clients.apps.managed_environments.begin_create_or_update(
            "rg-in", "cae-in", {"location": "westindia", "properties": {}}
        ).result()
    assert info.value.status_code == 400
    assert info.value.error.code == "LocationNotAvailableForResourceType"
    assert "'Microsoft.App/managedEnvironments'" in str(info.value)
    assert "southafricanorth" in str(info.value)
    with pytest.raises(HttpResponseError) as info:
        clients.resource.resource_groups.create_or_update("rg-x", {"location": "atlantis"})
    assert info.value.error.code == "LocationNotAvailableForResourceGroup"


def test_vault_name_availability(cloud: LocalCloud, clients: Clients) -> None:
    """Names are global: taken in another group or subscription, or soft-deleted."""
    _rg(clients)
    check = clients.keyvault.vaults.check_name_availability
    body = {"name": "kv-free-1", "type": "Microsoft.KeyVault/vaults"}
    assert check(body).name_available is True
    cloud.seed_taken_vault_name("kv-free-1")  # another subscription has it
    assert check(body).name_available is False
    _vault(clients, "kv-mine-1")
    got = check({"name": "kv-mine-1", "type": "Microsoft.KeyVault/vaults"})
    assert got.name_available is False and got.reason == "AlreadyExists"
    clients.keyvault.vaults.delete(RG, "kv-mine-1")
    assert check({"name": "kv-mine-1", "type": "Microsoft.KeyVault/vaults"}).name_available is False
    with pytest.raises(HttpResponseError):
        check({"name": "kv-free-2"})  # type is required by the spec
