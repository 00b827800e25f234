"""Microsoft.Cache/redisEnterprise (Azure Managed Redis) clusters and their databases, each
database a REAL redis-server of this machine (cache/redis_server.py), never a dict.

Source: Azure/azure-rest-api-specs specification/redisenterprise/resource-manager/
Microsoft.Cache/RedisEnterprise/stable/2025-07-01/redisenterprise.json ("the spec" below), the
api-version azure-mgmt-redisenterprise 3.1.0 sends:
- RedisEnterprise_Create (PUT): 201/200 with provisioningState Creating, polled on the resource
  (`final-state-via: original-uri`); RedisEnterprise_Update (PATCH) and _Delete: an
  Azure-AsyncOperation (`final-state-via: azure-async-operation`) at
  /subscriptions/{id}/providers/Microsoft.Cache/locations/{location}/operationsStatus/{id}
  (OperationsStatus_Get).
- Databases_Create (PUT, original-uri), Databases_Update (PATCH) and Databases_Delete
  (azure-async-operation), Databases_ListKeys (POST, 200 `{primaryKey, secondaryKey}`).
- Validation (400 unless said): a cluster's name matches ClusterNameParameter
  `^(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`, a database's DatabaseNameParameter (the same);
  `sku.name` is required and one of SkuName; `properties.publicNetworkAccess` is required on
  create (ClusterCreateProperties.required), Enabled or Disabled; `minimumTlsVersion` 1.2 (the
  spec: "TLS 1.0 and TLS 1.1 are now completely obsolete -- you cannot use them");
  `clientProtocol`, `clusteringPolicy`, `evictionPolicy`, `accessKeysAuthentication` from
  their enums; `port` and `modules` are create-only (x-ms-mutability read, create);
  `clusteringPolicy` "can be updated only if the current value is NoCluster"; persistence: "at
  most one of AOF or RDB". accessKeysAuthentication defaults to Disabled (DatabaseCreateProperties).
- Stricter than Azure, where unsure: a database named other than `default` (Azure Managed Redis
  has one database, learn.microsoft.com/azure/redis/overview), a database PUT while its cluster
  is not Succeeded (409), `sku.capacity` on a SKU other than Enterprise/EnterpriseFlash (the
  spec: "only used with Enterprise and EnterpriseFlash SKUs"), listKeys while access keys
  authentication is Disabled (400: the keys would not work; Azure's answer is not documented).
The server: TLS only on the local cloud's certificate for clientProtocol Encrypted, plaintext
for Plaintext; the `default` user takes either access key (both are valid on Azure: "the
current primary/secondary key that clients can use to authenticate", AccessKeys), none with
access keys authentication Disabled; evictionPolicy as `maxmemory-policy`; no persistence.
Not emulated: `hostName` is 127.0.0.1 (Azure: <name>.<region>.redis.azure.net) and `port` the
one its server bound (Azure: 10000), as a vault's URI and an app's FQDN are here; SKU sizes and
memory limits, high availability, zones, geo-replication, modules, Entra ID access policies,
import/export/flush, regenerateKey. The servers stop with the cloud and start again (same port,
same keys, empty) with it; a redis-server a killed cloud left behind is ended first.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import threading
from pathlib import Path
from typing import Any

from ..cache.redis_server import PID_FILE, RedisServer, RedisServerError, TlsFiles, free_port
from ..core import lro
from ..core.engine import Engine, Router, finisher, public
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.tls import ensure_certificates
from ..core.util import key, now
from .common import (
    NAME,
    RG,
    SUB,
    async_poll,
    build_tracked,
    list_of,
    must_find,
    ok,
    put_resource,
    resource_id,
)
from .locations import GENERAL, provides
from .resources import after_group_delete

router = Router()
NS = "Microsoft.Cache"
TYPE = "Microsoft.Cache/redisEnterprise"
DB_TYPE = "Microsoft.Cache/redisEnterprise/databases"
# Not verified per region (no `az provider show --namespace Microsoft.Cache` snapshot here):
# the regions Key Vault and Log Analytics serve.
provides(NS, "redisEnterprise", GENERAL)
provides(NS, "redisEnterprise/databases")
provides(NS, "locations/operationsStatus")
PATH = RG + r"/providers/Microsoft.Cache/redisEnterprise/" + NAME
DB_PATH = PATH + r"/databases/(?P<db>[^/]+)"

# The spec's ClusterNameParameter / DatabaseNameParameter pattern.
_NAME = re.compile(r"(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
SKUS = (
    *(f"Enterprise_E{n}" for n in (1, 5, 10, 20, 50, 100, 200, 400)),
    *(f"EnterpriseFlash_F{n}" for n in (300, 700, 1500)),
    *(f"Balanced_B{n}" for n in (0, 1, 3, 5, 10, 20, 50, 100, 150, 250, 350, 500, 700, 1000)),
    *(
        f"MemoryOptimized_M{n}"
        for n in (10, 20, 50, 100, 150, 250, 350, 500, 700, 1000, 1500, 2000)
    ),
    *(f"ComputeOptimized_X{n}" for n in (3, 5, 10, 20, 50, 100, 150, 250, 350, 500, 700)),
    *(f"FlashOptimized_A{n}" for n in (250, 500, 700, 1000, 1500, 2000, 4500)),
)
ENUMS: dict[str, tuple[str, ...]] = {
    "publicNetworkAccess": ("Enabled", "Disabled"),
    "highAvailability": ("Enabled", "Disabled"),
    "minimumTlsVersion": ("1.2",),  # 1.0 and 1.1: "you cannot use them"
    "clientProtocol": ("Encrypted", "Plaintext"),
    "clusteringPolicy": ("EnterpriseCluster", "OSSCluster", "NoCluster"),
    "evictionPolicy": (
        "AllKeysLFU",
        "AllKeysLRU",
        "AllKeysRandom",
        "VolatileLRU",
        "VolatileLFU",
        "VolatileTTL",
        "VolatileRandom",
        "NoEviction",
    ),
    "accessKeysAuthentication": ("Disabled", "Enabled"),
    "deferUpgrade": ("Deferred", "NotDeferred"),
}
# evictionPolicy -> redis.conf maxmemory-policy (redis.io/docs/latest/develop/reference/eviction/)
MAXMEMORY_POLICY = {
    "AllKeysLFU": "allkeys-lfu",
    "AllKeysLRU": "allkeys-lru",
    "AllKeysRandom": "allkeys-random",
    "VolatileLRU": "volatile-lru",
    "VolatileLFU": "volatile-lfu",
    "VolatileTTL": "volatile-ttl",
    "VolatileRandom": "volatile-random",
    "NoEviction": "noeviction",
}
CLUSTER_PROPS = ("publicNetworkAccess", "highAvailability", "minimumTlsVersion")
DB_PROPS: tuple[str, ...] = (
    "clientProtocol",
    "clusteringPolicy",
    "evictionPolicy",
    "accessKeysAuthentication",
    "deferUpgrade",
)

# The running servers, by (state dir, database id): one process per database.
_SERVERS: dict[tuple[str, str], RedisServer] = {}
_LOCK = threading.RLock()


def _bad(message: str, code: str = "BadRequest") -> CloudError:
    return CloudError(400, code, message)


def _check_name(name: str, what: str) -> None:
    if not _NAME.fullmatch(name):
        raise _bad(
            f"The name '{name}' of the {what} is invalid: 1-60 characters, letters, digits and "
            "hyphens, no leading, trailing or consecutive hyphens.",
            "InvalidResourceName",
        )


def _check_enums(props: dict[str, Any], names: tuple[str, ...]) -> None:
    for field in names:
        if field in props and props[field] not in ENUMS[field]:
            raise _bad(
                f"The value '{props[field]}' of {field} is invalid; allowed: "
                f"{', '.join(ENUMS[field])}."
            )


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "redisEnterprise", p["name"])


def _db_rid(req: Request) -> str:
    return f"{_rid(req)}/databases/{req.params['db']}"


def _async_headers(eng: Engine, req: Request, op: dict[str, Any]) -> dict[str, str]:
    path = (
        f"/subscriptions/{req.params['sub']}/providers/{NS}/locations/"
        f"{op['location']}/operationsStatus/{op['id']}"
    )
    return {"Azure-AsyncOperation": eng.op_url(path, req.api_version), **eng.lro_headers()}


# ---------------------------------------------------------------------------- clusters
@router.route("PUT", PATH)
def put_cluster(eng: Engine, req: Request) -> Response:
    payload = req.json()
    _check_name(req.params["name"], "Redis Enterprise cluster")
    sku = payload.get("sku") or {}
    if sku.get("name") not in SKUS:
        raise _bad(f"sku.name '{sku.get('name')}' is missing or not a Redis Enterprise SKU.")
    if "capacity" in sku and not str(sku["name"]).startswith("Enterprise"):
        raise _bad("sku.capacity is only used with Enterprise and EnterpriseFlash SKUs.")
    props = dict(payload.get("properties") or {})
    _check_enums(props, CLUSTER_PROPS)
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        if existing is None and "publicNetworkAccess" not in props:
            raise _bad("properties.publicNetworkAccess is required ('Enabled' or 'Disabled').")
        body = build_tracked(req, rid, TYPE, req.params["name"], payload, existing)
        body["sku"] = {k: sku[k] for k in ("name", "capacity") if k in sku}
        for field in ("zones", "identity"):  # kept as sent (not emulated: zones, CMK)
            if field in payload:
                body[field] = payload[field]
        body["properties"] = {
            "highAvailability": "Enabled",
            "minimumTlsVersion": "1.2",
            **props,
            "hostName": "127.0.0.1",  # Azure: <name>.<region>.redis.azure.net (module doc)
            "redisVersion": "7",  # the distribution's redis-server 7.x
            "resourceState": "Running",
        }
        op = lro.new_operation(
            st, eng.timing, "redis.cluster.create", rid, location=body["location"]
        )
        done = op["due"] <= now()
        body["properties"]["provisioningState"] = "Succeeded" if done else "Creating"
        if done:
            lro.finish(op)
        body["_op"] = op["id"]
        put_resource(st, body)
    return ok(body, 200 if existing else 201, eng.lro_headers())


@finisher("redis.cluster.create")
def _finish_cluster(eng: Engine, op: dict[str, Any]) -> None:
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is not None and r.get("_op") == op["id"]:
            r["properties"]["provisioningState"] = "Succeeded"
        lro.finish(st["operations"][op["id"]])


@router.route("GET", PATH)
def get_cluster(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        op = st["operations"].get(r.get("_op", ""))
        if op is not None:
            lro.mark_observed(op)
        return ok(r)


@router.route("PATCH", PATH)
def patch_cluster(eng: Engine, req: Request) -> Response:
    payload = req.json()
    props = dict(payload.get("properties") or {})
    _check_enums(props, CLUSTER_PROPS)
    sku = payload.get("sku")
    if sku is not None and sku.get("name") not in SKUS:
        raise _bad(f"sku.name '{sku.get('name')}' is not a Redis Enterprise SKU.")
    with eng.store.write() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        if "tags" in payload:
            r["tags"] = payload["tags"] or {}
        if sku is not None:
            r["sku"] = {k: sku[k] for k in ("name", "capacity") if k in sku}
        r["properties"].update({k: props[k] for k in CLUSTER_PROPS if k in props})
        op = lro.new_operation(st, eng.timing, "redis.update", r["id"], location=r["location"])
        lro.finish(op)  # nothing to wait for here: the settings take effect at once
        headers = _async_headers(eng, req, op)
        return ok(r, 200, headers)


@router.route("DELETE", PATH)
def delete_cluster(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = _rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        r["properties"]["provisioningState"] = "Deleting"
        op = lro.new_operation(st, eng.timing, "redis.delete", rid, location=r["location"])
    return Response(202, None, _async_headers(eng, req, op))


@finisher("redis.delete", slow=True)
def _finish_delete(eng: Engine, op: dict[str, Any]) -> None:
    """The cluster (its databases with it) or one database: records gone, servers ended."""
    rid = key(op["resource_id"])
    with eng.store.write() as st:
        gone = [k for k in st["resources"] if k == rid or k.startswith(rid + "/databases/")]
        for k in gone:
            del st["resources"][k]
    for k in gone:  # ended before the operation says Succeeded
        _stop(eng, k)
    with eng.store.write() as st:
        lro.finish(st["operations"][op["id"]])


@router.route("GET", RG + r"/providers/Microsoft.Cache/redisEnterprise")
def list_clusters(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])


@router.route(
    "GET", SUB + r"/providers/Microsoft.Cache/locations/[^/]+/operationsStatus/(?P<op>[^/]+)"
)
def operation_status(eng: Engine, req: Request) -> Response:
    return async_poll(eng, req, req.params["op"])


# --------------------------------------------------------------------------- databases
def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@router.route("PUT", DB_PATH)
def put_database(eng: Engine, req: Request) -> Response:
    payload = req.json()
    db = req.params["db"]
    _check_name(db, "Redis Enterprise database")
    if db != "default":
        raise _bad(
            f"The database name '{db}' is invalid: Azure Managed Redis has one database, 'default'."
        )
    props = dict(payload.get("properties") or {})
    _check_enums(props, DB_PROPS)
    persistence = props.get("persistence") or {}
    if persistence.get("aofEnabled") and persistence.get("rdbEnabled"):
        raise _bad("At most one of AOF or RDB persistence may be enabled.")
    with eng.store.write() as st:
        cluster = st["resources"].get(key(_rid(req)))
        if cluster is None:
            raise CloudError(
                404,
                "ParentResourceNotFound",
                f"Can not perform requested operation on nested resource. Parent resource "
                f"'{req.params['name']}' not found.",
            )
        if cluster["properties"].get("provisioningState") != "Succeeded":
            raise CloudError(
                409,
                "Conflict",
                f"The cluster '{req.params['name']}' is "
                f"{cluster['properties'].get('provisioningState')}; try again when it has "
                "Succeeded.",
            )
        rid = _db_rid(req)
        existing = st["resources"].get(key(rid))
        if existing is not None:
            _check_update(existing, props, create=True)
        old = (existing or {}).get("properties", {})
        body: dict[str, Any] = {
            "id": (existing or {}).get("id", rid),
            "name": f"{req.params['name']}/{db}",
            "type": DB_TYPE,
            "properties": {
                "clientProtocol": "Encrypted",
                "clusteringPolicy": "OSSCluster",
                "evictionPolicy": "VolatileLRU",
                "accessKeysAuthentication": "Disabled",
                "deferUpgrade": "NotDeferred",
                **{k: v for k, v in props.items() if k != "port"},
                # the port its server binds (Azure: the one PUT, 10000; module doc)
                "port": old.get("port") or free_port(),
                "redisVersion": "7.0",
                "resourceState": "Running",
                "provisioningState": "Creating",
            },
            "_keys": (existing or {}).get("_keys") or [_new_key(), _new_key()],
            "_requested_port": (existing or {}).get("_requested_port", props.get("port")),
        }
        op = lro.new_operation(
            st, eng.timing, "redis.database.create", rid, location=cluster["location"]
        )
        body["_op"] = op["id"]
        put_resource(st, body)
    # Creating until its server answers (the finisher starts it; the client polls the GET)
    return ok(body, 200 if existing else 201, eng.lro_headers())


def _check_update(existing: dict[str, Any], props: dict[str, Any], *, create: bool) -> None:
    """Create-only fields, and clusteringPolicy's one allowed change (module doc)."""
    old = existing["properties"]
    if create and "port" in props and props["port"] != existing.get("_requested_port"):
        raise _bad("port can only be set when the database is created.")
    if "modules" in props and props["modules"] != old.get("modules", props["modules"]):
        raise _bad("modules can only be set when the database is created.")
    policy = props.get("clusteringPolicy")
    if (
        policy is not None
        and policy != old.get("clusteringPolicy")
        and old.get("clusteringPolicy") != "NoCluster"
    ):
        raise _bad(
            f"clusteringPolicy {old.get('clusteringPolicy')} cannot be changed without deleting "
            "the database."
        )


@finisher("redis.database.create", slow=True)
def _finish_database(eng: Engine, op: dict[str, Any]) -> None:
    rid = key(op["resource_id"])
    with eng.store.read() as st:
        r = st["resources"].get(rid)
        body = dict(r) if r is not None and r.get("_op") == op["id"] else None
    error = None
    if body is not None:
        try:
            _start(eng, rid, body)
        except RedisServerError as exc:
            error = {"code": "InternalServerError", "message": f"the database did not start: {exc}"}
    with eng.store.write() as st:
        r = st["resources"].get(rid)
        if r is not None and r.get("_op") == op["id"]:
            r["properties"]["provisioningState"] = "Failed" if error else "Succeeded"
        lro.finish(st["operations"][op["id"]], error)


@router.route("GET", DB_PATH)
def get_database(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        r = must_find(st, _db_rid(req), DB_TYPE, req.params["db"], req.params["rg"])
        op = st["operations"].get(r.get("_op", ""))
        if op is not None:
            lro.mark_observed(op)
        return ok(r)


@router.route("GET", PATH + r"/databases")
def list_databases(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        prefix = key(_rid(req)) + "/databases/"
        items = [public(r) for k, r in st["resources"].items() if k.startswith(prefix)]
        return Response(200, {"value": items})


@router.route("PATCH", DB_PATH)
def patch_database(eng: Engine, req: Request) -> Response:
    props = dict((req.json().get("properties")) or {})
    _check_enums(props, DB_PROPS)
    if "port" in props:
        raise _bad("port can only be set when the database is created.")
    with eng.store.write() as st:
        r = must_find(st, _db_rid(req), DB_TYPE, req.params["db"], req.params["rg"])
        _check_update(r, props, create=False)
        r["properties"].update({k: props[k] for k in DB_PROPS if k in props})
        r["properties"]["provisioningState"] = "Updating"
        where = (st["resources"].get(key(_rid(req))) or {}).get("location", "")
        # its server restarts with the new settings (the finisher), then Succeeded
        op = lro.new_operation(st, eng.timing, "redis.database.create", r["id"], location=where)
        r["_op"] = op["id"]
    return Response(202, None, _async_headers(eng, req, op))


@router.route("DELETE", DB_PATH)
def delete_database(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = _db_rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        r["properties"]["provisioningState"] = "Deleting"
        cluster = st["resources"].get(key(_rid(req))) or {}
        op = lro.new_operation(
            st, eng.timing, "redis.delete", rid, location=cluster.get("location", "")
        )
    return Response(202, None, _async_headers(eng, req, op))


@router.route("POST", DB_PATH + r"/listKeys")
def list_keys(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        r = must_find(st, _db_rid(req), DB_TYPE, req.params["db"], req.params["rg"])
        if r["properties"].get("accessKeysAuthentication") != "Enabled":
            raise _bad(
                "Access keys authentication is disabled on this database; enable it "
                "(accessKeysAuthentication: Enabled) to use its keys."
            )
        return Response(200, {"primaryKey": r["_keys"][0], "secondaryKey": r["_keys"][1]})


# ------------------------------------------------------------------------------ servers
def _workdir(eng: Engine, rid: str) -> Path:
    return Path(eng.directory) / "redis" / hashlib.sha256(rid.encode()).hexdigest()[:12]


def _end_orphan(workdir: Path) -> None:
    """A redis-server a killed cloud left running there (its pid file, still redis-server)."""
    pid_file = workdir / PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
        if b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                threading.Event().wait(0.05)
    except (OSError, ValueError):
        pass
    pid_file.unlink(missing_ok=True)


def _start(eng: Engine, rid: str, body: dict[str, Any]) -> None:
    """(Re)start the database's server with its stored settings, on its stored port."""
    props = body["properties"]
    tls = ensure_certificates(Path(eng.directory))
    _stop(eng, rid)
    workdir = _workdir(eng, rid)
    _end_orphan(workdir)
    server = RedisServer(
        workdir,
        port=int(props["port"]),
        tls_files=(
            TlsFiles(tls.cert_file, tls.key_file, tls.ca_file)
            if props.get("clientProtocol") == "Encrypted"
            else None
        ),
        passwords=tuple(body["_keys"])
        if props.get("accessKeysAuthentication") == "Enabled"
        else (),
        settings=(
            f"maxmemory-policy {MAXMEMORY_POLICY[props.get('evictionPolicy', 'VolatileLRU')]}",
        ),
    )
    server.start()
    with _LOCK:
        _SERVERS[(str(eng.directory), rid)] = server


def _stop(eng: Engine, rid: str) -> None:
    with _LOCK:
        server = _SERVERS.pop((str(eng.directory), rid), None)
    if server is not None:
        server.stop()


def resume(eng: Engine) -> None:
    """At the cloud's start: every database's server runs again (same port and keys)."""
    with eng.store.read() as st:
        bodies = {k: dict(r) for k, r in st["resources"].items() if r["type"] == DB_TYPE}
    for rid, body in bodies.items():
        if body["properties"].get("provisioningState") in ("Succeeded", "Updating", "Creating"):
            try:
                _start(eng, rid, body)
            except RedisServerError:
                with eng.store.write() as st:
                    r = st["resources"].get(rid)
                    if r is not None:
                        r["properties"]["provisioningState"] = "Failed"


def stop_all(eng: Engine) -> None:
    """At the cloud's stop: its servers end with it."""
    with _LOCK:
        mine = [rid for d, rid in _SERVERS if d == str(eng.directory)]
    for rid in mine:
        _stop(eng, rid)


@after_group_delete
def _sweep(eng: Engine) -> None:
    """A deleted resource group took its caches' records: their servers end too."""
    with eng.store.read() as st:
        live = set(st["resources"])
    with _LOCK:
        gone = [rid for d, rid in _SERVERS if d == str(eng.directory) and rid not in live]
    for rid in gone:
        _stop(eng, rid)
