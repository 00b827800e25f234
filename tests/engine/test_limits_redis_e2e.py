"""`aigw deploy` of an environment with `limits: {store: redis}` on the local cloud (issue 26),
through the real CLI as subprocesses, the real LiteLLM 1.81.15 and a real redis-server: deploy
creates an Azure Managed Redis cluster and its `default` database (a redis-server the local
cloud runs, TLS on), writes the connection URL with the database's access key to Key Vault and
hands it to the container app as REDIS_URL, a Key Vault reference (AIGW_REDIS_HOST/PORT
plain); a developer key with rpm 3 gets 3 calls and the 4th is 429 rate_limit_exceeded,
counted in that Redis; a second deploy writes nothing; destroy deletes the cache and ends its
redis-server. The access key never appears in a CLI output, a plan or the gateway's logs."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw_localcloud.cache.redis_server import command
from aigw_localcloud.core.journal import read_journal

from .harness import cli_environ, run_cli

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

ENV = "limited"
LOCAL = ("--env", ENV, "--cloud", "local")
RPM = 3
EMBED = "text-embedding-3-large"


class Cli:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = cli_environ(root)
        env_dir = Path(self.env["AIGW_ENV_DIR"])
        (env_dir / f"{ENV}.yaml").write_text(
            f"extends: base.yaml\ntags:\n  env: {ENV}\nlimits:\n  store: redis\n  rpm: {RPM}\n",
            encoding="utf-8",
        )
        self.cloud_dir = root / "localcloud"
        self.outputs: list[str] = []
        self.url = ""
        self.verify: Any = True
        self.dev_key = ""

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        r = run_cli(self.env, *args, timeout=timeout)
        self.outputs += [r.stdout, r.stderr]
        return r

    def writes(self) -> list[str]:
        journal = read_journal(self.cloud_dir / "journal.jsonl")
        return [f"{e.method} {e.path}" for e in journal if e.is_write]

    def embed(self, key: str) -> httpx.Response:
        return httpx.post(
            self.url + "/v1/embeddings",
            json={"model": EMBED, "input": "hello"},
            headers={"Authorization": f"Bearer {key}"},
            verify=self.verify,
            timeout=60,
            trust_env=False,
        )


def _cache(cli: Cli) -> dict[str, Any]:
    """What the local cloud holds of the environment's cache (through the real SDK): the cluster
    and its database's bodies, the access key."""
    from aigw.azure.session import Clients
    from aigw.config.load import load_env
    from aigw.engine import workflow
    from aigw.resources import names_of

    names = names_of(load_env(ENV, Path(cli.env["AIGW_ENV_DIR"])).config)
    client = Clients(workflow.local_target(cli.cloud_dir)).mgmt(
        "azure.mgmt.redisenterprise", "RedisEnterpriseManagementClient"
    )
    rg, name = names.resource_group, names["redis"]
    cluster = client.redis_enterprise.get(rg, name).as_dict()
    database = client.databases.get(rg, name, "default").as_dict()
    keys = client.databases.list_keys(rg, name, "default").as_dict()
    return {"name": name, "cluster": cluster, "database": database, "key": keys["primary_key"]}


def _redis_pids(cli: Cli) -> list[int]:
    """The redis-server processes the local cloud runs for this environment's databases."""
    pids = []
    for pid_file in (cli.cloud_dir / "redis").glob("*/redis.pid"):
        pid = int(pid_file.read_text().strip())
        try:
            if b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("limitsredis")
    c = Cli(root)
    try:
        yield c
    finally:
        daemon.stop(root / "localcloud")


def test_1_deploy_creates_the_cache_and_hands_the_app_its_endpoint(cli: Cli) -> None:
    r = cli("deploy", *LOCAL, "--yes", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    written = cli.writes()
    assert any("/providers/Microsoft.Cache/redisEnterprise/" in w for w in written), written
    assert any(w.endswith("/databases/default") and w.startswith("PUT") for w in written)
    cache = _cache(cli)
    db = cache["database"]
    assert db["client_protocol"] == "Encrypted" and db["access_keys_authentication"] == "Enabled"
    assert db["clustering_policy"] == "NoCluster" and db["provisioning_state"] == "Succeeded"
    assert cache["cluster"]["sku"]["name"] == "Balanced_B0"
    assert _redis_pids(cli), "no redis-server runs for the database"
    # The store answers with the database's key, over TLS, at the host and port the GET names.
    host, port = cache["cluster"]["host_name"], db["port"]
    ca = cli.cloud_dir / "ca.pem"
    assert command(host, port, cache["key"], "PING", ca_file=ca) == "PONG"
    assert cache["key"] not in "".join(cli.outputs)
    r = cli("client-config", *LOCAL, "--client", "codex", "-o", "json", "--key-env", "K")
    data = json.loads(r.stdout)
    cli.url = data["gateway_url"]
    cli.verify = ssl.create_default_context(cafile=data["ca_bundle"])


def test_2_a_developer_keys_rpm_holds_through_the_deployed_gateway(cli: Cli) -> None:
    r = cli("keys", "add", "alice", *LOCAL, "--yes", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    cli.dev_key = json.loads(r.stdout)["new_key"]
    codes = []
    for _ in range(RPM + 1):
        resp = cli.embed(cli.dev_key)
        codes.append(resp.status_code)
    assert codes == [200] * RPM + [429], codes
    err = resp.json()["error"]
    assert err["code"] == "rate_limit_exceeded" and "alice" in err["message"], err
    # LiteLLM's limiter counted in the deployed store (its window keys live there).
    cache = _cache(cli)
    ca = cli.cloud_dir / "ca.pem"
    keys = command(
        cache["cluster"]["host_name"],
        cache["database"]["port"],
        cache["key"],
        "KEYS",
        "*",
        ca_file=ca,
    )
    assert isinstance(keys, list) and any(":requests" in k for k in keys), keys


def test_3_a_second_deploy_writes_nothing(cli: Cli) -> None:
    before = cli.writes()
    r = cli("deploy", *LOCAL, "--yes", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert cli.writes()[len(before) :] == []


def test_4_the_access_key_is_in_no_output_or_log(cli: Cli) -> None:
    key = _cache(cli)["key"]
    r = cli("plan", *LOCAL, "-o", "json")
    assert r.returncode == 0, r.stderr
    assert key not in "".join(cli.outputs)
    logs = [p for p in cli.root.rglob("*.log") if p.is_file()]
    assert logs
    for p in logs:
        assert key not in p.read_text(errors="replace"), p
    assert key not in (cli.cloud_dir / "journal.jsonl").read_text()


def test_5_destroy_deletes_the_cache_and_ends_its_server(cli: Cli) -> None:
    pids = _redis_pids(cli)
    assert pids
    r = cli("destroy", *LOCAL, "--yes", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(
        w.startswith("DELETE") and "/providers/Microsoft.Cache/redisEnterprise/" in w
        for w in cli.writes()
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    assert not _redis_pids(cli)
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or ") Z " in stat.read_text()
