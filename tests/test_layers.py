"""Issue 13: no branch on a resource Kind outside aigw/resources/ (state.py defines Kind).

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
        if rel.startswith("resources/") or rel == "state.py":
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


# ---------------------------------------------------------------- kinds named outside resources/
# The engine, the CLI and the SDK plumbing reach a kind through the registry only: no string
# equal to a registered kind's key or resource type (`if row["kind"] == "container_app"`,
# `by_key()["key_vault"]`) and no import of a kind's own module. Output field names (the keys of
# a dict literal, e.g. "key_vault" in a JSON report) are data, not branches.
SCANNED = ("engine", "cli", "azure")
# The same words meaning something else (file, word): each says what it is instead.
NOT_A_KIND = {
    ("engine/upstream_preflight.py", "identity"),  # azure_openai.auth: identity (a mode)
    ("cli/gateway.py", "identity"),  # azure_openai.auth: identity (a mode)
    ("engine/doctor.py", "provider"),  # the doctor's check label "provider"
    ("cli/localcloud.py", "resource_group"),  # a world-file account's field
}


def _kind_words() -> set[str]:
    from aigw.resources import adapters

    words: set[str] = set()
    for a in adapters():
        words.add(a.kind.value)
        if a.arm_type:
            words |= {a.arm_type, f"{a.namespace}/{a.arm_type}"}
    return words


def _kind_modules() -> set[str]:
    from aigw.resources import adapters

    return {type(a).__module__ for a in adapters()}


def kind_mentions(root: Path = SRC) -> list[str]:
    import ast

    words, modules = _kind_words(), _kind_modules()
    found = []
    for sub in SCANNED:
        for path in sorted((root / sub).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text())
            dict_keys = {
                id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys
            }
            for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    word = node.value
                    if (
                        word in words
                        and id(node) not in dict_keys
                        and (rel, word) not in NOT_A_KIND
                    ):
                        found.append(f"{rel}:{node.lineno}: the kind {word!r} by name")
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
                    for name in names:
                        if name in modules:
                            found.append(f"{rel}:{node.lineno}: imports {name}")
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name in modules:
                            found.append(f"{rel}:{node.lineno}: imports {alias.name}")
    return found


def test_the_scan_finds_kinds_by_name(tmp_path: Path) -> None:
    engine = tmp_path / "engine"
    engine.mkdir()
    (tmp_path / "cli").mkdir()
    (tmp_path / "azure").mkdir()
    (engine / "x.py").write_text(
        'if row["kind"] == "container_app":\n    pass\n'
        "from aigw.resources import key_vault\n"
        "import aigw.resources.secrets\n"
        'out = {"key_vault": 1, "vaults_seen": 2}\n'
        't = "Microsoft.KeyVault/vaults"\n'
    )
    found = kind_mentions(tmp_path)
    assert [f.split(": ", 1)[1] for f in found] == [
        "the kind 'container_app' by name",
        "imports aigw.resources.key_vault",
        "imports aigw.resources.secrets",
        "the kind 'Microsoft.KeyVault/vaults' by name",
    ], found


def test_no_kind_named_outside_resources() -> None:
    found = kind_mentions()
    assert not found, "ask the registry (aigw.resources.adapter, its traits and hooks):\n" + (
        "\n".join(found)
    )
