"""Benchmark 4: start-up of `aigw --help`, `aigw deploy --help` and `aigw validate --env prod`.

Each command runs in a new interpreter (`python -m aigw ...`, this worktree's src first), several
times, interleaved with a bare `python -c pass`; medians are compared. Bytecode comes from the
benchmarks' private cache (warmed first), as after a pip install; the "no bytecode" row compiles
every module from source each time (an empty cache, nothing written), as in a venv made with
PYTHONDONTWRITEBYTECODE=1. `python -X importtime -m aigw --help` lists what --help imports: no
`azure` or `pydantic` module may be among them (tests/cli/test_import_graph.py checks every
command's --help and completion).

    python bench/startup.py [--reps 9] [--no-doc]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

import common

HELP_BUDGET_S = 0.10  # with bytecode
HELP_COLD_BUDGET_S = 0.25  # compiling from source
HEAVY = ("azure", "pydantic")
COLD = "aigw --help (no bytecode)"

COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "aigw --help": ["-m", "aigw", "--help"],
    COLD: ["-m", "aigw", "--help"],
    "aigw deploy --help": ["-m", "aigw", "deploy", "--help"],
    "aigw validate --env prod": ["-m", "aigw", "validate", "--env", "prod"],
}


def _env(cold: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(common.SRC)
    env["PYTHONPYCACHEPREFIX"] = str(common.PYCACHE)
    if cold:  # an empty cache that is never written: every import compiles from source
        env["PYTHONPYCACHEPREFIX"] = str(common.PYCACHE) + "-empty"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["AIGW_ENV_DIR"] = str(common.ENV_DIR)
    env.pop("AIGW_GATEWAY_KEY", None)
    return env


def _run(args: list[str], cold: bool = False) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=common.REPO,
        env=_env(cold),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{args} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall


def help_imports() -> list[tuple[str, int]]:
    """(module, cumulative microseconds) of everything `aigw --help` imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aigw", "--help"],
        cwd=common.REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    out: list[tuple[str, int]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line[len("import time:") :].split("|", 2)
        out.append((name.strip(), int(cumulative.strip())))
    return out


def heavy_modules(imports: list[tuple[str, int]]) -> list[str]:
    """The azure and pydantic modules among `imports` (none is allowed for --help)."""
    return [m for m, _ in imports if m.split(".")[0] in HEAVY]


def run(reps: int = 9, write_doc: bool = True) -> dict[str, Any]:
    for args in COMMANDS.values():  # warm the bytecode cache and the page cache
        _run(args)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(reps):
        for name, args in COMMANDS.items():
            samples[name].append(_run(args, cold=name == COLD))
    medians = {name: common.median(v) for name, v in samples.items()}
    base = medians["python -c pass"]
    imports = help_imports()
    heavy = heavy_modules(imports)
    top = [
        (m, us)
        for m, us in sorted(imports, key=lambda x: -x[1])
        if m.count(".") == 0 and not m.startswith("_")
    ][:8]
    rows = []
    for name, med in medians.items():
        target = ""
        met: Any = ""
        if name == "aigw --help":
            target = f"<= {HELP_BUDGET_S} s, no azure or pydantic import"
            met = med <= HELP_BUDGET_S and not heavy
        elif name == COLD:
            target = f"<= {HELP_COLD_BUDGET_S} s"
            met = med <= HELP_COLD_BUDGET_S
        rows.append(
            [
                name,
                med,
                f"{min(samples[name]):.3f}-{max(samples[name]):.3f}",
                med / base,
                target,
                met,
            ]
        )
    text = common.table(
        ["command", "median (s)", "min-max (s)", "x python -c pass", "target", "met"], rows
    )
    imports_text = common.table(
        ["top-level package imported by --help", "cumulative import (ms)"],
        [[m, us / 1000] for m, us in top],
    )
    print(text)
    print(f"azure or pydantic modules imported by --help: {heavy or 'none'}")
    print(imports_text)
    result = {"medians": medians, "heavy": heavy, "top": top, "samples": samples}
    if write_doc:
        body = f"""Command: `python bench/startup.py` ({reps} interleaved runs each, median).
Machine: {common.machine()}.

Each command is a new interpreter (`python -m aigw ...`). This machine sets
`PYTHONDONTWRITEBYTECODE=1` and its venv has no `.pyc` files, which would make every run
compile its imports from source; the benchmark uses a private bytecode cache
(`PYTHONPYCACHEPREFIX`), warmed first, as a pip-installed aigw would have; the "no bytecode"
row compiles from source every time. Azure or pydantic modules imported by `--help` (from
`python -X importtime -m aigw --help`): {", ".join(heavy) or "none"}. typer is held below 0.29,
which coerces every option through a pydantic TypeAdapter (each subcommand's `--help` and each
completion Tab would import pydantic).

{text}

{imports_text}
"""
        common.write_section("startup", "4. Start-up", body)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    r = run(args.reps, write_doc=not args.no_doc)
    m = r["medians"]
    ok = m["aigw --help"] <= HELP_BUDGET_S and m[COLD] <= HELP_COLD_BUDGET_S and not r["heavy"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
