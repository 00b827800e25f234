"""Every exchange of a fresh deploy, a no-op deploy, a gateway key change, `rotate-key` and
`destroy --purge` on the local cloud (the real SDKs, the real LiteLLM), captured as
{liveRequest, liveResponse} files and checked against Microsoft's definitions for exactly the
api-versions sent (tests/spec_check.py: the pinned SDK packages' generated models). 0 findings;
the negative controls prove the check catches each kind of mistake."""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import spec_check
from aigw.engine import rotate, workflow
from aigw.secrets import Secret
from aigw_localcloud.core.capture import ENV_VAR

from .harness import close_stack, copy_envs, make_stack

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    root = tmp_path_factory.mktemp("traffic")
    captured = root / "captured"
    t0 = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_VAR, str(captured))
        stack = make_stack(root / "stack", with_gateway=True)
    stack.env_dir = copy_envs(root / "environments")
    session = stack.session()
    try:  # what each write is made of: the desired managed fields, for the PUT fixtures
        (root / "desired.json").write_text(
            json.dumps(
                {
                    r.key: {"kind": r.kind.value, "name": r.name, "managed": r.managed}
                    for r in session.desired.resources
                },
                default=repr,
                sort_keys=True,
            )
        )
    finally:
        session.close()
    seconds: dict[str, float] = {}

    def timed(step: str, t: float) -> None:
        seconds[step] = round(time.perf_counter() - t, 1)

    try:
        for step in ("fresh deploy", "no-op deploy"):
            t = time.perf_counter()
            _, result = stack.deploy()
            assert result.ok, (step, [e.one_line() for e in result.errors])
            timed(step, t)
        t = time.perf_counter()
        stack.gateway_key = "sk-changed-gateway-key-3c4d5e6f7a8b9c0d"
        _, result = stack.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        timed("key change", t)
        t = time.perf_counter()
        session = stack.session()
        try:
            rotated = rotate.rotate_gateway_key(
                session, Secret("generated", rotate.generate_key()), wait_timeout=90
            )
        finally:
            session.close()
        assert rotated.ok, [c.to_json() for c in rotated.checks if not c.ok]
        timed("rotate-key", t)
        t = time.perf_counter()
        session = stack.session()
        try:
            plan = workflow.make_plan(session, destroy=True, purge=True)
            result = workflow.apply(session, plan)
        finally:
            session.close()
        assert result.ok, [e.one_line() for e in result.errors]
        timed("destroy --purge", t)
    finally:
        close_stack(stack)
    files = sorted(captured.glob("*.json"))
    total = time.perf_counter() - t0
    print(f"traffic: {len(files)} exchanges captured in {total:.1f}s {seconds}")
    yield files


def _load(files: list[Path]) -> list[tuple[str, Doc]]:
    return [(f.name, json.loads(f.read_text())) for f in files]


def _operation(doc: Doc) -> str:
    req = doc["liveRequest"]
    op = spec_check.match(req["method"], urlsplit(req["url"]).path)
    return op.operation_id if op else "polling"


def test_the_real_traffic_has_no_findings(traffic: list[Path]) -> None:
    t0 = time.perf_counter()
    findings = spec_check.check_files(traffic)
    seconds = time.perf_counter() - t0
    assert [str(f) for f in findings] == []
    ops = Counter(_operation(doc) for _, doc in _load(traffic))
    print(f"spec check: {len(traffic)} exchanges, {len(ops)} operations, {seconds:.2f}s", ops)
    # The scenario really covered every kind of write and read aigw makes.
    assert {
        "ResourceGroups_CreateOrUpdate",
        "Workspaces_CreateOrUpdate",
        "UserAssignedIdentities_CreateOrUpdate",
        "Vaults_CreateOrUpdate",
        "RoleAssignments_Create",
        "SetSecret",
        "GetSecret",
        "ManagedEnvironments_CreateOrUpdate",
        "ContainerApps_CreateOrUpdate",
        "ContainerAppsRevisions_RestartRevision",
        "ContainerApps_Delete",
        "ManagedEnvironments_Delete",
        "RoleAssignments_Delete",
        "Vaults_Delete",
        "Vaults_PurgeDeleted",
        "UserAssignedIdentities_Delete",
        "Workspaces_Delete",
        "ResourceGroups_Delete",
        "polling",
    } <= set(ops)
    assert ops["SetSecret"] >= 4  # two on create, one for the key change, one for rotate-key
    # Every ARM exchange names an api-version the SDK has models for (checked above), and
    # bodies were there to check.
    assert sum(1 for _, d in _load(traffic) if d["liveRequest"]["body"]) >= 10


PUT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "put"
REFRESH = "AIGW_REFRESH_PUT_FIXTURES"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_VERSION = re.compile(r"(/secrets/[^/\s]+/)[0-9a-f]{32}")  # a Key Vault secret's version
# the config's digest (it holds the emulator's port), not an image's pinned digest
_DIGEST = re.compile(r"(?<!sha256:)\b[0-9a-f]{64}\b")
_REVISION = re.compile(r"\br\d{12}-[0-9a-f]{6}\b")  # a revision suffix: its time and a nonce


def _normal(value: Any, names: dict[str, str]) -> Any:
    """A captured value without what differs between runs: ids (UUIDs), ports, and the
    environment's names replaced by the resource key they belong to."""
    if isinstance(value, dict):
        return {_normal(k, names): _normal(v, names) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normal(v, names) for v in value]
    if not isinstance(value, str):
        return value
    text = _VERSION.sub(r"\1<version>", _PORT.sub(r"\1:<port>", _UUID.sub("<uuid>", value)))
    text = _REVISION.sub("<revision-suffix>", _DIGEST.sub("<sha256>", text))
    for name, key in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(name, f"<{key}>")
    return text


def fresh_writes(traffic: list[Path]) -> dict[str, Doc]:
    """The fresh deploy's writes, one fixture per resource kind: the kind's desired managed
    fields (what aigw decided) and every PUT its resources sent (what the SDK put on the
    wire), normalised. Later steps (key change, rotate-key) write again: only each URL's first
    PUT counts, which is the fresh deploy's."""
    desired = json.loads((traffic[0].parent.parent / "desired.json").read_text())
    names = {
        d["name"]: key
        for key, d in desired.items()
        if len(d["name"]) > 3 and d["kind"] != "provider"  # a provider is named by its namespace
    }
    seen: set[str] = set()
    out: dict[str, Doc] = {}
    for _, doc in _load(traffic):
        req = doc["liveRequest"]
        path = urlsplit(req["url"]).path
        if req["method"] != "PUT" or path in seen:
            continue
        seen.add(path)
        owner = next(
            (d for d in desired.values() if path.rstrip("/").endswith("/" + d["name"])), None
        )
        kind = owner["kind"] if owner else "other"
        entry = out.setdefault(kind, {"kind": kind, "writes": []})
        entry["writes"].append(
            {
                "put": _normal(path, names),
                "managed": _normal(owner["managed"], names) if owner else None,
                "body": _normal(req["body"], names),
            }
        )
    for entry in out.values():
        entry["writes"].sort(key=lambda w: json.dumps(w, sort_keys=True))
    return out


def test_each_kinds_managed_fields_make_the_put_bodies_in_its_fixture(
    traffic: list[Path],
) -> None:
    """pyinfra-style fixtures for writes (issue 25): tests/fixtures/put/<kind>.json holds, per
    resource of the kind, the managed fields aigw decided and the PUT body the real SDK sent
    for them. A change to what aigw writes shows up as a fixture diff; a new kind needs its
    file (AIGW_REFRESH_PUT_FIXTURES=1 writes them all)."""
    import os

    writes = fresh_writes(traffic)
    assert {"resource_group", "key_vault", "container_app", "secret"} <= set(writes), sorted(writes)
    if os.environ.get(REFRESH):
        PUT_FIXTURES.mkdir(parents=True, exist_ok=True)
        for old in PUT_FIXTURES.glob("*.json"):
            old.unlink()
        for kind, entry in writes.items():
            (PUT_FIXTURES / f"{kind}.json").write_text(json.dumps(entry, indent=1) + "\n")
    stored = {f.stem: json.loads(f.read_text()) for f in PUT_FIXTURES.glob("*.json")}
    assert sorted(stored) == sorted(writes), f"kinds written changed: rerun with {REFRESH}=1"
    for kind, entry in writes.items():
        assert entry == stored[kind], f"{kind}: the PUT bodies changed; rerun with {REFRESH}=1"
    text = json.dumps(stored)
    assert "sk-" not in text  # no key in a fixture (secret values are masked by the capture)


def _pick(traffic: list[Path], operation: str, *, with_body: str) -> Doc:
    for _, doc in _load(traffic):
        ok = doc["liveResponse"]["statusCode"].startswith("2")
        if _operation(doc) == operation and ok and doc[with_body]["body"]:
            return doc
    raise AssertionError(f"no {operation} with a {with_body} body captured")


Mutation = Callable[[Any], None]


def _set(path: list[str | int], value: Any) -> Mutation:
    def apply(body: Any) -> None:
        for part in path[:-1]:
            body = body[part]
        body[path[-1]] = value

    return apply


def _drop(path: list[str | int]) -> Mutation:
    def apply(body: Any) -> None:
        for part in path[:-1]:
            body = body[part]
        del body[path[-1]]

    return apply


CONTROLS: list[tuple[str, str, str, Mutation, str, str]] = [
    # (operation, liveRequest|liveResponse, kind, mutation, where, id)
    # Container Apps 2026-07-01 (TypeSpec-generated models)
    (
        "ContainerApps_CreateOrUpdate",
        "liveRequest",
        "missing-required",
        _drop(["location"]),
        "location",
        "app-location",
    ),
    (
        "ContainerApps_CreateOrUpdate",
        "liveRequest",
        "readonly-sent",
        _set(["properties", "provisioningState"], "Succeeded"),
        "properties.provisioningState",
        "app-provisioning-state",
    ),
    (
        "ContainerApps_CreateOrUpdate",
        "liveRequest",
        "bad-enum",
        _set(["properties", "configuration", "activeRevisionsMode"], "single-ish"),
        "properties.configuration.activeRevisionsMode",
        "app-revisions-mode",
    ),
    (
        "ContainerApps_CreateOrUpdate",
        "liveRequest",
        "wrong-type",
        _set(["properties", "configuration", "ingress", "targetPort"], "4000"),
        "properties.configuration.ingress.targetPort",
        "app-target-port",
    ),
    (
        "ContainerApps_CreateOrUpdate",
        "liveRequest",
        "unknown-property",
        _set(["properties", "configuration", "ingress", "exposed"], True),
        "properties.configuration.ingress.exposed",
        "app-ingress-extra",
    ),
    # Role assignments 2022-04-01 (msrest models, flattened properties)
    (
        "RoleAssignments_Create",
        "liveRequest",
        "missing-required",
        _drop(["properties", "principalId"]),
        "properties.principalId",
        "ra-principal",
    ),
    (
        "RoleAssignments_Create",
        "liveRequest",
        "readonly-sent",
        _set(["properties", "scope"], "/subscriptions/x"),
        "properties.scope",
        "ra-scope",
    ),
    (
        "RoleAssignments_Create",
        "liveRequest",
        "bad-enum",
        _set(["properties", "principalType"], "Robot"),
        "properties.principalType",
        "ra-principal-type",
    ),
    (
        "RoleAssignments_Create",
        "liveRequest",
        "wrong-type",
        _set(["properties", "principalId"], 42),
        "properties.principalId",
        "ra-principal-int",
    ),
    (
        "RoleAssignments_Create",
        "liveRequest",
        "unknown-property",
        _set(["properties", "roleName"], "x"),
        "properties.roleName",
        "ra-extra",
    ),
    # null: refused in requests; in responses only where the property is optional (oav's rule)
    (
        "RoleAssignments_Create",
        "liveRequest",
        "wrong-type",
        _set(["properties", "description"], None),
        "properties.description",
        "ra-null",
    ),
    (
        "Vaults_Get",
        "liveResponse",
        "wrong-type",
        _set(["properties", "tenantId"], None),
        "properties.tenantId",
        "vault-tenant-null",
    ),
    # Key Vault secrets 2026-04-01 (data plane)
    ("SetSecret", "liveRequest", "missing-required", _drop(["value"]), "value", "secret-value"),
    (
        "SetSecret",
        "liveRequest",
        "wrong-type",
        _set(["attributes"], "enabled"),
        "attributes",
        "secret-attributes",
    ),
    (
        "SetSecret",
        "liveRequest",
        "unknown-property",
        _set(["version"], "1"),
        "version",
        "secret-version",
    ),
    (
        "SetSecret",
        "liveRequest",
        "readonly-sent",
        _set(["attributes"], {"created": 1700000000}),
        "attributes.created",
        "secret-created",
    ),
    # Responses: the local cloud's answers are checked the same way.
    (
        "Vaults_Get",
        "liveResponse",
        "missing-required",
        _drop(["properties", "tenantId"]),
        "properties.tenantId",
        "vault-tenant",
    ),
    (
        "Vaults_Get",
        "liveResponse",
        "bad-enum",
        _set(["properties", "sku", "name"], "gold"),
        "properties.sku.name",
        "vault-sku",
    ),
    (
        "Workspaces_Get",
        "liveResponse",
        "wrong-type",
        _set(["properties", "retentionInDays"], "30"),
        "properties.retentionInDays",
        "law-retention",
    ),
    (
        "UserAssignedIdentities_Get",
        "liveResponse",
        "unknown-property",
        _set(["properties", "objectId"], "x"),
        "properties.objectId",
        "uai-extra",
    ),
    (
        "GetSecret",
        "liveResponse",
        "wrong-type",
        _set(["attributes", "created"], "2026-01-01T00:00:00Z"),
        "attributes.created",
        "secret-created-iso",
    ),
]


@pytest.mark.parametrize(
    ("operation", "side", "kind", "mutate", "where"),
    [c[:5] for c in CONTROLS],
    ids=[c[5] for c in CONTROLS],
)
def test_negative_control_catches_each_kind_of_mistake(
    traffic: list[Path], operation: str, side: str, kind: str, mutate: Mutation, where: str
) -> None:
    doc = copy.deepcopy(_pick(traffic, operation, with_body=side))
    assert spec_check.check_exchange("control", doc) == []  # the real exchange is clean
    mutate(doc[side]["body"])
    found = [(f.kind, f.where) for f in spec_check.check_exchange("control", doc)]
    assert found == [(kind, where)]


def test_every_kind_has_a_control() -> None:
    assert {c[2] for c in CONTROLS} <= set(spec_check.KINDS)
    assert {c[2] for c in CONTROLS} == {
        "missing-required",
        "readonly-sent",
        "bad-enum",
        "wrong-type",
        "unknown-property",
    }


def test_status_api_version_and_url_outside_the_definitions_are_findings(
    traffic: list[Path],
) -> None:
    doc = copy.deepcopy(_pick(traffic, "ContainerApps_CreateOrUpdate", with_body="liveRequest"))
    doc["liveResponse"]["statusCode"] = "202"
    assert [f.kind for f in spec_check.check_exchange("c", doc)] == ["undeclared-status"]
    doc = copy.deepcopy(_pick(traffic, "Vaults_Get", with_body="liveResponse"))
    doc["liveRequest"]["url"] = doc["liveRequest"]["url"].replace("2026-05-15", "2019-09-01")
    assert [f.kind for f in spec_check.check_exchange("c", doc)] == ["no-definition"]
    doc["liveRequest"]["url"] = doc["liveRequest"]["url"].replace("/vaults/", "/vaultz/")
    assert [f.kind for f in spec_check.check_exchange("c", doc)] == ["no-definition"]
