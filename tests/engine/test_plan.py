"""Plan and destroy cases from self-contained fixture files: tests/fixtures/plan/*.yaml and
tests/fixtures/destroy/*.yaml, each {description, config, observed, expected}.

`config` is an environment's config inline (after `extends`), `observed` what Azure holds per
resource key (Observed's JSON form, defaults left out), `expected` the whole plan: every change
in order with its action and the paths of its diffs (and its reason where given), and the unsafe
changes as "<key> <action>". Destroy cases may set `purge: true`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aigw.config.model import EnvConfig
from aigw.engine.desired import build_desired
from aigw.engine.plan import Plan, plan_deploy, plan_destroy
from aigw.errors import UnsafePlanError
from aigw.state import Desired, Observed
from helpers import FIXTURES
from plan_support import DEPLOYER, SUBSCRIPTION, TENANT

PLAN_CASES = sorted((FIXTURES / "plan").glob("*.yaml"))
DESTROY_CASES = sorted((FIXTURES / "destroy").glob("*.yaml"))


def _load(path: Path) -> tuple[dict[str, Any], Desired, dict[str, Observed]]:
    case = yaml.safe_load(path.read_text())
    desired = build_desired(
        EnvConfig.model_validate(case["config"]),
        subscription_id=SUBSCRIPTION,
        tenant_id=TENANT,
        deployer_principal_id=DEPLOYER,
    )
    observed = {k: Observed.from_json(v) for k, v in case["observed"].items()}
    return case, desired, observed


def _changes(plan: Plan, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reasons = {row["key"] for row in expected if "reason" in row}
    out: list[dict[str, Any]] = []
    for c in plan.changes:
        row: dict[str, Any] = {"key": c.key, "action": c.action.value}
        if c.diffs:
            row["diffs"] = sorted(d.path for d in c.diffs)
        if c.key in reasons:
            row["reason"] = c.reason
        out.append(row)
    return out


def _check(plan: Plan, expected: dict[str, Any], unsafe_match: str | None) -> None:
    assert _changes(plan, expected["changes"]) == expected["changes"], plan.to_json()
    unsafe = sorted(f"{c.key} {c.action.value}" for c in plan.unsafe_changes())
    assert unsafe == sorted(expected["unsafe"])
    if unsafe:
        with pytest.raises(UnsafePlanError, match=unsafe_match):
            plan.raise_if_unsafe()
    else:
        plan.raise_if_unsafe()


@pytest.mark.parametrize("path", PLAN_CASES, ids=[p.stem for p in PLAN_CASES])
def test_plan_case(path: Path) -> None:
    case, desired, observed = _load(path)
    plan = plan_deploy(desired, observed)
    _check(plan, case["expected"], "managed-by=aigw")
    writes = any(c["action"] != "no-op" for c in case["expected"]["changes"])
    assert plan.has_changes is writes


@pytest.mark.parametrize("path", DESTROY_CASES, ids=[p.stem for p in DESTROY_CASES])
def test_destroy_case(path: Path) -> None:
    case, desired, observed = _load(path)
    plan = plan_destroy(desired, observed, purge=bool(case.get("purge", False)))
    _check(plan, case["expected"], None)


def test_checksum_is_stable_and_tracks_content() -> None:
    def checksum(name: str) -> str:
        _, desired, observed = _load(FIXTURES / "plan" / f"{name}.yaml")
        return plan_deploy(desired, observed).checksum

    a, b, c = checksum("model_added"), checksum("model_added"), checksum("image_changed")
    assert a == b and a != c
    assert len(a) == 16
