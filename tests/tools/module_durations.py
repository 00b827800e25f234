"""Write tests/module_durations.json from a JUnit XML report: seconds per test module, which
tests/conftest.py uses to hand the slowest modules to pytest-xdist's workers first (longest
first keeps one big module from starting last and running alone).

    .venv/bin/python -m pytest -q --junitxml=/tmp/junit.xml
    .venv/bin/python tests/tools/module_durations.py /tmp/junit.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "module_durations.json"


def module_of(classname: str) -> str:
    """tests.engine.test_x(.TestClass) -> tests/engine/test_x.py"""
    parts = classname.split(".")
    while parts and not parts[-1].startswith("test_"):
        parts.pop()
    return "/".join(parts) + ".py"


def main(report: str) -> None:
    seconds: Counter[str] = Counter()
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own report
        seconds[module_of(case.get("classname", ""))] += float(case.get("time", 0))
    data = {m: round(s, 1) for m, s in sorted(seconds.items()) if m != ".py"}
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(data)} modules, {sum(data.values()):.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1])
