"""Carry the plan and destroy fixtures forward when a feature adds desired state.

    .venv/bin/python tests/tools/refresh_plan_fixtures.py [--check]

A fixture's `observed` is a deployed environment as aigw left it at the time the fixture was
written. When a feature adds a resource (a new secret, a new kind and its provider) or a field
(a new config file), every "deployed" fixture plans that addition, which is right for an
environment deployed before the feature and wrong for what the fixture means. This tool brings
`observed` up to the current desired state *except* where the fixture's expected plan says it
differs: a new resource is observed as deployed (its kind's `example_observed`) where the
fixture observed its siblings of the same kind, or (a new kind) everything it depends on, as
existing. It then re-plans and refuses to write unless the result is exactly the fixture's
expected plan, plus creates (registrations, for a new provider) of new resources in fixtures
that observed their siblings or dependencies as absent, and deletes of the new resources in
destroy fixtures. Review the diff it writes like any
other change.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aigw.engine.plan import field_diffs, plan_deploy, plan_destroy  # noqa: E402
from aigw.resources import adapter  # noqa: E402
from aigw.state import Desired, Observed, Resource, resolve  # noqa: E402
from engine import test_plan as tp  # noqa: E402
from plan_support import example_outputs  # noqa: E402

FIXTURES = HERE.parent / "fixtures"


def _set(fields: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = fields
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = copy.deepcopy(value)


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _exists(obs: Observed | None) -> bool:
    if obs is None or not obs.exists or obs.soft_deleted:
        return False
    state = obs.fields.get("registrationState")
    return state is None or state == "Registered"


def _deployed_around(res: Resource, desired: Desired, observed: dict[str, Observed]) -> bool:
    """Whether the fixture is a deployment `res` would be part of: its siblings of the same kind
    exist, or (the first of its kind) everything it depends on does."""
    siblings = [r.key for r in desired.resources if r.kind == res.kind and r.key in observed]
    if siblings:
        return any(_exists(observed[k]) for k in siblings)
    return bool(res.depends_on) and all(_exists(observed.get(k)) for k in res.depends_on)


def refresh(path: Path, destroy: bool) -> tuple[dict[str, Any], bool]:
    case, desired, observed = tp._load(path)
    expected = {row["key"]: row for row in case["expected"]["changes"]}
    raw = case["observed"]
    examples = example_outputs(desired)
    for res in desired.resources:
        if res.key in observed or res.key in expected:
            continue
        if _deployed_around(res, desired, observed):
            fields = resolve(copy.deepcopy(res.managed), examples)
            observed[res.key] = adapter(res.kind).example_observed(res, fields)
            raw[res.key] = observed[res.key].to_json()
    observed = {k: Observed.from_json(v) for k, v in raw.items()}
    outputs: dict[str, dict[str, Any]] = {k: dict(o.outputs) for k, o in observed.items()}
    for res in desired.resources:
        obs = observed.get(res.key)
        if obs is None:
            continue
        action = expected.get(res.key, {}).get("action")
        if not obs.exists or not obs.fields or action not in ("no-op", "update"):
            continue
        want = resolve(res.managed, outputs)
        intended = set(expected.get(res.key, {}).get("diffs", []))
        have = {**obs.fields, "tags": obs.tags or {}}
        for d in field_diffs(want, have):
            if d.path not in intended and not d.path.startswith("tags"):
                _set(raw[res.key].setdefault("fields", {}), d.path, _get(want, d.path))
    path_text = yaml.safe_dump(case, sort_keys=False, width=100, allow_unicode=True)
    path.write_text(path_text)
    case, desired, observed = tp._load(path)
    plan = (
        plan_destroy(desired, observed, purge=bool(case.get("purge", False)))
        if destroy
        else plan_deploy(desired, observed)
    )
    got = tp._changes(plan, case["expected"]["changes"])
    exp_keys = {r["key"] for r in case["expected"]["changes"]}
    new_rows = [r for r in got if r["key"] not in exp_keys]
    if [r for r in got if r["key"] in exp_keys] == case["expected"]["changes"] and all(
        r["action"] in (("delete", "no-op") if destroy else ("create", "register", "no-op"))
        for r in new_rows
    ):
        case["expected"]["changes"] = got
        return case, True
    return case, False


def main() -> int:
    failed = []
    for kind in ("plan", "destroy"):
        for path in sorted((FIXTURES / kind).glob("*.yaml")):
            original = path.read_text()
            case, ok = refresh(path, destroy=kind == "destroy")
            if ok:
                path.write_text(
                    yaml.safe_dump(case, sort_keys=False, width=100, allow_unicode=True)
                )
            else:
                path.write_text(original)
                failed.append(path.name)
    for name in failed:
        print(f"not refreshed (its plan changes more than new resources): {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
