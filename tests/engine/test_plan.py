"""Plan cases from fixture files: desired (an environment file + patch) and observed -> changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aigw.engine.plan import Action, Plan, plan_deploy, plan_destroy
from aigw.errors import UnsafePlanError
from aigw.model import Kind, Observed
from helpers import FIXTURES
from plan_support import apply_patch, deployed, desired_for

CASES = sorted((FIXTURES / "plan").glob("*.json"))


def _case(path: Path) -> tuple[dict[str, Any], Plan]:
    case = json.loads(path.read_text())
    desired = desired_for(case["env"], case.get("config_patch"))
    base = {} if case["observed"] == "nothing" else deployed(desired)
    if case["observed"] != "nothing":
        # the observed state was deployed from the unpatched config
        base = deployed(desired_for(case["env"]))
    observed = apply_patch(base, case.get("observed_patch", {}))
    return case, plan_deploy(desired, observed)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_plan_case(path: Path) -> None:
    case, plan = _case(path)
    actions = {c.key: c.action.value for c in plan.changes}
    for key, action in case.get("expected", {}).items():
        assert actions[key] == action, (key, plan.to_json())
    if "expected_all" in case:
        assert set(actions.values()) == {case["expected_all"]}, plan.to_json()
        assert not plan.has_changes
    if "expected_others" in case:
        others = {k: a for k, a in actions.items() if k not in case["expected"]}
        assert set(others.values()) == {case["expected_others"]}, others
    for key, paths in case.get("diff_paths", {}).items():
        change = next(c for c in plan.changes if c.key == key)
        assert sorted(d.path for d in change.diffs) == sorted(paths)
    order = [c.key for c in plan.changes]
    for before, after in case.get("order_before", []):
        assert order.index(before) < order.index(after), order
    unsafe = case.get("unsafe", [])
    assert sorted(c.key for c in plan.unsafe_changes()) == sorted(unsafe)
    if unsafe:
        with pytest.raises(UnsafePlanError, match="managed-by=aigw"):
            plan.raise_if_unsafe()
    else:
        plan.raise_if_unsafe()


def test_checksum_is_stable_and_tracks_content() -> None:
    _, a = _case(FIXTURES / "plan" / "model_added.json")
    _, b = _case(FIXTURES / "plan" / "model_added.json")
    _, c = _case(FIXTURES / "plan" / "image_changed.json")
    assert a.checksum == b.checksum and a.checksum != c.checksum
    assert len(a.checksum) == 16


def test_destroy_deletes_only_ours_in_reverse_order_and_keeps_a_shared_group() -> None:
    desired = desired_for("dev")
    observed = deployed(desired)
    plan = plan_destroy(desired, observed)
    order = [c.key for c in plan.changes if c.action is Action.delete]
    assert (
        order.index("container_app") < order.index("container_env") < order.index("resource_group")
    )
    assert not any(c.kind in (Kind.provider, Kind.secret) for c in plan.changes)
    shared = apply_patch(observed, {"resource_group": {"foreign_contents": ["vm1"]}})
    kept = plan_destroy(desired, shared)
    rg = next(c for c in kept.changes if c.key == "resource_group")
    assert rg.action is Action.noop and "vm1" in rg.reason


def test_destroy_refuses_foreign_and_purge_of_protected_vault() -> None:
    desired = desired_for("prod")
    observed = apply_patch(
        deployed(desired),
        {
            "container_app": {"tags": {"managed-by": "terraform"}},
            "key_vault": {"purge_protected": True},
        },
    )
    plan = plan_destroy(desired, observed, purge=True)
    unsafe = {c.key: c.action for c in plan.unsafe_changes()}
    assert unsafe == {"container_app": Action.delete, "key_vault": Action.purge}
    with pytest.raises(UnsafePlanError):
        plan.raise_if_unsafe()


def test_unknown_secret_comparison_is_not_a_change() -> None:
    desired = desired_for("dev")
    observed = deployed(desired)
    observed["secret:gateway-key"] = Observed(exists=True, value_matches=None)
    assert not plan_deploy(desired, observed).has_changes
