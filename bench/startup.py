"""Benchmark 4: start-up of `aigw --help` and `aigw validate --env prod`.

Each command runs in a new interpreter (`python -m aigw ...`, this worktree's src first), several
times, interleaved with a bare `python -c pass`; medians are compared. Bytecode comes from the
benchmarks' private cache (warmed first), as after a pip install. `python -X importtime -m aigw
--help` lists what --help imports: no `azure` module may be among them.

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

HELP_BUDGET_S = 0.25

COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "aigw --help": ["-m", "aigw", "--help"],
    "aigw validate --env prod": ["-m", "aigw", "validate", "--env", "prod"],
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(common.SRC)
    env["PYTHONPYCACHEPREFIX"] = str(common.PYCACHE)
    env["AIGW_ENV_DIR"] = str(common.ENV_DIR)
    env.pop("AIGW_GATEWAY_KEY", None)
    return env


def _run(args: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=common.REPO,
        env=_env(),
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


def azure_modules(imports: list[tuple[str, int]]) -> list[str]:
    return [m for m, _ in imports if m == "azure" or m.startswith("azure.")]


def run(reps: int = 9, write_doc: bool = True) -> dict[str, Any]:
    for args in COMMANDS.values():  # warm the bytecode cache and the page cache
        _run(args)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(reps):
        for name, args in COMMANDS.items():
            samples[name].append(_run(args))
    medians = {name: common.median(v) for name, v in samples.items()}
    base = medians["python -c pass"]
    imports = help_imports()
    azure = azure_modules(imports)
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
            target = f"<= {HELP_BUDGET_S} s, no azure import"
            met = med <= HELP_BUDGET_S and not azure
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
    print(f"azure modules imported by --help: {azure or 'none'}")
    print(imports_text)
    result = {"medians": medians, "azure": azure, "top": top, "samples": samples}
    if write_doc:
        body = f"""Command: `python bench/startup.py` ({reps} interleaved runs each, median).
Machine: {common.machine()}.

Each command is a new interpreter (`python -m aigw ...`). This machine sets
`PYTHONDONTWRITEBYTECODE=1` and its venv has no `.pyc` files, which would make every run
compile its imports from source; the benchmark uses a private bytecode cache
(`PYTHONPYCACHEPREFIX`), warmed first, as a pip-installed aigw would have. Azure modules
imported by `--help` (from `python -X importtime -m aigw --help`): {", ".join(azure) or "none"}.

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
    return 0 if r["medians"]["aigw --help"] <= HELP_BUDGET_S and not r["azure"] else 1


if __name__ == "__main__":
    sys.exit(main())
