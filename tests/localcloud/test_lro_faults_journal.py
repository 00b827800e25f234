"""LRO shapes and timing, fault injection with azure-core retries, the request journal."""

from __future__ import annotations

import json
import time

import pytest
import requests
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.credential import LocalCredential
from aigw_localcloud.core.journal import is_write, read_journal

from .conftest import make_clients
from .stack import LOC, RG, deploy


def _h(cloud: LocalCloud) -> dict[str, str]:
    token = LocalCredential(cloud.deployer_principal_id, cloud.tenant_id).get_token("x").token
    return {"Authorization": f"Bearer {token}"}


def test_lro_shapes_and_realistic_timing(tmp_path) -> None:
    # Retry-After: 1 (Azure's default) and realistic durations at 1/100: the env takes 2.4 s.
    with LocalCloud(
        tmp_path / "c", latency="realistic", scale=0.01, propagation_delay=0.0
    ) as cloud:
        c = make_clients(cloud, polling_interval=30)  # would hang if Retry-After were ignored
        c.resource.resource_groups.create_or_update(RG, {"location": LOC})
        base = (
            f"{cloud.arm_url}/subscriptions/{cloud.subscription_id}/resourceGroups/{RG}/providers"
        )
        r = requests.put(
            f"{base}/Microsoft.App/managedEnvironments/env1?api-version=2026-07-01",
            json={"location": LOC, "properties": {}},
            headers=_h(cloud),
            verify=str(cloud.ca_file),
            timeout=5,
        )
        assert r.status_code == 201 and r.headers["Retry-After"] == "1"
        assert r.json()["properties"]["provisioningState"] == "Waiting"
        status = requests.get(
            r.headers["Azure-AsyncOperation"],
            headers=_h(cloud),
            verify=str(cloud.ca_file),
            timeout=5,
        )
        assert status.json()["status"] == "InProgress"
        started = time.monotonic()
        env = c.apps.managed_environments.begin_create_or_update(
            RG, "env2", {"location": LOC, "properties": {}}
        ).result()
        took = time.monotonic() - started
        assert env.properties.provisioning_state == "Succeeded"
        assert 2.0 <= took < 6.0
        op = next(o for o in cloud.operations() if o["resource_id"].endswith("/env2"))
        assert op["status"] == "Succeeded" and op["completed"] <= op["observed"]
        assert op["observed"] - op["completed"] <= 1.5  # noticed within one Retry-After
        # Body-polled vault: 200/201 with RegisteringDns, then the SDK polls the vault itself.
        v = c.keyvault.vaults.begin_create_or_update(
            RG,
            "kv-lro",
            {
                "location": LOC,
                "properties": {
                    "tenantId": cloud.tenant_id,
                    "sku": {"family": "A", "name": "standard"},
                    "accessPolicies": [],
                },
            },
        )
        assert v.status() == "RegisteringDns"
        assert v.result().properties.provisioning_state == "Succeeded"
        # Resource group delete: 202 + Location; the poller waits for 200.
        r = requests.delete(
            f"{cloud.arm_url}/subscriptions/{cloud.subscription_id}/resourcegroups/{RG}?api-version=2025-04-01",
            headers=_h(cloud),
            verify=str(cloud.ca_file),
            timeout=5,
        )
        assert r.status_code == 202 and "Location" in r.headers and r.headers["Retry-After"] == "1"
        poll = requests.get(
            r.headers["Location"], headers=_h(cloud), verify=str(cloud.ca_file), timeout=5
        )
        assert poll.status_code == 202
        time.sleep(0.3)
        assert (
            requests.get(
                r.headers["Location"], headers=_h(cloud), verify=str(cloud.ca_file), timeout=5
            ).status_code
            == 200
        )


def test_provider_registration_takes_time(tmp_path) -> None:
    with LocalCloud(
        tmp_path / "c", latency="realistic", scale=0.01, retry_after=None, propagation_delay=0.0
    ) as cloud:
        cloud.set_provider_state("Microsoft.App", "NotRegistered")
        c = make_clients(cloud)
        assert c.resource.providers.register("Microsoft.App").registration_state == "Registering"
        assert c.resource.providers.get("Microsoft.App").registration_state == "Registering"
        time.sleep(0.4)
        assert c.resource.providers.get("Microsoft.App").registration_state == "Registered"


def test_deploy_survives_throttling_and_server_errors(tmp_path, runner) -> None:
    with LocalCloud(
        tmp_path / "c", retry_after=None, app_runner=runner, propagation_delay=0.0
    ) as cloud:
        # 20% of ARM and vault requests fail (half 429 with Retry-After: 1, half 503).
        cloud.faults.seed(2)
        cloud.faults.add("* /subscriptions/*", "429", rate=0.1)
        cloud.faults.add("* /subscriptions/*", "503", rate=0.11)
        cloud.faults.add("* /secrets/*", "503", rate=0.2)
        c = make_clients(cloud, retry_backoff_factor=0.01)
        try:
            s = deploy(c)
        finally:
            for e in cloud.journal.entries():
                print(e.method, e.status, e.fault, e.path[-50:])
        assert s.app.properties.provisioning_state == "Succeeded"
        injected = [e for e in cloud.journal.entries() if e.fault]
        assert {e.status for e in injected} <= {429, 503} and len(injected) >= 3


def test_dropped_connection_is_observed(tmp_path) -> None:
    with LocalCloud(tmp_path / "c", retry_after=None) as cloud:
        cloud.faults.add("POST */register", "drop", rate=1.0)
        c = make_clients(cloud, retry_total=0)
        with pytest.raises((ServiceRequestError, ServiceResponseError)):
            c.resource.providers.register("Microsoft.App")
        assert [e.fault for e in cloud.journal.entries()] == ["drop"]


def test_latency_fault(tmp_path) -> None:
    with LocalCloud(tmp_path / "c", retry_after=None) as cloud:
        cloud.faults.add("GET */providers/*", "latency", latency=0.3)
        c = make_clients(cloud)
        t = time.monotonic()
        c.resource.providers.get("Microsoft.App")
        assert time.monotonic() - t >= 0.3


def test_journal_classifies_and_never_holds_secret_values(cloud: LocalCloud, clients) -> None:
    deploy(clients)
    entries = cloud.journal.entries()
    assert entries and all(e.request_id for e in entries)
    by = {(e.method, e.path.rsplit("/", 1)[-1]): e for e in entries}
    assert by[("PUT", RG)].is_write and by[("PUT", RG)].api_version == "2025-04-01"
    assert by[("POST", "sharedKeys")].is_write is False
    assert by[("PUT", "gateway-key")].is_write  # set secret on the vault listener
    assert not is_write("POST", "/x/listSecrets") and not is_write(
        "POST", "/x/checkNameAvailability"
    )
    assert is_write("POST", "/x/revisions/r/restart") and is_write("DELETE", "/x")
    assert not is_write("GET", "/x")
    clients.apps.container_apps.list_secrets(RG, "ca-test")
    on_disk = read_journal(cloud.state_dir / "journal.jsonl")
    assert len(on_disk) == len(cloud.journal.entries())
    raw = (cloud.state_dir / "journal.jsonl").read_text()
    assert "sk-gateway-123" not in raw and "model_list" not in raw
    json.loads(raw.splitlines()[0])
