"""A resource kind is one module: a kind defined here, in a test, and registered like the
shipped ones, is built into desired, planned and ordered with no engine file edited.

The fake kind is an App Configuration store (Microsoft.AppConfiguration/configurationStores;
name: 5-50 letters, digits and '-', learn.microsoft.com/azure/azure-resource-manager/
management/resource-name-rules#microsoftappconfiguration). Only the pure part runs here:
desired, plan with plain-data observed, destroy order. The local cloud has no route for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from aigw.config.naming import NameRule, compose
from aigw.engine.plan import Action, plan_deploy, plan_destroy
from aigw.resources import adapter, adapters, names_of, registered, unregister
from aigw.resources.base import Base, Inputs
from aigw.state import Kind, Observed, Resource
from plan_support import deployed, desired_for

APP_CONFIG = Kind("app_config")
RULE = NameRule(
    "app configuration store",
    5,
    50,
    r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
    "letters, digits and '-', starting and ending alphanumeric",
    tag="appcs",
)


class AppConfigAdapter(Base):
    kind = APP_CONFIG
    order = 45  # after identity (40), before the vault (50)
    namespace = "Microsoft.AppConfiguration"
    arm_type = "configurationStores"

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        cfg = inp.config
        assert cfg.location_short is not None
        name = compose(cfg.name_prefix, cfg.env, cfg.project, RULE, cfg.location_short)
        return [
            Resource(
                "app_config",
                self.kind,
                name,
                depends_on=self.needs("resource_group", "identity"),
                managed={"location": cfg.location, "tags": inp.tags, "sku": "free"},
            )
        ]


@pytest.fixture
def app_config_kind() -> Iterator[None]:
    adapters()  # the shipped kinds first, as in a real run
    registered(AppConfigAdapter)
    try:
        yield
    finally:
        unregister(APP_CONFIG)


def test_registered_kind_is_in_desired_with_its_provider(app_config_kind: None) -> None:
    desired = desired_for("dev")
    res = desired.by_key()["app_config"]
    assert res.kind == "app_config" and res.name == "pvc-dev-aigateway-appcs-san"
    assert "provider:Microsoft.AppConfiguration" in desired.by_key()
    assert RULE.problem(res.name) is None
    assert (
        adapter(APP_CONFIG)
        .arm_id(_inputs_rg(desired.subscription_id), res.name)
        .endswith(
            "/providers/Microsoft.AppConfiguration/configurationStores/pvc-dev-aigateway-appcs-san"
        )
    )


def _inputs_rg(subscription_id: str) -> Inputs:
    from aigw.config.load import load_env
    from aigw.gateway.render import render_gateway
    from helpers import ENV_DIR

    cfg = load_env("dev", ENV_DIR).config
    return Inputs(cfg, names_of(cfg), {}, subscription_id, "t", "p", None, render_gateway(cfg))


def test_plan_creates_it_in_dependency_order_and_destroy_deletes_it_first(
    app_config_kind: None,
) -> None:
    desired = desired_for("dev")
    plan = plan_deploy(desired, {})
    order = [c.key for c in plan.changes]
    change = next(c for c in plan.changes if c.key == "app_config")
    assert change.action is Action.create and change.kind == APP_CONFIG
    for before in ("provider:Microsoft.AppConfiguration", "resource_group", "identity"):
        assert order.index(before) < order.index("app_config"), order
    # Kind order breaks the tie with the vault, which does not depend on it.
    assert order.index("app_config") < order.index("key_vault"), order

    observed = deployed(desired)
    assert not plan_deploy(desired, observed).has_changes
    drifted = dict(observed)
    drifted["app_config"] = Observed(
        exists=True, fields={**observed["app_config"].fields, "sku": "standard"},
        tags=observed["app_config"].tags,
    )  # fmt: skip
    update = next(c for c in plan_deploy(desired, drifted).changes if c.key == "app_config")
    assert update.action is Action.update and [d.path for d in update.diffs] == ["sku"]

    gone = [c.key for c in plan_destroy(desired, observed).changes if c.action is Action.delete]
    assert gone.index("app_config") < gone.index("resource_group"), gone


def test_without_the_module_the_kind_is_absent() -> None:
    desired = desired_for("dev")
    assert "app_config" not in desired.by_key()
    assert "provider:Microsoft.AppConfiguration" not in desired.by_key()
