"""The deploy context of the plan fixtures (tests/fixtures/plan/, destroy/), and an 'as deployed'
observed state built from a shipped environment for tests of the plan's output."""

from __future__ import annotations

import copy
from typing import Any

from aigw.config.load import load_env, merge
from aigw.engine.desired import build_desired
from aigw.model import Desired, Kind, Observed, resolve
from helpers import ENV_DIR

SUBSCRIPTION = "00000000-0000-0000-0000-00000000a1a1"
TENANT = "11111111-2222-3333-4444-555555555555"
DEPLOYER = "99999999-8888-7777-6666-555555555555"
OUTPUTS = {
    "identity": {"principal_id": "aaaaaaaa-0000-0000-0000-000000000001", "client_id": "c1"},
    "log_analytics": {"customer_id": "bbbbbbbb-0000-0000-0000-000000000002"},
    "key_vault": {"vault_uri": "https://vault.example/"},
    "secret:gateway-key": {"version": "0123456789abcdef0123456789abcdef"},
    "secret:azure-openai-api-key": {"version": "fedcba9876543210fedcba9876543210"},
    "secret:aigw-dev-keys": {"version": "00112233445566778899aabbccddeeff"},
}


KEY_MODE = {"azure_openai": {"auth": "key", "api_key_env": "AIGW_AZURE_OPENAI_API_KEY"}}


def desired_for(env: str, config_patch: dict[str, Any] | None = None) -> Desired:
    cfg = load_env(env, ENV_DIR).config
    # The plan fixtures were written for the scaffold's key mode (identity: tests/test_keyless_*).
    config_patch = merge(KEY_MODE, config_patch or {})
    if config_patch:
        data = merge(cfg.model_dump(mode="json"), config_patch)
        cfg = type(cfg).model_validate(data)
    return build_desired(
        cfg, subscription_id=SUBSCRIPTION, tenant_id=TENANT, deployer_principal_id=DEPLOYER
    )


def deployed(desired: Desired) -> dict[str, Observed]:
    """The observed state right after a successful deploy of `desired`."""
    out: dict[str, Observed] = {}
    for res in desired.resources:
        fields = resolve(copy.deepcopy(res.managed), OUTPUTS)
        tags = fields.pop("tags", None)
        if res.kind is Kind.secret:
            out[res.key] = Observed(exists=True, value_matches=True, outputs=OUTPUTS[res.key])
        else:
            out[res.key] = Observed(
                exists=True, fields=fields, tags=tags, outputs=OUTPUTS.get(res.key, {})
            )
    return out
