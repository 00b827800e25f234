"""Calibration of the traffic check (tests/spec_check.py): Microsoft's own examples for the
api-versions aigw sends pass it, apart from one example that breaks its own spec's enum."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import spec_check
from spec_models import Schema, validate

EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "azure-rest-examples"
FILES = sorted(EXAMPLES.glob("*/*/*.json"))
OPERATIONS = {op.operation_id: op for op in spec_check.OPERATIONS}

# Microsoft's example writes "SystemAssigned, UserAssigned" (with a space); the enum of the same
# spec (ManagedServiceIdentityType, Microsoft.App 2026-07-01) is "SystemAssigned,UserAssigned".
# The check stays exact, so this example is expected to fail it, and only at that property.
# getScheduledQueryRule.json (2023-12-01) answers `ruleResolveConfiguration`, which the spec
# gained after azure-mgmt-monitor 7.0.0 was generated: the SDK's ScheduledQueryRuleResource has
# no such field (aigw neither sends nor reads it), so the example fails there only.
KNOWN = {
    "ManagedEnvironments_CreateOrUpdate": {("identity.type", "bad-enum")},
    "ScheduledQueryRules_Get": {("properties.ruleResolveConfiguration", "unknown-property")},
}
# The 2025-07-01 data-plane examples are identical to 2026-04-01 apart from api-version (see
# MANIFEST.json); they are checked against the models of the api-version aigw sends.
SENT_VERSION = {(spec_check.PACKAGES["secrets"], "2025-07-01"): "2026-04-01"}


def _issues(example: Path) -> set[tuple[str, str]]:
    doc: dict[str, Any] = json.loads(example.read_text())
    op = OPERATIONS[example.stem.removesuffix("_ForResource")]
    version = example.parent.name
    models = spec_check.models_for(op.package, SENT_VERSION.get((op.package, version), version))
    assert models is not None, (op.package, version)
    found: list[tuple[str, str, str]] = []
    bodies = [v for v in doc["parameters"].values() if isinstance(v, dict)]
    if op.request is not None:
        assert bodies, example
        found += validate(bodies[0], spec_check._schema_for(models, op.request), request=True)
    for status, response in doc["responses"].items():
        code = int(status)
        model = op.responses.get(code) if code // 100 == 2 else op.error
        assert code // 100 != 2 or code in op.responses, (example, code)
        body = (response or {}).get("body")
        if model is not None and body is not None:
            found += validate(body, spec_check._schema_for(models, model), request=False)
    return {(where, kind) for where, kind, _ in found}


@pytest.mark.parametrize("example", FILES, ids=[f.stem for f in FILES])
def test_microsofts_examples_pass_the_check(example: Path) -> None:
    assert _issues(example) == KNOWN.get(example.stem, set())


def test_every_example_has_an_operation() -> None:
    assert len(FILES) == 36
    assert {f.stem.removesuffix("_ForResource") for f in FILES} <= set(OPERATIONS)


def test_constraints_of_msrest_models_are_checked() -> None:
    """msrest `_validation` keeps pattern / length / range (the TypeSpec models keep none)."""
    schema = Schema("string", constraints={"pattern": r"^[a-z]+$", "max_length": 5})
    assert validate("abc", schema, request=True) == []
    assert [k for _, k, _ in validate("abc-def", schema, request=True)] == ["constraint"] * 2
    number = Schema("integer", constraints={"minimum": 7, "maximum": 90})
    assert [k for _, k, _ in validate(3, number, request=True)] == ["constraint"]
    assert {"constraint"} < set(spec_check.KINDS)
