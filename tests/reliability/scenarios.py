"""Reliability scenarios shared by the pytest suite and bench/reliability.py.

Each scenario runs aigw's own workflow (the real SDK clients over HTTPS) against a fresh
local cloud, then compares a normalised snapshot of the cloud's state with the snapshot of a
clean deploy: nothing lost, nothing duplicated, and a plan afterwards is empty.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigw.azure.session import Target
from aigw.engine import workflow
from aigw.engine.plan import Plan
from aigw.errors import AigwError
from aigw.resources import names_of
from aigw_localcloud.cloud import LocalCloud
from engine.harness import Stack, close_stack, make_stack

ENV = "prod"
FAULT_KINDS = ("429", "500", "503", "drop", "lost")
# Fast but real: the SDKs' retry policy with short backoffs, aigw's own retries likewise, and
# a Retry-After of 0.1 s on injected 429/503 (azure-core honours it). The bench can use 1 s.
FAST_RETRIES = {"retry_backoff_factor": 0.02, "retry_backoff_max": 1}


def seeds_from_env(default: int) -> int:
    return int(os.environ.get("AIGW_RELIABILITY_SEEDS", default))


@dataclass
class FastStack(Stack):
    retry_after: float = 0.1

    def target(self, principal: str | None = None) -> Target:
        t = super().target(principal)
        t.retry_options = dict(FAST_RETRIES)
        return t

    def session(self, env: str = ENV, **kw: Any) -> workflow.Session:  # type: ignore[override]
        s = super().session(env, **kw)
        s.ctx.retry_base, s.ctx.retry_cap, s.ctx.retry_timeout = 0.05, 0.5, 30.0
        s.ctx.poll_interval = 0.05
        return s

    def deploy(self, env: str = ENV, **kw: Any) -> tuple[Plan, Any]:  # type: ignore[override]
        return super().deploy(env, **kw)


@contextmanager
def fresh_stack(root: Path | None = None) -> Iterator[FastStack]:
    tmp = Path(tempfile.mkdtemp(prefix="aigw-rel-")) if root is None else root
    base = make_stack(tmp, with_gateway=False, retry_after=None)
    stack = FastStack(root=base.root, cloud=base.cloud, aoai=base.aoai, runner=None)
    try:
        yield stack
    finally:
        close_stack(stack)
        if root is None:
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- snapshots
def raw_state(cloud: LocalCloud) -> dict[str, Any]:
    with cloud.engine.store.read() as st:
        return json.loads(json.dumps(st))


def snapshot(cloud: LocalCloud) -> dict[str, Any]:
    """The cloud's state with everything run-specific (ids, GUIDs, times) normalised away."""
    st = raw_state(cloud)
    sub = st["subscription_id"].lower()
    labels = {st["deployer_principal_id"].lower(): "deployer"}
    for r in st["resources"].values():
        pid = (r.get("properties") or {}).get("principalId")
        if pid:
            labels[pid.lower()] = f"identity:{r['name']}"

    def norm(s: str) -> str:
        return s.lower().replace(sub, "SUB")

    resources = {
        f"{r['type'].lower()}/{r['name'].lower()}": {
            "tags": r.get("tags") or {},
            "location": r.get("location"),
        }
        for r in st["resources"].values()
    }
    # Assignment names are uuid5 of scope, principal and role: they differ between clouds.
    roles = sorted(
        (
            ra["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
            norm(ra["properties"]["scope"]),
            labels.get(ra["properties"]["principalId"].lower(), "unknown"),
        )
        for ra in st["role_assignments"].values()
    )
    secrets = {
        vault: {
            name: {"versions": len(s["versions"]), "deleted": bool(s.get("deleted"))}
            for name, s in sorted(per_vault.items())
        }
        for vault, per_vault in sorted(st["secrets"].items())
    }
    return {
        "resource_groups": {n: g.get("tags") or {} for n, g in st["resource_groups"].items()},
        "resources": dict(sorted(resources.items())),
        "role_assignments": roles,
        "secrets": secrets,
        "deleted_vaults": sorted(st["deleted_vaults"]),
    }


def compare(clean: dict[str, Any], got: dict[str, Any]) -> tuple[int, int, list[str]]:
    """(lost, duplicated, differences) of `got` against the clean snapshot."""
    lost = dup = 0
    diffs: list[str] = []
    for section in ("resource_groups", "resources"):
        for k in clean[section].keys() - got[section].keys():
            lost += 1
            diffs.append(f"lost {section} {k}")
        for k in got[section].keys() - clean[section].keys():
            dup += 1
            diffs.append(f"extra {section} {k}")
        for k in clean[section].keys() & got[section].keys():
            if clean[section][k] != got[section][k]:
                diffs.append(f"differs {section} {k}")
    grants = Counter(tuple(r) for r in got["role_assignments"])
    for g, n in grants.items():
        if n > 1:
            dup += n - 1
            diffs.append(f"duplicate role assignment {g}")
    want_roles = {tuple(r) for r in clean["role_assignments"]}
    have_roles = {tuple(r) for r in got["role_assignments"]}
    for r in want_roles - have_roles:
        lost += 1
        diffs.append(f"lost role assignment {r}")
    for vault, names in clean["secrets"].items():
        for name, info in names.items():
            have = got["secrets"].get(vault, {}).get(name)
            if have is None or have["deleted"]:
                lost += 1
                diffs.append(f"lost secret {vault}/{name}")
            elif have["versions"] > info["versions"]:
                dup += have["versions"] - info["versions"]
                diffs.append(f"{have['versions']} versions of secret {vault}/{name}")
    if got != clean and not diffs:
        diffs.append("snapshots differ")
    return lost, dup, diffs


def role_duplicates(cloud: LocalCloud) -> int:
    st = raw_state(cloud)
    grants = Counter(
        (
            ra["properties"]["principalId"].lower(),
            ra["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
            ra["properties"]["scope"].lower(),
        )
        for ra in st["role_assignments"].values()
    )
    return sum(n - 1 for n in grants.values() if n > 1)


def secret_versions_agree(cloud: LocalCloud) -> bool:
    """Every version of every secret holds the same value (extra versions are harmless)."""
    st = raw_state(cloud)
    return all(
        len({v["value"] for v in s["versions"]}) <= 1
        for per_vault in st["secrets"].values()
        for s in per_vault.values()
    )


# ----------------------------------------------------------------------------- faults
@dataclass
class RunResult:
    name: str
    seed: int
    attempts: int = 0  # deploys until one succeeded
    converged: bool = False
    lost: int = 0
    duplicated: int = 0
    plan_empty_after: bool = False
    settled: bool = False  # one more deploy leaves an empty plan (concurrent runs)
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.converged and not self.lost and not self.duplicated and self.plan_empty_after


def install_faults(cloud: LocalCloud, seed: int, rate: float, retry_after: float) -> None:
    """Faults on every route: `rate` is the share of requests that fail (split evenly over
    429, 500, 503, dropped and lost answers), plus 10% slow answers."""
    cloud.faults.clear()
    cloud.faults.seed(seed)
    cloud.faults.add("* *", "latency", 0.1, latency=0.05)
    per_kind = rate / len(FAULT_KINDS)
    for i, kind in enumerate(FAULT_KINDS):
        # Rules are tried in turn: scale each so that every kind gets `per_kind` overall.
        remaining = 1 - per_kind * i
        cloud.faults.add("* *", kind, per_kind / remaining, retry_after=retry_after)  # type: ignore[arg-type]


def clean_snapshot() -> dict[str, Any]:
    with fresh_stack() as stack:
        _, result = stack.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        return snapshot(stack.cloud)


def deploy_until_ok(stack: FastStack, run: RunResult, max_attempts: int) -> None:
    while run.attempts < max_attempts:
        run.attempts += 1
        try:
            _, result = stack.deploy()
        except AigwError as e:
            run.errors.append(f"attempt {run.attempts}: {e.one_line()}")
            continue
        if result.ok:
            run.converged = True
            return
        run.errors.extend(f"attempt {run.attempts}: {e.one_line()}" for e in result.errors)


def check_after(stack: FastStack, run: RunResult, clean: dict[str, Any]) -> None:
    stack.cloud.faults.clear()
    if not run.converged:  # the next deploy, without faults, must converge
        deploy_until_ok(stack, run, run.attempts + 1)
    plan = workflow.make_plan(stack.session())
    run.plan_empty_after = not plan.has_changes
    if plan.has_changes:
        run.diffs.append(f"plan after: {[(c.key, c.action.value) for c in plan.writes]}")
    run.lost, run.duplicated, diffs = compare(clean, snapshot(stack.cloud))
    run.diffs.extend(diffs)


def fault_run(
    seed: int, clean: dict[str, Any], *, rate: float = 0.2, retry_after: float = 0.1
) -> RunResult:
    run = RunResult("faults", seed)
    started = time.monotonic()
    with fresh_stack() as stack:
        install_faults(stack.cloud, seed, rate, retry_after)
        deploy_until_ok(stack, run, 1)
        run.faults = Counter(k for k, _, _ in stack.cloud.faults.injected if k != "latency")
        run.faults["latency"] = sum(1 for k, _, _ in stack.cloud.faults.injected if k == "latency")
        run.requests = len(stack.cloud.journal.entries())
        check_after(stack, run, clean)
    run.seconds = time.monotonic() - started
    return run


def pick_rate(seed: int, top: float = 0.2) -> float:
    """Rates from 5% to `top`, spread over the seeds."""
    return random.Random(seed).choice([0.05, 0.1, 0.15, top])


# ----------------------------------------------------------------------------- crashes
CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[2]


def run_child(stack: FastStack, mode: str, kill_after: int) -> tuple[int, str]:
    """(return code, output) of crash_child.py against this stack's cloud."""
    import subprocess
    import sys

    # the emulator (an account of the cloud: plan's preflight reads it) has prod's deployments
    stack.config("prod")

    from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO / "tests")])
    env["AIGW_GATEWAY_KEY"] = GATEWAY_KEY_CANARY
    env["AIGW_AZURE_OPENAI_API_KEY"] = AOAI_KEY_CANARY
    proc = subprocess.run(
        [
            sys.executable,
            str(CHILD),
            str(stack.cloud.state_dir),
            str(stack.env_dir),
            stack.aoai.url,
            mode,
            str(kill_after),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def writes_of_clean(mode: str) -> int:
    """How many write requests a clean deploy (or destroy after a deploy) sends."""
    with fresh_stack() as stack:
        if mode == "destroy":
            _, result = stack.deploy()
            assert result.ok
        code, out = run_child(stack, mode, 0)
        assert code == 0, out
        return int(out.strip().splitlines()[-1])


def destroyed_snapshot(cloud: LocalCloud) -> dict[str, Any]:
    snap = snapshot(cloud)
    return {k: snap[k] for k in ("resource_groups", "resources", "role_assignments")} | {
        "deleted_vaults": snap["deleted_vaults"]
    }


def crash_run(mode: str, kill_after: int, clean: dict[str, Any]) -> RunResult:
    """Crash a deploy (or a destroy) after write k, then run it again in-process."""
    run = RunResult(f"crash-{mode}", kill_after)
    started = time.monotonic()
    with fresh_stack() as stack:
        if mode == "destroy":
            _, result = stack.deploy()
            assert result.ok, [e.one_line() for e in result.errors]
        code, out = run_child(stack, mode, kill_after)
        run.faults["crash"] = int(code == -9)
        if code not in (0, -9):
            run.errors.append(f"child exited {code}: {out.strip().splitlines()[-1:]}")
        if mode == "deploy":
            deploy_until_ok(stack, run, 1)
            check_after(stack, run, clean)
        else:
            session = stack.session()
            run.attempts = 1
            try:
                result = workflow.apply(session, workflow.make_plan(session, destroy=True))
                run.converged = result.ok
                run.errors.extend(e.one_line() for e in result.errors)
            except AigwError as e:
                run.errors.append(e.one_line())
            after = workflow.make_plan(stack.session(), destroy=True)
            run.plan_empty_after = not after.has_changes
            got = destroyed_snapshot(stack.cloud)
            want = {"resource_groups": {}, "resources": {}, "role_assignments": []}
            for k, v in want.items():
                if got[k] != v:
                    run.lost += 0
                    run.duplicated += len(got[k])
                    run.diffs.append(f"left after destroy: {k} {got[k]}")
            if len(got["deleted_vaults"]) != 1:
                run.lost += 1
                run.diffs.append(f"soft-deleted vaults: {got['deleted_vaults']}")
        run.requests = len(stack.cloud.journal.entries())
    run.seconds = time.monotonic() - started
    return run


# ----------------------------------------------------------------------------- concurrency
def concurrent_run(
    seed: int, clean: dict[str, Any], *, deploys: int = 2, locked: bool = False
) -> RunResult:
    """`deploys` deploys of one environment at once (threads, separate sessions).

    locked=False: both plans are made on the empty cloud first, then applied together (what
    two machines without a shared lock would do). locked=True: each deploy takes the
    environment lock around plan and apply, as `aigw deploy` does on one machine.
    """
    from concurrent.futures import ThreadPoolExecutor

    from aigw.engine.locks import environment_lock

    run = RunResult("concurrent-locked" if locked else "concurrent", seed)
    started = time.monotonic()
    with fresh_stack() as stack:
        config = stack.config(ENV)
        sessions = [stack.session(ENV, config=config) for _ in range(deploys)]
        plans = [] if locked else [workflow.make_plan(s) for s in sessions]
        scope = f"{stack.cloud.subscription_id}/{names_of(config).resource_group}/{seed}"

        def go(i: int) -> list[str]:
            time.sleep(random.Random(seed * 10 + i).random() * 0.2)
            if locked:
                with environment_lock(scope, what=ENV):
                    result = workflow.apply(sessions[i], workflow.make_plan(sessions[i]))
            else:
                result = workflow.apply(sessions[i], plans[i])
            return [e.one_line() for e in result.errors]

        with ThreadPoolExecutor(deploys) as pool:
            outcomes = list(pool.map(go, range(deploys)))
        run.attempts = 1
        run.errors = [e for errs in outcomes for e in errs]
        run.converged = any(not errs for errs in outcomes)
        run.faults["concurrent deploys"] = deploys
        check_after(stack, run, clean)
        run.duplicated = max(run.duplicated, role_duplicates(stack.cloud))
        if not secret_versions_agree(stack.cloud):
            run.diffs.append("secret versions with different values")
        session = stack.session(ENV, config=config)
        result = workflow.apply(session, workflow.make_plan(session))
        run.settled = result.ok and not workflow.make_plan(stack.session(ENV)).has_changes
        run.requests = len(stack.cloud.journal.entries())
    run.seconds = time.monotonic() - started
    return run
