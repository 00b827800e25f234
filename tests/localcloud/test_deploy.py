"""A whole deploy through the real SDK clients, then updates, revisions and teardown."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from .conftest import Clients
from .fake_runner import FakeRunner
from .stack import CONFIG_YAML, GATEWAY_KEY_PATH, LOC, RG, app_body, deploy


def test_deploy_fills_server_side_fields(clients: Clients, runner: FakeRunner) -> None:
    s = deploy(clients)
    cloud = clients.cloud
    assert s.rg.properties.provisioning_state == "Succeeded"
    assert s.rg.tags == {"managed-by": "aigw"}
    assert s.workspace.properties.provisioning_state == "Succeeded"
    assert len(s.workspace.properties.customer_id) == 36
    assert s.identity.tenant_id == cloud.tenant_id
    assert s.identity.principal_id and s.identity.client_id
    assert s.vault.properties.vault_uri.startswith("https://127.0.0.1:")
    assert s.vault.properties.vault_uri.endswith("/")
    assert s.vault.properties.enable_soft_delete is True
    assert s.env.properties.provisioning_state == "Succeeded"
    assert s.env.properties.default_domain.endswith(".eastus.azurecontainerapps.localhost")
    # The shared key is write-only.
    la = s.env.properties.app_logs_configuration.log_analytics_configuration
    assert la.customer_id == s.workspace.properties.customer_id and la.shared_key is None

    app = s.app
    assert app.properties.provisioning_state == "Succeeded"
    assert app.properties.latest_revision_name == "ca-test--0000001"
    assert app.properties.latest_ready_revision_name == "ca-test--0000001"
    assert app.properties.outbound_ip_addresses == ["127.0.0.1"]
    assert (
        app.identity.user_assigned_identities[s.identity.id].principal_id == s.identity.principal_id
    )
    # The app really runs: the FQDN is where the runner serves it.
    spec = runner.started[-1]
    port = runner.running[spec.app_key].server_address[1]
    assert app.properties.configuration.ingress.fqdn == f"127.0.0.1:{port}"
    assert spec.app_key == app.id.lower()
    assert spec.image == "litellm:1"
    assert spec.args == ("--config", "/app/config/config.yaml", "--port", "4000")
    # The Key Vault reference resolved with the app's identity, mounted as a file.
    assert spec.files == {
        "/app/config/config.yaml": CONFIG_YAML.encode(),
        GATEWAY_KEY_PATH: b"sk-gateway-123",
    }
    assert "sk-gateway-123" not in spec.env.values()
    assert spec.target_port == 4000
    assert spec.startup_path == "/health/liveliness"
    assert spec.readiness_path == "/health/readiness"
    # GET never returns secret values; listSecrets does.
    got = clients.apps.container_apps.get(RG, "ca-test")
    assert all(sec.value is None for sec in got.properties.configuration.secrets)
    listed = {
        x.name: x.value for x in clients.apps.container_apps.list_secrets(RG, "ca-test").value
    }
    assert listed == {"gateway-key": "sk-gateway-123", "litellm-config": CONFIG_YAML}
    assert got.tags == {"managed-by": "aigw"}
    names = {r.name for r in clients.resource.resources.list_by_resource_group(RG)}
    assert {"law-test", "id-test", "kv-test-1", "cae-test", "ca-test"} <= names


def test_revisions_only_on_template_change(clients: Clients, runner: FakeRunner) -> None:
    s = deploy(clients)
    apps = clients.apps
    starts = len(runner.started)
    # Configuration-only change (a secret value): same revision, no restart.
    body = app_body(s.env.id, s.identity.id, s.vault.properties.vault_uri)
    body["properties"]["configuration"]["secrets"][1]["value"] = "model_list: [x]\n"
    app = apps.container_apps.begin_create_or_update(RG, "ca-test", body).result()
    assert app.properties.latest_revision_name == "ca-test--0000001"
    assert len(runner.started) == starts
    # Template change: a new revision, and the app restarts with it.
    body = app_body(s.env.id, s.identity.id, s.vault.properties.vault_uri, extra_env="b")
    app = apps.container_apps.begin_create_or_update(RG, "ca-test", body).result()
    assert app.properties.latest_revision_name == "ca-test--0000002"
    assert runner.started[-1].revision == "ca-test--0000002"
    assert runner.started[-1].env["CONFIG_SHA"] == "b"
    revs = {r.name: r for r in apps.container_apps_revisions.list_revisions(RG, "ca-test")}
    assert set(revs) == {"ca-test--0000001", "ca-test--0000002"}
    assert revs["ca-test--0000002"].properties.active is True
    assert revs["ca-test--0000001"].properties.active is False
    one = apps.container_apps_revisions.get_revision(RG, "ca-test", "ca-test--0000002")
    assert one.properties.template.containers[0].env[0].value == "b"
    # PATCH (begin_update) of tags only: no new revision.
    app = apps.container_apps.begin_update(RG, "ca-test", {"tags": {"x": "y"}}).result()
    assert app.tags == {"x": "y"} and app.properties.latest_revision_name == "ca-test--0000002"


def test_restart_scale_to_zero_and_delete(clients: Clients, runner: FakeRunner) -> None:
    import time

    s = deploy(clients)
    apps = clients.apps
    n = len(runner.started)
    apps.container_apps_revisions.restart_revision(RG, "ca-test", "ca-test--0000001")
    deadline = time.time() + 5
    while len(runner.started) == n and time.time() < deadline:
        time.sleep(0.02)
    assert len(runner.started) == n + 1
    body = app_body(s.env.id, s.identity.id, s.vault.properties.vault_uri)
    body["properties"]["template"]["scale"] = {"minReplicas": 0, "maxReplicas": 0}
    app = apps.container_apps.begin_create_or_update(RG, "ca-test", body).result()
    assert app.properties.running_status == "Stopped"
    assert s.app.id.lower() not in runner.running
    apps.container_apps.begin_delete(RG, "ca-test").result()
    with pytest.raises(ResourceNotFoundError):
        apps.container_apps.get(RG, "ca-test")


def test_without_runner_uses_placeholder_fqdn(tmp_path) -> None:
    from aigw_localcloud.cloud import LocalCloud

    from .conftest import make_clients

    with LocalCloud(tmp_path / "c", retry_after=None, propagation_delay=0.0) as cloud:
        s = deploy(make_clients(cloud))
        fqdn = s.app.properties.configuration.ingress.fqdn
        assert fqdn.startswith("ca-test.") and fqdn.endswith(f".{LOC}.azurecontainerapps.localhost")


def test_group_delete_cascades(clients: Clients, runner: FakeRunner) -> None:
    s = deploy(clients)
    assert list(clients.auth.role_assignments.list_for_scope(s.vault.id))
    clients.resource.resource_groups.begin_delete(RG).result()
    assert clients.resource.resource_groups.check_existence(RG) is False
    assert not runner.running
    deleted = clients.keyvault.vaults.get_deleted("kv-test-1", LOC)
    assert deleted.properties.vault_id == s.vault.id
    assert not list(
        clients.auth.role_assignments.list_for_scope(
            f"/subscriptions/{clients.cloud.subscription_id}"
        )
    )
