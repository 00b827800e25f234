"""The Azure Managed Redis kind's desired state (resources/managed_redis.py): only with
`limits.store: redis`, its connection URL a Key Vault secret read from the cache, the container
app handed REDIS_URL as a Key Vault reference and the endpoint plain, waiting for both."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.engine.desired import build_desired
from aigw.gateway.render import REDIS_HOST_VAR, REDIS_PORT_VAR
from aigw.state import Desired, Ref
from helpers import ENV_DIR


def _desired(tmp_path: Path, store: str) -> Desired:
    for name in ("base.yaml", "dev.yaml"):
        shutil.copy(ENV_DIR / name, tmp_path / name)
    (tmp_path / "s.yaml").write_text(f"extends: dev.yaml\nlimits: {{store: {store}, rpm: 5}}\n")
    config = load_env("s", tmp_path).config
    return build_desired(config, subscription_id="sub", tenant_id="t", deployer_principal_id="p")


def test_no_store_no_cache(tmp_path: Path) -> None:
    desired = _desired(tmp_path, "none")
    assert not [r for r in desired.resources if r.kind == "redis"]
    app = desired.by_key()["container_app"]
    assert "REDIS_URL" not in app.managed["env"] and "redis-url" not in app.managed["secrets"]


def test_store_redis_makes_the_cache_its_secret_and_the_apps_wiring(tmp_path: Path) -> None:
    by_key = _desired(tmp_path, "redis").by_key()
    cache, secret, app = by_key["redis"], by_key["secret:redis-url"], by_key["container_app"]
    assert cache.name == "pvc-s-aigateway-amr-san"
    assert cache.managed["sku"] == "Balanced_B0"
    assert cache.managed["database"] == {
        "clientProtocol": "Encrypted",
        "clusteringPolicy": "NoCluster",
        "evictionPolicy": "VolatileLRU",
        "accessKeysAuthentication": "Enabled",
    }
    assert secret.managed == {"value": secret.managed["value"], "read_from": "redis"}
    assert "redis" in secret.depends_on
    env = app.managed["env"]
    assert env["REDIS_URL"] == {"secretRef": "redis-url"}
    assert env[REDIS_HOST_VAR] == Ref("redis", "host_name")
    assert env[REDIS_PORT_VAR] == Ref("redis", "port")
    assert app.managed["secrets"]["redis-url"]["version"] == Ref("secret:redis-url", "version")
    assert {"redis", "secret:redis-url"} <= set(app.depends_on)


@pytest.mark.parametrize(
    ("name", "ok"),
    [("a", True), ("a-b-1", True), ("-a", False), ("a--b", False), ("A", False), ("a" * 61, False)],
)
def test_its_name_rule_is_the_specs_pattern_and_lowercase(name: str, ok: bool) -> None:
    from aigw.resources import adapter
    from aigw.state import Kind

    rule = adapter(Kind("redis")).name_rule
    assert rule is not None
    assert (rule.problem(name) is None) is ok
