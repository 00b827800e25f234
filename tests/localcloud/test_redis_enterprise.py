"""The local cloud's Azure Managed Redis (arm/redis_enterprise.py) through the real SDK
(azure-mgmt-redisenterprise 3.1.0, 2025-07-01): each database a real redis-server that answers
only with its access keys over TLS, kept across a restart of the cloud, ended by a delete of the
cluster or of its resource group; the spec's refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from aigw.azure.session import Clients, Target
from aigw_localcloud.cache.redis_server import RedisReplyError, command
from aigw_localcloud.cloud import LocalCloud

CLUSTER = {
    "location": "eastus",
    "sku": {"name": "Balanced_B0"},
    "properties": {"publicNetworkAccess": "Enabled", "minimumTlsVersion": "1.2"},
}
DATABASE = {
    "properties": {
        "clientProtocol": "Encrypted",
        "port": 10000,
        "clusteringPolicy": "NoCluster",
        "accessKeysAuthentication": "Enabled",
    }
}


def _client(cloud: LocalCloud) -> Any:
    target = Target(
        subscription_id=cloud.subscription_id,
        credential=cloud.credential(None),
        tenant_id=cloud.tenant_id,
        base_url=cloud.arm_url,
        ca_file=cloud.ca_file,
        local=True,
        local_state_dir=cloud.state_dir,
        polling_interval=0.05,
    )
    clients = Clients(target)
    clients.resources().resource_groups.create_or_update("rg1", {"location": "eastus"})
    return clients


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    c = LocalCloud(tmp_path / "cloud").start()
    try:
        yield c
    finally:
        c.stop()


def _cache(cloud: LocalCloud) -> tuple[Any, Any, Any, Any]:
    m = _client(cloud).mgmt("azure.mgmt.redisenterprise", "RedisEnterpriseManagementClient")
    cluster = m.redis_enterprise.begin_create("rg1", "c1", CLUSTER).result()
    db = m.databases.begin_create("rg1", "c1", "default", DATABASE).result()
    keys = m.databases.list_keys("rg1", "c1", "default")
    return m, cluster, db, keys


def _answers(cloud: LocalCloud, host: str, port: int, key: str) -> bool:
    try:
        return command(host, port, key, "PING", ca_file=cloud.ca_file) == "PONG"
    except (OSError, RedisReplyError):
        return False


def test_a_database_is_a_real_server_taking_either_key_over_tls(cloud: LocalCloud) -> None:
    m, cluster, db, keys = _cache(cloud)
    assert cluster.host_name == "127.0.0.1" and db.provisioning_state == "Succeeded"
    assert db.name == "c1/default"
    for key in (keys.primary_key, keys.secondary_key):
        assert _answers(cloud, cluster.host_name, db.port, key)
    assert not _answers(cloud, cluster.host_name, db.port, "wrong")
    with pytest.raises(OSError):  # TLS only: a plaintext client is cut off
        command(cluster.host_name, db.port, keys.primary_key, "PING")
    m.databases.begin_update(
        "rg1", "c1", "default", {"properties": {"evictionPolicy": "NoEviction"}}
    ).result()
    policy = command(
        cluster.host_name,
        db.port,
        keys.primary_key,
        "CONFIG",
        "GET",
        "maxmemory-policy",
        ca_file=cloud.ca_file,
    )
    assert policy == ["maxmemory-policy", "noeviction"]
    m.databases.begin_update(
        "rg1", "c1", "default", {"properties": {"accessKeysAuthentication": "Disabled"}}
    ).result()
    assert not _answers(cloud, cluster.host_name, db.port, keys.primary_key)
    with pytest.raises(HttpResponseError) as err:
        m.databases.list_keys("rg1", "c1", "default")
    assert err.value.status_code == 400


def test_the_server_survives_a_restart_of_the_cloud_and_goes_with_the_cluster(
    tmp_path: Path,
) -> None:
    first = LocalCloud(tmp_path / "cloud").start()
    try:
        _, cluster, db, keys = _cache(first)
        assert _answers(first, cluster.host_name, db.port, keys.primary_key)
    finally:
        first.stop()
    assert not _answers(first, cluster.host_name, db.port, keys.primary_key)
    second = LocalCloud(tmp_path / "cloud").start()
    try:
        assert _answers(second, cluster.host_name, db.port, keys.primary_key)  # same port, key
        m = _client(second).mgmt("azure.mgmt.redisenterprise", "RedisEnterpriseManagementClient")
        m.redis_enterprise.begin_delete("rg1", "c1").result()
        assert not _answers(second, cluster.host_name, db.port, keys.primary_key)
        assert not list((tmp_path / "cloud" / "redis").glob("*/redis.pid"))
    finally:
        second.stop()


def test_a_resource_group_delete_ends_its_caches_servers(cloud: LocalCloud) -> None:
    _, cluster, db, keys = _cache(cloud)
    _client(cloud).resources().resource_groups.begin_delete("rg1").result()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _answers(
        cloud, cluster.host_name, db.port, keys.primary_key
    ):
        time.sleep(0.1)
    assert not _answers(cloud, cluster.host_name, db.port, keys.primary_key)


@pytest.mark.parametrize(
    ("what", "call", "message"),
    [
        (
            "no publicNetworkAccess",
            lambda m: m.redis_enterprise.begin_create("rg1", "c2", {**CLUSTER, "properties": {}}),
            "publicNetworkAccess is required",
        ),
        (
            "TLS 1.0",
            lambda m: m.redis_enterprise.begin_create(
                "rg1",
                "c2",
                {
                    **CLUSTER,
                    "properties": {"publicNetworkAccess": "Enabled", "minimumTlsVersion": "1.0"},
                },
            ),
            "minimumTlsVersion",
        ),
        (
            "double hyphen",
            lambda m: m.redis_enterprise.begin_create("rg1", "c--2", CLUSTER),
            "invalid",
        ),
        (
            "not a SKU",
            lambda m: m.redis_enterprise.begin_create(
                "rg1", "c2", {**CLUSTER, "sku": {"name": "Basic_C0"}}
            ),
            "sku.name",
        ),
        (
            "another database",
            lambda m: m.databases.begin_create("rg1", "c1", "other", DATABASE),
            "'default'",
        ),
        (
            "clustering from OSSCluster",
            lambda m: m.databases.begin_update(
                "rg1", "c1", "default", {"properties": {"clusteringPolicy": "NoCluster"}}
            ),
            "cannot be changed",
        ),
    ],
)
def test_the_specs_refusals(cloud: LocalCloud, what: str, call: Any, message: str) -> None:
    m, *_ = _cache(cloud)
    m.databases.begin_delete("rg1", "c1", "default").result()
    m.databases.begin_create(
        "rg1",
        "c1",
        "default",
        {"properties": {**DATABASE["properties"], "clusteringPolicy": "OSSCluster"}},
    ).result()
    with pytest.raises(HttpResponseError) as err:
        call(m).result()
    assert err.value.status_code == 400 and message in str(err.value), what
