"""The deploy context of the plan fixtures (tests/fixtures/plan/, destroy/), and an 'as deployed'
observed state built from a shipped environment for tests of the plan's output."""

from __future__ import annotations

import copy
from typing import Any

from aigw.config.load import load_env, merge
from aigw.engine.desired import build_desired
from aigw.resources import adapter
from aigw.state import Desired, Observed, resolve
from helpers import ENV_DIR

SUBSCRIPTION = "00000000-0000-0000-0000-00000000a1a1"
TENANT = "11111111-2222-3333-4444-555555555555"
DEPLOYER = "99999999-8888-7777-6666-555555555555"
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


def example_outputs(desired: Desired) -> dict[str, dict[str, Any]]:
    """Each resource's outputs once deployed, as its kind declares them (`example_outputs`)."""
    return {r.key: adapter(r.kind).example_outputs(r) for r in desired.resources}


def deployed(desired: Desired) -> dict[str, Observed]:
    """The observed state right after a successful deploy of `desired`."""
    outputs = example_outputs(desired)
    return {
        res.key: adapter(res.kind).example_observed(
            res, resolve(copy.deepcopy(res.managed), outputs)
        )
        for res in desired.resources
    }


def clean_writes(env: str = "prod") -> tuple[int, int]:
    """The writes of a clean deploy of `env` on the local cloud (every resource the registry's
    kinds desire, but registrations: its providers start registered) and of a destroy after it
    (the destroy plan's deletes), in the harness's key mode."""
    from aigw.engine.plan import Action, plan_destroy

    desired = desired_for(env)
    deploy = sum(1 for r in desired.resources if not adapter(r.kind).registration)
    changes = plan_destroy(desired, deployed(desired)).changes
    return deploy, sum(1 for c in changes if c.action is Action.delete)
