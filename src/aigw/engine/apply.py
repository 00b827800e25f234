"""Apply: run a plan's changes over the dependency graph, independent branches at once.

Each change starts when everything it depends on is done (for destroy: when everything that
depends on it is gone). A failure skips its dependents and lets unrelated branches finish.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aigw import interrupt
from aigw.azure.context import Ctx
from aigw.azure.errors import translate
from aigw.engine.plan import Action, Change, Plan
from aigw.errors import AigwError, AzureError
from aigw.resources import adapter
from aigw.state import Resource


class StepState(StrEnum):
    waiting = "waiting"
    working = "working"
    done = "done"
    failed = "failed"
    skipped = "skipped"


@dataclass
class Step:
    change: Change
    state: StepState = StepState.waiting
    message: str = ""
    started: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        if not self.started:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


@dataclass
class ApplyResult:
    steps: dict[str, Step]
    errors: list[AigwError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


Listener = Callable[[Step], None]


def _run_once(ctx: Ctx, res: Resource, change: Change) -> dict[str, Any]:
    ops = adapter(res.kind)
    action = change.action
    if action is Action.register:
        return dict(ops.register(ctx, res))
    if action in (Action.create, Action.update, Action.repair):
        return dict(ops.ensure(ctx, res))
    if action is Action.recover:
        return dict(ops.ensure(ctx, res, recover=True))
    if action is Action.restart:
        return dict(ops.restart(ctx, res))
    if action is Action.delete:
        from azure.core.exceptions import ResourceNotFoundError

        # Gone already (an earlier attempt whose answer was lost): what we wanted.
        with contextlib.suppress(ResourceNotFoundError):
            return dict(ops.delete(ctx, res) or {})  # a kept group says why
        return {}
    if action is Action.purge:
        ops.purge(ctx, res)
        return {}
    return {}


def _run_change(ctx: Ctx, res: Resource, change: Change) -> dict[str, Any]:
    """One change, retried while it fails with a transient error (azure.errors.RETRYABLE,
    throttling, dropped connections): the one place aigw retries on top of azure-core.
    Every adapter call is a reconcile (PUT the desired state, read before write), so running
    it again after an attempt whose answer was lost is safe."""
    timeout = ctx.retry_timeout
    if adapter(res.kind).needs_role_wait:  # Entra ID / RBAC propagation
        timeout = max(timeout, ctx.role_wait_timeout)
    return ctx.retry(
        lambda: _run_once(ctx, res, change),
        key=res.key,
        what=f"{change.action.value} {res.kind.value} {res.name}",
        timeout=timeout,
    )


def apply_plan(
    ctx: Ctx, plan: Plan, *, workers: int = 6, listener: Listener | None = None
) -> ApplyResult:
    """Execute `plan`. Never raises for Azure errors: they are collected in the result."""
    resources = ctx.desired.by_key()
    # Several changes can share a key (destroy: delete then purge the vault); chain them.
    deps: dict[int, set[int]] = {i: set() for i in range(len(plan.changes))}
    index_of: dict[str, list[int]] = {}
    for i, c in enumerate(plan.changes):
        index_of.setdefault(c.key, []).append(i)
    for i, c in enumerate(plan.changes):
        res = resources[c.key]
        if plan.destroy:
            related = [r.key for r in resources.values() if c.key in r.depends_on]
        else:
            related = list(res.depends_on)
        for key in related:
            deps[i].update(j for j in index_of.get(key, []) if j != i)
        deps[i].update(j for j in index_of[c.key] if j < i)
    steps_by_index = [Step(c) for c in plan.changes]
    steps: dict[str, Step] = {}
    for step in steps_by_index:
        key = step.change.key
        steps[key if key not in steps else f"{key}#{step.change.action.value}"] = step

    def notify(step: Step) -> None:
        if listener:
            listener(step)

    ctx_report = ctx.report

    def report(key: str, message: str) -> None:
        for s in steps_by_index:
            if s.change.key == key and s.state is StepState.working:
                s.message = message
                notify(s)
        ctx_report(key, message)

    ctx.report = report
    result = ApplyResult(steps=steps)
    done: set[int] = set()
    failed: set[int] = set()
    running: dict[Future[dict[str, Any]], int] = {}

    def run(i: int) -> dict[str, Any]:
        change = plan.changes[i]
        return _run_change(ctx, resources[change.key], change)

    # Not `with`: on Ctrl-C the pool must not be joined (a worker may sit in an SDK call).
    pool = ThreadPoolExecutor(max_workers=workers)
    interrupted = False
    try:
        while len(done) + len(failed) < len(plan.changes):
            for i, step in enumerate(steps_by_index):
                if i in done or i in failed or step.state is StepState.working:
                    continue
                if deps[i] & failed:
                    step.state = StepState.skipped
                    step.message = "skipped: a dependency failed"
                    failed.add(i)
                    notify(step)
                    continue
                if not deps[i] <= done:
                    continue
                if not step.change.is_write:
                    step.state = StepState.done
                    done.add(i)
                    notify(step)
                    continue
                step.state = StepState.working
                step.started = time.monotonic()
                notify(step)
                running[pool.submit(run, i)] = i
            if not running:
                continue
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                i = running.pop(fut)
                step = steps_by_index[i]
                step.finished = time.monotonic()
                try:
                    outputs = fut.result()
                except AigwError as err:
                    result.errors.append(err)
                    step.state, step.message = StepState.failed, err.one_line()
                    failed.add(i)
                except Exception as err:
                    res = resources[step.change.key]
                    translated = translate(err, kind=res.kind.value, name=res.name)
                    result.errors.append(translated)
                    step.state, step.message = StepState.failed, translated.one_line()
                    failed.add(i)
                else:
                    if outputs:
                        ctx.set_outputs(step.change.key, outputs)
                    step.state, step.message = StepState.done, ""
                    done.add(i)
                notify(step)
    except KeyboardInterrupt:
        interrupted = True
        interrupt.CANCELLED.set()  # workers stop at their next wait
        raise _interrupted(steps_by_index) from None
    finally:
        ctx.report = ctx_report
        pool.shutdown(wait=not interrupted, cancel_futures=interrupted)
    return result


def _interrupted(steps: list[Step]) -> interrupt.Interrupted:
    in_flight = [
        f"{s.change.action.value} {s.change.kind.value} {s.change.name}"
        for s in steps
        if s.state is StepState.working
    ]
    done = sum(1 for s in steps if s.state is StepState.done and s.change.is_write)
    what = "; ".join(in_flight) if in_flight else "nothing"
    return interrupt.Interrupted(
        f"interrupted: in flight: {what} ({done} change(s) done before)",
        hint="rerun the same command to resume: it reads what is there and does the rest",
    )


def raise_on_failure(result: ApplyResult) -> None:
    if result.errors:
        first = result.errors[0]
        more = len(result.errors) - 1
        if more:
            raise AzureError(f"{first.one_line()} (and {more} more failure{'s' * (more > 1)})")
        raise first


__all__ = ["ApplyResult", "Step", "StepState", "apply_plan", "raise_on_failure"]
