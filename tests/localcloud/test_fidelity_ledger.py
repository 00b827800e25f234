"""The fidelity ledger (docs/fidelity.md) stays whole and true: every module of the local cloud
is named in it, every table row has its four cells, and every `file::test` it names is a real
test function. Pure: reads files only (no network, no cloud)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "docs" / "fidelity.md"
PACKAGE = ROOT / "src" / "aigw_localcloud"
AREAS = ("arm", "apps", "cache", "core", "openai", "vault")
COLUMNS = 4  # behaviour | Microsoft source | test that pins it | not emulated
# `tests/localcloud/test_x.py::test_y`, `...::TestClass::test_y`, `...::test_y[param-id]`
TEST_REF = re.compile(
    r"(?P<file>[A-Za-z0-9_./-]+\.py)(?P<names>(?:::[A-Za-z_][A-Za-z0-9_]*)+)(?:\[[^\]]*\])?"
)


def _modules() -> list[str]:
    """`arm/key_vault.py`, ...: every module of the local cloud's layers but `__init__.py`."""
    return sorted(
        p.relative_to(PACKAGE).as_posix()
        for area in AREAS
        for p in (PACKAGE / area).rglob("*.py")
        if p.name != "__init__.py"
    )


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (`\\|` inside a cell is not a separator)."""
    inner = line.strip()[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every table row that is not a header or separator."""
    rows: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
            continue  # the separator under a header
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if nxt.startswith("|") and all(re.fullmatch(r":?-{3,}:?", c) for c in _cells(nxt)):
            continue  # a header (the separator follows it)
        rows.append((i + 1, cells))
    return rows


def _resolve(file: str) -> Path | None:
    for base in (ROOT, ROOT / "tests"):
        p = base / file
        if p.is_file():
            return p
    return None


def _missing_test(file: str, names: list[str]) -> str | None:
    """Why `file::names` is not a test function, or None if it is."""
    path = _resolve(file)
    if path is None:
        return f"{file}: no such file"
    source = path.read_text(encoding="utf-8")
    *classes, func = names
    for cls in classes:
        if not re.search(rf"^\s*class {re.escape(cls)}\b", source, re.M):
            return f"{file}: no class {cls}"
    if not re.search(rf"^\s*(?:async\s+)?def {re.escape(func)}\(", source, re.M):
        return f"{file}: no def {func}"
    return None


def test_the_ledger_exists_and_has_rows() -> None:
    assert LEDGER.is_file(), f"{LEDGER.relative_to(ROOT)} is missing"
    assert len(_rows(LEDGER.read_text(encoding="utf-8"))) >= 50


def test_every_module_of_the_local_cloud_is_named_in_the_ledger() -> None:
    text = LEDGER.read_text(encoding="utf-8") if LEDGER.is_file() else ""
    modules = _modules()
    assert len(modules) > 40  # the walk found the package
    unnamed = [m for m in modules if m not in text]
    assert not unnamed, f"docs/fidelity.md names no row or note for: {', '.join(unnamed)}"


def test_every_row_has_four_filled_cells() -> None:
    text = LEDGER.read_text(encoding="utf-8") if LEDGER.is_file() else ""
    bad = [
        f"line {n}: {len(cells)} cells" if len(cells) != COLUMNS else f"line {n}: an empty cell"
        for n, cells in _rows(text)
        if len(cells) != COLUMNS or not all(cells)
    ]
    assert not bad, "rows must be `| behaviour | source | test | not emulated |`: " + "; ".join(bad)


def test_every_test_the_ledger_names_exists() -> None:
    text = LEDGER.read_text(encoding="utf-8") if LEDGER.is_file() else ""
    refs = [
        (n, m.group("file"), m.group("names").split("::")[1:])
        for n, cells in _rows(text)
        for cell in cells
        for m in TEST_REF.finditer(cell)
    ]
    assert refs, "the ledger names no test (`tests/<dir>/<file>.py::<test>`)"
    wrong = [f"line {n}: {why}" for n, f, names in refs if (why := _missing_test(f, names))]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("row", "cells"),
    [
        ("| a | b | c | d |", ["a", "b", "c", "d"]),
        ("| a `x \\| y` | b | c | d |", ["a `x \\| y`", "b", "c", "d"]),
    ],
)
def test_cells_split_on_unescaped_bars_only(row: str, cells: list[str]) -> None:
    assert _cells(row) == cells


def test_a_wrong_reference_is_caught(tmp_path: Path) -> None:
    """Negative control: a file that does not exist, a function that does not."""
    assert _missing_test("tests/localcloud/no_such_file.py", ["test_x"]) is not None
    assert _missing_test("tests/localcloud/test_behaviours.py", ["test_no_such_test"]) is not None
    assert _missing_test("tests/localcloud/test_behaviours.py", ["test_purge_protection"]) is None
    m = TEST_REF.search("`tests/localcloud/test_revision_suffix.py::test_x[a--b]`")
    assert m is not None and m.group("names") == "::test_x"
