"""Benchmark 1: a full deploy of prod from nothing against its critical path.

The local cloud runs in its own process with `latency="realistic"` scaled down. The lower
bound is the critical path: the longest chain of dependent operations, each taking the local
cloud's own duration for its type (lro.REALISTIC_SECONDS x scale). The deploy goes through
aigw's workflow (open_session, make_plan, apply) as the CLI and the engine tests do. Notice
latency per long-running operation is `observed - completed` from the cloud's records.

    python bench/deploy_critical_path.py [--scales 0.1 0.02] [--no-doc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

RATIO_TARGET = 1.10
NOTICE_TARGET_S = 1.0

# The local cloud's operation type for creating each kind of resource (None: no wait).
CREATE_KIND = {
    "provider": None,  # registered already in a fresh local cloud
    "resource_group": "resourcegroup.create",
    "log_analytics": "workspace.create",
    "identity": "identity.create",
    "key_vault": "vault.create",
    "role_assignment": "roleassignment.create",
    "secret": None,  # data plane: answers at once
    "container_env": "environment.create",
    "container_app": "containerapp.create",
}


def critical_path(desired: Any, scale: float) -> tuple[float, list[str], dict[str, float]]:
    """(seconds, chain of resource keys, duration per key) of the longest dependent chain."""
    from aigw_localcloud.core.lro import REALISTIC_SECONDS

    durations: dict[str, float] = {}
    for res in desired.resources:
        kind = CREATE_KIND[res.kind.value]
        durations[res.key] = REALISTIC_SECONDS[kind] * scale if kind else 0.0
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for res in desired.resources:  # already in dependency order
        before = max(res.depends_on, key=lambda k: finish[k], default=None)
        finish[res.key] = (finish[before] if before else 0.0) + durations[res.key]
        via[res.key] = before
    end: str | None = max(finish, key=lambda k: finish[k])
    chain: list[str] = []
    while end is not None:
        chain.append(end)
        end = via[end]
    return max(finish.values()), chain[::-1], durations


def deploy_once(scale: float) -> dict[str, Any]:
    from aigw.engine import workflow

    with (
        tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp,
        common.local_stack(Path(tmp), latency="realistic", scale=scale) as stack,
    ):
        t0 = time.time()
        session = stack.session()
        t_session = time.time()
        plan = workflow.make_plan(session)
        t_plan = time.time()
        result = workflow.apply(session, plan)
        t_end = time.time()
        session.close()
        if not result.ok:
            raise RuntimeError([e.one_line() for e in result.errors])
        ops = [op for op in stack.cloud.operations() if op["completed"]]
        entries = stack.entries()
        crit, chain, durations = critical_path(session.desired, scale)
    notice = {
        op["kind"]: (op["observed"] - op["completed"]) if op["observed"] else float("nan")
        for op in ops
    }
    steps = {
        key: (step.started - time.monotonic() + time.time() - t0, step.seconds)
        for key, step in result.steps.items()
        if step.started
    }
    wall = t_end - t0
    return {
        "scale": scale,
        "wall": wall,
        "session": t_session - t0,
        "plan": t_plan - t_session,
        "apply": t_end - t_plan,
        "critical": crit,
        "chain": chain,
        "durations": durations,
        "ratio": wall / crit,
        "notice": notice,
        "ops": ops,
        "steps": steps,
        "requests": len(entries),
        "writes": sum(1 for e in entries if e.is_write),
    }


def run(scales: tuple[float, ...] = (0.1, 0.02), write_doc: bool = True) -> list[dict[str, Any]]:
    from noop_deploy import warm_imports

    imports = warm_imports()
    results = [deploy_once(s) for s in scales]
    heads = ["fresh deploy of prod", *[f"scale {r['scale']}" for r in results], "target"]

    def row(label: str, get: Any, target: str = "") -> list[Any]:
        return [label, *[get(r) for r in results], target]

    kinds = sorted({k for r in results for k in r["notice"]})
    rows = [
        row("critical path (s)", lambda r: r["critical"]),
        row("deploy wall: session + plan + apply (s)", lambda r: r["wall"]),
        row("  of which make_plan (s)", lambda r: r["plan"]),
        row("  of which apply (s)", lambda r: r["apply"]),
        row("wall / critical path", lambda r: r["ratio"], f"<= {RATIO_TARGET}"),
        *[
            row(
                f"notice latency {k} (s)",
                lambda r, k=k: r["notice"].get(k, float("nan")),
                f"<= {NOTICE_TARGET_S}",
            )
            for k in kinds
        ],
        row("requests (writes)", lambda r: f"{r['requests']} ({r['writes']})"),
        row(
            "met",
            lambda r: (
                r["ratio"] <= RATIO_TARGET
                and all(v <= NOTICE_TARGET_S for v in r["notice"].values())
            ),
        ),
    ]
    text = common.table(heads, rows)
    first = results[0]
    chain = " -> ".join(f"{k} ({first['durations'][k]:.2f} s)" for k in first["chain"])
    steps_text = common.table(
        ["step (scale " + str(first["scale"]) + ")", "started at (s)", "took (s)"],
        [[k, v[0], v[1]] for k, v in sorted(first["steps"].items(), key=lambda kv: kv[1][0])],
    )
    print(text)
    print("critical path:", chain)
    print(steps_text)
    print(f"SDK + adapter imports (once per process, not in the walls): {imports:.3f} s")
    if write_doc:
        body = f"""Command: `python bench/deploy_critical_path.py` (one deploy per scale).
Machine: {common.machine()}.

Prod is deployed from nothing through aigw's workflow (`open_session`, `make_plan`, `apply`)
on the local cloud in its own process, `latency="realistic"` scaled down. The critical path is
computed from the local cloud's own durations (`lro.REALISTIC_SECONDS` x scale) over the
desired resources' dependencies; at scale {first["scale"]}: {chain}.
The identity / vault / roles / secrets chain runs beside it and is much shorter.
Notice latency is `observed - completed` of each long-running operation as the cloud recorded it
(when the server finished vs when a poll first told aigw). SDK imports ({imports:.2f} s, once
per process) are not in the walls; see start-up.

{text}

Steps at scale {first["scale"]} (seconds from the start of the deploy):

{steps_text}

Polling. azure-core's LRO pollers sleep for the server's `Retry-After` (the local cloud sends
`Retry-After: 1`, as Azure sends its own), so each operation on the critical path is noticed up
to one interval late: the waste is at most ~1 s per operation (three operations on the path:
workspace, environment, app) however long they take. At scale 0.1 (environment 24 s) that is a
few percent; at 0.02 (environment 4.8 s, workspace 0.2 s) it is a large share of a 6 s path,
which is why the target is judged at the larger scale. Polling faster than the server's
Retry-After would only shave that last second and goes against what Azure asks; at real
durations (environment ~4 min, app ~45 s) it is below 1 % of a deploy.
"""
        common.write_section("deploy", "1. Full deploy vs the critical path", body)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.02])
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    results = run(tuple(args.scales), write_doc=not args.no_doc)
    r = results[0]
    met = r["ratio"] <= RATIO_TARGET and all(v <= NOTICE_TARGET_S for v in r["notice"].values())
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
