"""Facts: each adapter's pure body -> Observed conversion on Microsoft's own GET response bodies.

tests/fixtures/observe/<kind>/<case>.json holds `body` (a response body copied unchanged from
an example in tests/fixtures/azure-rest-examples/, named by `example` and `response`) and
`observed` (Observed.to_json() of what aigw must make of it). `function` (default from_body)
and `args` (keyword arguments) pick the conversion in the kind's module under aigw/resources/.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from aigw.resources import adapter, adapters
from aigw.state import Kind, Observed
from helpers import FIXTURES, REPO

OBSERVE = FIXTURES / "observe"
CASES = sorted(OBSERVE.glob("*/*.json"))


def _convert(kind: Kind, case: dict[str, Any]) -> Observed:
    module = importlib.import_module(type(adapter(kind)).__module__)
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in case.get("args", {}).items()}
    result = getattr(module, case.get("function", "from_body"))(case["body"], **args)
    assert isinstance(result, Observed)
    return result


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_body_becomes_observed(path: Path) -> None:
    case = json.loads(path.read_text())
    observed = _convert(Kind(path.parent.name), case)
    assert observed.to_json() == case["observed"]
    assert Observed.from_json(case["observed"]) == observed


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_body_is_microsofts_example(path: Path) -> None:
    case = json.loads(path.read_text())
    example = json.loads((REPO / case["example"]).read_text())
    assert case["body"] == example["responses"][case["response"]]["body"]


def test_every_kind_has_facts() -> None:
    assert {p.parent.name for p in CASES} == {a.kind for a in adapters()}


def test_secret_value_never_in_observed() -> None:
    case = json.loads((OBSERVE / "secret" / "value_matches.json").read_text())
    assert case["body"]["value"] not in json.dumps(_convert(Kind.secret, case).to_json())
