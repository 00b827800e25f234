"""Issue 13: no branch on a resource Kind outside aigw/resources/ (model.py defines Kind).

A kind's quirks live in its module under resources/ as data or hooks on the Adapter protocol;
the engine asks the adapter instead of comparing kinds.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "aigw"
# `x is Kind.a`, `x == Kind.a`, `x in (Kind.a, ...)`, `Kind.a is x`, or a tuple/set of kinds.
COMPARE = re.compile(
    r"(\bis\b|==|!=|\bin\b)[^#\n]*(?<![\w.])Kind\.\w+"
    r"|(?<![\w.])Kind\.\w+\s*(\bis\b|==|!=)"
    r"|[(\[{]\s*Kind\.\w+\s*,"
)


def kind_branches() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("resources/") or rel == "model.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if COMPARE.search(code):
                found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_the_pattern_finds_branches() -> None:
    assert COMPARE.search("if res.kind is Kind.secret:")
    assert COMPARE.search("_X = (Kind.role_assignment, Kind.secret)")
    assert COMPARE.search("if kind in (Kind.a, Kind.b):")
    assert not COMPARE.search("if m.kind is ModelKind.embeddings:")
    assert not COMPARE.search("        Kind.provider,")


def test_no_kind_branch_outside_resources() -> None:
    branches = kind_branches()
    assert not branches, "move these into the kind's module under resources/:\n" + "\n".join(
        branches
    )
