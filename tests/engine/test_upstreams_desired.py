"""Each named upstream brings its own auth into the desired state (issue 16): auth: key, its
own Key Vault secret, secretRef and variable; auth: identity, one OpenAI User role per account.
And the secrets of a run carry each upstream's key, shown nowhere."""

from __future__ import annotations

from pathlib import Path

from aigw.config.load import load_env
from aigw.engine.desired import build_desired
from aigw.secrets import read_secrets
from aigw.state import Kind
from helpers import ENV_DIR

TEXT = """extends: base.yaml
upstreams:
  - name: payg
    endpoint: https://payg-swc.openai.azure.com
    auth: key
  - name: east
    endpoint: https://east.openai.azure.com
  - name: east-again
    endpoint: https://east.openai.azure.com
models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
    upstreams:
      - {upstream: primary}
      - {upstream: payg}
      - {upstream: east}
      - {upstream: east-again, deployment: other}
"""


def test_named_upstreams_own_secrets_env_and_roles(tmp_path: Path) -> None:
    d = tmp_path / "environments"
    d.mkdir()
    (d / "base.yaml").write_bytes((ENV_DIR / "base.yaml").read_bytes())
    (d / "qa.yaml").write_text(TEXT)
    cfg = load_env("qa", d).config
    desired = build_desired(
        cfg,
        subscription_id="00000000-0000-0000-0000-00000000a1a1",
        tenant_id="11111111-2222-3333-4444-555555555555",
        deployer_principal_id="99999999-8888-7777-6666-555555555555",
    )
    by_key = {r.key: r for r in desired.resources}
    secret = by_key["secret:azure-openai-api-key-payg"]
    assert secret.managed["source"] == "azure_openai_key:payg"
    assert "secret:azure-openai-api-key" not in by_key  # the primary is identity (base.yaml)
    roles = [r for r in desired.resources if r.kind is Kind.role_assignment]
    openai_roles = sorted(r.key for r in roles if "openaiAccount" in r.managed)
    # the primary's and east's account; east-again is the same account: no second role
    assert openai_roles == ["role:app-openai-user", "role:app-openai-user-east"]
    app = next(r for r in desired.resources if r.kind is Kind.container_app)
    env = app.managed["env"]
    assert env["LITELLM_AZURE_OPENAI_API_KEY_PAYG"] == {"secretRef": "azure-openai-api-key-payg"}
    assert "AZURE_CLIENT_ID" in env and "LITELLM_AZURE_OPENAI_API_KEY" not in env
    assert "azure-openai-api-key-payg" in app.managed["secrets"]
    assert "role:app-openai-user-east" in app.depends_on


def test_each_upstream_key_is_read_from_its_variable_and_never_shown() -> None:
    environ = {"GW": "g" * 40, "PAYG_KEY": "payg-secret-value-0123456789"}
    secrets = read_secrets(
        "GW", None, required=True, environ=environ, upstream_key_envs={"payg": "PAYG_KEY"}
    )
    payg = secrets.named("azure_openai_key:payg")
    assert payg is not None and payg.reveal() == environ["PAYG_KEY"]
    assert secrets.named("azure_openai_key:east") is None
    assert environ["PAYG_KEY"] not in repr(secrets) and environ["PAYG_KEY"] not in str(payg)
