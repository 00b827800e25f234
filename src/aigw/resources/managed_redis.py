"""Azure Managed Redis (`Microsoft.Cache/redisEnterprise` and its `databases/default`): the store
every replica of the gateway counts developer key limits in (`limits.store: redis`, issue 26).
Only an environment with that store has one.

REST: Azure/azure-rest-api-specs specification/redisenterprise/resource-manager/
Microsoft.Cache/RedisEnterprise/stable/2025-07-01/redisenterprise.json, the api-version of
azure-mgmt-redisenterprise 3.1.0 (its `_configuration.py` default):
- the cluster: `sku.name` Balanced_B0, the smallest Azure Managed Redis SKU (0.5 GB; a few keys
  per developer key and month here); `publicNetworkAccess` is required on create
  (ClusterCreateProperties) and Enabled (the container app reaches it without a VNet);
  `minimumTlsVersion` 1.2. RedisEnterprise_Create "creates or updates an existing
  (overwrite/recreate, with potential downtime) cache cluster": an existing one is PATCHed
  (RedisEnterprise_Update), never PUT again.
- the database (Databases_Create, then Databases_Update): `clientProtocol` Encrypted (TLS) on
  `port` 10000 (create only); `clusteringPolicy` NoCluster, because LiteLLM's client is a plain
  `redis.Redis` (litellm/_redis.py `get_redis_client` builds a cluster client only for
  startup_nodes) and NoCluster is the one policy that can change later ("can be updated only if
  the current value is NoCluster"); `evictionPolicy` VolatileLRU (the default: LiteLLM's
  windows expire, aigw's monthly spend keys have no TTL and are never evicted);
  `accessKeysAuthentication` Enabled, since its default is Disabled, and no persistence
  (counters of a minute and a month's spend; lost on a restart of the cache like any replica's).
- access: LiteLLM 1.81.15 has no Entra ID authentication for Redis (litellm/_redis.py: a
  password, or GCP IAM only), so the gateway uses the database's access key, read here at
  deploy (Databases_ListKeys) into a Key Vault secret that the app reads through its identity,
  as it reads the gateway key. The secret is the connection URL,
  `rediss://:<key>@<hostName>:<port>`, given to the app as REDIS_URL: LiteLLM reads
  `REDIS_<argument>` variables itself (litellm/_redis.py `_redis_kwargs_from_environment`) and a
  `url` wins over host/port/password in `get_redis_client`, `get_redis_async_client` and
  `get_redis_connection_pool`; `rediss` is how redis-py's `from_url` turns TLS on. TLS cannot be
  asked any other way without changing the config `aigw serve` renders too: REDIS_SSL is not
  mapped (redis-py 8.2 takes `ssl` keyword-only and `_get_redis_kwargs` lists positional
  arguments only), and an `ssl` key in cache_params, whatever its value (`os.environ/...`
  resolves to a string or None), makes the async pool an SSLConnection
  (`get_redis_connection_pool`), which a plaintext store refuses. AIGW_REDIS_HOST/PORT are set
  too, plain (the cluster's `hostName`, the database's `port`), for whoever reads the app.
Names: the path parameter's pattern `^(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$` (no leading,
trailing or consecutive hyphens; learn.microsoft.com/azure/azure-resource-manager/management/
resource-name-rules, Microsoft.Cache); global, part of `<name>.<region>.redis.azure.net`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.config.naming import NameRule
from aigw.gateway.render import REDIS_HOST_VAR, REDIS_PORT_VAR
from aigw.resources import registered
from aigw.resources.base import AppWiring, Base, Inputs
from aigw.state import ABSENT, SECRET_VALUE, Key, Kind, Observed, Ref, Resource

KEY = "redis"  # its resource key (one per environment)
DATABASE = "default"  # Azure Managed Redis has one database, named default
URL_SECRET = "redis-url"  # the Key Vault secret: the connection URL with the access key
URL_VAR = "REDIS_URL"  # LiteLLM's own variable for it (module docstring)
PORT = 10000  # Azure Managed Redis' port (create only)
SKU = "Balanced_B0"


def _cluster_fields(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "location": norm_location(body.get("location")),
        "sku": (body.get("sku") or {}).get("name"),
        "minimumTlsVersion": props.get("minimumTlsVersion"),
        "publicNetworkAccess": props.get("publicNetworkAccess"),
    }


def _database_fields(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is None:
        return None
    props = body.get("properties") or {}
    return {
        k: props.get(k)
        for k in (
            "clientProtocol",
            "clusteringPolicy",
            "evictionPolicy",
            "accessKeysAuthentication",
        )
    }


def _state(cluster: dict[str, Any], database: dict[str, Any] | None) -> str | None:
    """One provisioningState for both: the database's once the cluster has settled."""
    state = (cluster.get("properties") or {}).get("provisioningState")
    if state == "Succeeded" and database is not None:
        return (database.get("properties") or {}).get("provisioningState")
    return state


def _outputs(cluster: dict[str, Any], database: dict[str, Any] | None) -> dict[str, Any]:
    db_props = (database or {}).get("properties") or {}
    port = db_props.get("port")
    return {
        "id": cluster.get("id"),
        "host_name": (cluster.get("properties") or {}).get("hostName"),
        "database_id": (database or {}).get("id"),
        "port": str(port) if port is not None else None,  # a container app env value
        "provisioning_state": _state(cluster, database),
    }


def from_bodies(cluster: dict[str, Any], database: dict[str, Any] | None) -> Observed:
    """The Observed of a cluster's and its database's GET bodies (None: no database)."""
    return Observed(
        exists=True,
        fields={**_cluster_fields(cluster), "database": _database_fields(database)},
        tags=cluster.get("tags") or {},
        outputs=_outputs(cluster, database),
    )


def from_body(body: dict[str, Any], database: dict[str, Any] | None = None) -> Observed:
    """The Observed of a cluster's GET body and its database's (tests/fixtures/observe/)."""
    return from_bodies(body, database)


def observe(ctx: Ctx, res: Resource, client: Any) -> Observed:
    cluster = get_or_none(lambda: client.redis_enterprise.get(ctx.rg, res.name))
    if cluster is None:
        return ABSENT
    database = get_or_none(lambda: client.databases.get(ctx.rg, res.name, DATABASE))
    return from_bodies(to_rest(cluster), to_rest(database) if database is not None else None)


def _changed(want: Mapping[str, Any], have: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in want.items() if (have or {}).get(k) != v}


def ensure(ctx: Ctx, res: Resource, client: Any) -> dict[str, Any]:
    """Create what is missing (PUT), PATCH only what differs on what exists."""
    m = ctx.managed(res)  # with tags others set kept
    before = ctx.outputs.get(res.key) or {}
    props = {k: m[k] for k in ("minimumTlsVersion", "publicNetworkAccess")}
    if not before.get("id"):
        body = {"location": m["location"], "tags": m["tags"], "sku": {"name": m["sku"]}}
        poller = client.redis_enterprise.begin_create(
            ctx.rg, res.name, {**body, "properties": props}
        )
        cluster = to_rest(poller.result())
    else:
        cluster = to_rest(client.redis_enterprise.get(ctx.rg, res.name))
        have = _cluster_fields(cluster)
        patch: dict[str, Any] = {"tags": m["tags"]}
        if have["sku"] != m["sku"]:
            patch["sku"] = {"name": m["sku"]}
        if changed := _changed(props, have):
            patch["properties"] = changed
        if patch["tags"] != (cluster.get("tags") or {}) or len(patch) > 1:
            cluster = to_rest(
                client.redis_enterprise.begin_update(ctx.rg, res.name, patch).result()
            )
    want_db: dict[str, Any] = dict(m["database"])
    if not before.get("database_id"):
        poller = client.databases.begin_create(
            ctx.rg, res.name, DATABASE, {"properties": {**want_db, "port": PORT}}
        )
        database = to_rest(poller.result())
    else:
        database = to_rest(client.databases.get(ctx.rg, res.name, DATABASE))
        if changed := _changed(want_db, _database_fields(database)):
            poller = client.databases.begin_update(
                ctx.rg, res.name, DATABASE, {"properties": changed}
            )
            database = to_rest(poller.result())
    return _outputs(cluster, database)


def connection_url(ctx: Ctx, res: Resource, client: Any) -> str | None:
    """`rediss://:<primary key>@<host>:<port>` (Databases_ListKeys), registered for redaction
    at once with the key; None while the database does not exist."""
    from urllib.parse import quote

    from aigw import redact

    out = ctx.outputs.get(res.key) or {}
    if not out.get("database_id") or not out.get("host_name") or not out.get("port"):
        return None
    keys = to_rest(client.databases.list_keys(ctx.rg, res.name, DATABASE))
    value = keys.get("primaryKey")
    if not value:
        return None
    redact.register(str(value))
    scheme = "rediss" if res.managed["database"]["clientProtocol"] == "Encrypted" else "redis"
    url = f"{scheme}://:{quote(str(value), safe='')}@{out['host_name']}:{out['port']}"
    redact.register(url)
    return url


def delete(ctx: Ctx, res: Resource, client: Any) -> None:
    """Deleting the cluster deletes its database."""
    client.redis_enterprise.begin_delete(ctx.rg, res.name).result()


@registered
class ManagedRedisAdapter(Base):
    kind = Kind("redis")
    order = 35  # references only the resource group and its provider
    namespace = "Microsoft.Cache"
    arm_type = "redisEnterprise"
    name_rule = NameRule(
        "azure managed redis",
        1,
        60,
        r"[a-z0-9]+(-[a-z0-9]+)*",
        "lowercase letters, digits and single '-' between them",
        tag="amr",
        lowercase=True,  # a DNS name (<name>.<region>.redis.azure.net): one spelling
        no_double_hyphen=True,
    )
    located = True
    sdk_client = ("azure.mgmt.redisenterprise", "RedisEnterpriseManagementClient")

    @staticmethod
    def _wanted(inp: Inputs) -> bool:
        from aigw.config.limits import LimitStore

        return inp.config.limits.store is LimitStore.redis

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        if not self._wanted(inp):
            return []
        cache = Resource(
            KEY,
            self.kind,
            inp.names[self.kind.value],
            depends_on=self.needs(Key.resource_group),
            managed={
                "location": inp.config.location,
                "tags": inp.tags,
                "sku": SKU,
                "minimumTlsVersion": "1.2",
                "publicNetworkAccess": "Enabled",
                "database": {
                    "clientProtocol": "Encrypted",
                    "clusteringPolicy": "NoCluster",
                    "evictionPolicy": "VolatileLRU",
                    "accessKeysAuthentication": "Enabled",
                },
            },
        )
        secret = Resource(
            f"secret:{URL_SECRET}",
            Kind.secret,
            URL_SECRET,
            depends_on=(Key.key_vault, "role:deployer-secrets-officer", KEY),
            managed={"value": SECRET_VALUE, "read_from": KEY},
            owned=False,  # lives inside our vault; ownership is the vault's
        )
        return [cache, secret]

    def app_wiring(self, inp: Inputs) -> AppWiring | None:
        if not self._wanted(inp):
            return None
        return AppWiring(
            env={REDIS_HOST_VAR: Ref(KEY, "host_name"), REDIS_PORT_VAR: Ref(KEY, "port")},
            vault_secrets={URL_SECRET: URL_VAR},
            depends_on=(KEY, f"secret:{URL_SECRET}"),
        )

    def status(self, obs: Observed) -> tuple[bool, str] | None:
        if not obs.exists:
            return None
        state = obs.outputs.get("provisioning_state")
        if not obs.outputs.get("database_id"):
            return False, f"{state}, no database"
        return state == "Succeeded", f"{state}, {obs.outputs.get('host_name')}"

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {
            "id": f"/redisEnterprise/{res.name}",
            "host_name": f"{res.name}.example.redis.azure.net",
            "database_id": f"/redisEnterprise/{res.name}/databases/{DATABASE}",
            "port": str(PORT),
            "provisioning_state": "Succeeded",
        }

    def secret_value(self, ctx: Ctx, res: Resource) -> str | None:
        return connection_url(ctx, res, self.client(ctx))

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res, self.client(ctx))

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res, self.client(ctx))

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res, self.client(ctx))
        return None
