"""Issue 15: the gateway reaches Azure OpenAI with its managed identity (no key anywhere), the
emulator checks tokens against the account's RBAC, and plan checks the deployments first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from azure.keyvault.secrets import SecretClient

from aigw.engine import workflow
from aigw.engine.upstream_preflight import PreflightError
from aigw.gateway import smoke
from aigw.gateway.render import AZURE_OPENAI_KEY_VAR
from aigw.resources import names_of
from aigw_localcloud.arm.openai_account import link
from aigw_localcloud.core.msi_endpoint import issue
from aigw_localcloud.openai.account import AUDIENCE
from aigw_localcloud.openai.deployments import Deployment
from helpers import AOAI_KEY_CANARY

from .harness import Stack, close_stack, make_stack

ROLE_KEY = "role:app-openai-user"
OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"


@pytest.fixture
def gw_stack(tmp_path: Path) -> Iterator[Stack]:
    stack = make_stack(tmp_path, with_gateway=True)
    link(stack.cloud.engine, stack.aoai)
    try:
        yield stack
    finally:
        close_stack(stack)


@pytest.fixture
def slow_rbac(tmp_path: Path) -> Iterator[Stack]:
    stack = make_stack(tmp_path, with_gateway=False, propagation_delay=1.5)
    link(stack.cloud.engine, stack.aoai)
    try:
        yield stack
    finally:
        close_stack(stack)


@pytest.mark.litellm
def test_keyless_deploy_serves_with_tokens_and_no_key_is_anywhere(gw_stack: Stack) -> None:
    s = gw_stack
    s.aoai.account.disable_local_auth = True  # keys refused: only the identity can work
    cfg = s.config(auth="identity")
    session = s.session(config=cfg)  # its secrets still carry the key canary: never used
    plan = workflow.make_plan(session)
    assert ROLE_KEY in {c.key for c in plan.changes}
    result = workflow.apply(session, plan)
    assert result.ok, result
    out = workflow.outputs(session)
    clients = session.ctx.clients
    names = names_of(cfg)

    # Key Vault: only the gateway key.
    vault = SecretClient(
        out["key_vault_uri"], s.cloud.credential(), connection_verify=str(s.cloud.ca_file),
        verify_challenge_resource=False,
    )  # fmt: skip
    assert {p.name for p in vault.list_properties_of_secrets()} == {
        "gateway-key",
        "aigw-developer-keys",
    }
    # The app: no such secret, env var, argument, nor the key in any value; the config file
    # names no key and turns on LiteLLM's token refresh.
    apps = clients.apps().container_apps
    listed = {
        x.name: x.value for x in apps.list_secrets(names.resource_group, names.container_app).value
    }
    assert "azure-openai-api-key" not in listed
    assert not any(AOAI_KEY_CANARY in (v or "") for v in listed.values())
    app = apps.get(names.resource_group, names.container_app)
    c = app.properties.template.containers[0]
    env = {e.name: e.value for e in c.env}
    assert AZURE_OPENAI_KEY_VAR not in env
    assert env["AZURE_CLIENT_ID"] == out["identity_client_id"]
    assert not any(AOAI_KEY_CANARY in str(x) for x in [*c.args, *env.values()])
    rendered = yaml.safe_load(listed["litellm-config"])
    assert rendered["litellm_settings"]["enable_azure_ad_token_refresh"] is True
    assert all("api_key" not in m["litellm_params"] for m in rendered["model_list"])
    assert AOAI_KEY_CANARY not in listed["litellm-config"]

    # The real LiteLLM answers through its managed identity: the emulator saw tokens only.
    s.aoai.clear_journal()
    checks = smoke.run_smoke(
        out["gateway_url"], s.gateway_key, cfg, verify=smoke.verify_for(s.cloud), timeout=60
    )
    failed = [c.to_json() for c in checks if not c.ok]
    assert not failed, failed
    assert {e.operation for e in s.aoai.journal} >= {"embeddings", "responses"}
    assert {e.auth for e in s.aoai.journal} == {"token"}
    session.close()


def test_a_missing_deployment_fails_plan_in_one_line_with_zero_writes(slow_rbac: Stack) -> None:
    s = slow_rbac
    cfg = s.config(auth="identity")
    s.aoai.set_deployments([Deployment("gpt-5.3-codex", "responses")])  # no embeddings one
    mark = s.mark()
    session = s.session(config=cfg)
    with pytest.raises(PreflightError) as caught:
        workflow.make_plan(session)
    session.close()
    err = caught.value
    assert err.exit_code == 1
    assert len(err.one_line().splitlines()) == 1
    line = err.one_line()
    assert "models[1] (text-embedding-3-large)" in line and "'text-embedding-3-large'" in line
    assert s.writes_since(mark) == []


def test_wrong_dimensions_is_bad_input(slow_rbac: Stack) -> None:
    s = slow_rbac
    cfg = s.config(auth="identity")
    small = Deployment("text-embedding-3-large", "embeddings", 1536, model="text-embedding-3-small")
    s.aoai.set_deployments([Deployment("gpt-5.3-codex", "responses"), small])
    session = s.session(config=cfg)
    with pytest.raises(PreflightError) as caught:
        workflow.make_plan(session)
    session.close()
    assert caught.value.exit_code == 2
    assert "set models[1].dimensions: 1536" in caught.value.one_line()


def _embed(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{url}/openai/deployments/text-embedding-3-large/embeddings?api-version=2023-05-15",
        json={"input": "x"}, headers=headers, trust_env=False,
    )  # fmt: skip


def test_emulator_refuses_tokens_until_the_role_propagates_and_keys_when_disabled(
    slow_rbac: Stack,
) -> None:
    s = slow_rbac
    cfg = s.config(auth="identity")
    session = s.session(config=cfg)
    workflow.apply(session, workflow.make_plan(session))
    out = workflow.outputs(session)
    session.close()
    ident = s.cloud.engine.store
    with ident.read() as st:
        principal = next(
            r["properties"]["principalId"]
            for r in st["resources"].values()
            if r["type"].endswith("userAssignedIdentities")
        )
        role_created = next(
            ra["_created"]
            for ra in st["role_assignments"].values()
            if ra["properties"]["roleDefinitionId"].endswith(OPENAI_USER)
        )
    token, _ = issue(principal, s.cloud.tenant_id, AUDIENCE, out["identity_client_id"])
    bearer = {"Authorization": f"Bearer {token}"}
    # A token for another audience is refused whatever the roles.
    other, _ = issue(principal, s.cloud.tenant_id, "https://management.azure.com", "x")
    r = _embed(s.aoai.url, {"Authorization": f"Bearer {other}"})
    assert r.status_code == 401 and "audience is incorrect" in r.text
    # Before the role takes effect: Azure's 401 PermissionDenied naming the data action.
    if time.time() < role_created + 1.5 - 0.3:
        r = _embed(s.aoai.url, bearer)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "PermissionDenied"
        assert "deployments/embeddings/action" in r.json()["error"]["message"]
    while _embed(s.aoai.url, bearer).status_code != 200:
        assert time.time() < role_created + 10
        time.sleep(0.1)
    waited = time.time() - role_created
    assert waited >= 1.4  # the propagation delay, not earlier
    # Keys: accepted, then refused once the account disables local auth.
    assert _embed(s.aoai.url, {"api-key": AOAI_KEY_CANARY}).status_code == 200
    s.aoai.account.disable_local_auth = True
    r = _embed(s.aoai.url, {"api-key": AOAI_KEY_CANARY})
    assert r.status_code == 403
    assert r.json()["error"] == {
        "code": "AuthenticationTypeDisabled",
        "message": "Key based authentication is disabled for this resource.",
    }


def test_switching_key_to_identity_is_one_plan(slow_rbac: Stack) -> None:
    s = slow_rbac
    s.deploy(config=s.config(auth="key"))
    session = s.session(config=s.config(auth="identity"))
    plan = workflow.make_plan(session)
    by_key = {c.key: c for c in plan.changes}
    assert by_key[ROLE_KEY].action.value == "create"
    app = by_key["container_app"]
    assert app.action.value == "update"
    paths = {d.path for d in app.diffs}
    assert "env.AZURE_CLIENT_ID" in paths
    assert "secret:azure-openai-api-key" not in by_key  # no longer desired
    before = workflow.outputs(session)["latest_revision"]
    result = workflow.apply(session, plan)
    assert result.ok
    after = session.ctx.outputs["container_app"]["latest_revision"]
    assert after != before  # one new revision
    names = names_of(session.config)
    body = session.ctx.clients.apps().container_apps.get(names.resource_group, names.container_app)
    assert {x.name for x in body.properties.configuration.secrets} == {
        "gateway-key", "litellm-config", "aigw-guard", "aigw-usage", "aigw-responses",
        "aigw-limits", "aigw-developer-keys",
        "aigw-dev-keys",  # their former name, for revisions an earlier aigw made (FORMER_SECRETS)
    }  # fmt: skip
    session.close()
