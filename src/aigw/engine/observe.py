"""Observe: read every resource aigw manages, in parallel (names are known up front)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

from azure.core.exceptions import AzureError as AzureSDKError

from aigw.azure.context import Ctx
from aigw.azure.errors import translate
from aigw.errors import AzureError
from aigw.owned import other_tags
from aigw.resources import adapter
from aigw.state import Key, Observed, Resource


def _observe_once(ctx: Ctx, res: Resource, destroy: bool) -> Observed:
    return adapter(res.kind).observe(ctx, res, destroy=destroy)


def observe_one(ctx: Ctx, res: Resource, destroy: bool = False) -> Observed:
    """Read one resource; transient errors are retried like apply's (azure.errors.RETRYABLE)."""
    try:
        obs = ctx.retry(
            lambda: _observe_once(ctx, res, destroy),
            key=res.key,
            what=f"read {res.kind.value} {res.name}",
        )
    except AzureSDKError as err:
        raise translate(err, kind=res.kind.value, name=res.name) from None
    return obs


# Provisioning states after which nothing more happens by itself (None: the kind has none).
# Anything else (InProgress, Waiting, Updating, Deleting...) is an operation still running,
# e.g. one a crashed deploy started: plan waits for it instead of comparing a moving target.
SETTLED = (None, "Succeeded", "Failed", "Canceled")


def _observe_settled(ctx: Ctx, res: Resource, destroy: bool, wait: bool) -> Observed:
    obs = observe_one(ctx, res, destroy)
    deadline = time.monotonic() + ctx.retry_timeout
    while wait and obs.exists and obs.outputs.get("provisioning_state") not in SETTLED:
        state = obs.outputs.get("provisioning_state")
        if time.monotonic() > deadline:
            raise AzureError(
                f"{res.kind.value} {res.name} is still {state} after {ctx.retry_timeout:.0f} s",
                hint="an earlier operation on it has not finished; run the command again later",
            )
        ctx.report(res.key, f"waiting for {res.kind.value} {res.name} (provisioningState {state})")
        time.sleep(ctx.poll_interval)
        obs = observe_one(ctx, res, destroy)
    return obs


def observe_all(
    ctx: Ctx, *, destroy: bool = False, workers: int = 16, wait: bool = False
) -> dict[str, Observed]:
    """One round of GETs for everything, in parallel. The Key Vault secrets need the vault's
    URI: they are read in the same round at the URI the vault's name predicts, and that answer
    is kept if the vault's GET then reports the same URI; otherwise each is read again as soon
    as the vault's GET answers. Either way a plan costs about one round trip, not two.

    `wait`: a resource still provisioning is read again until its state settles (SETTLED).
    Fills ctx.outputs with what existing resources report (ids, principalId, vaultUri...).
    """
    second = [] if destroy else [r for r in ctx.desired.resources if adapter(r.kind).inside_vault]
    needed = {dep for r in second for dep in r.depends_on}
    # What the secrets wait for is asked first (threads start one by one: the first request
    # leaves a few milliseconds before the twelfth).
    first = sorted(
        (r for r in ctx.desired.resources if not adapter(r.kind).inside_vault),
        key=lambda r: r.key not in needed,
    )
    vault = ctx.desired.by_key().get(Key.key_vault)
    guess = ctx.clients.target.predicted_vault_uri(vault.name) if vault and second else None
    observed: dict[str, Observed] = {}
    # Guesses run apart: a guess nobody needs (the vault is elsewhere) is not waited for.
    guesses = ThreadPoolExecutor(max_workers=max(1, len(second)))
    probes = {r.key: guesses.submit(adapter(r.kind).probe, ctx, r, guess) for r in second if guess}
    guesses.shutdown(wait=False)
    with ThreadPoolExecutor(max_workers=min(workers, len(first) + len(second)) or 1) as pool:
        futures = {r.key: pool.submit(_observe_settled, ctx, r, destroy, wait) for r in first}
        later: dict[str, Future[Observed]] = {}
        for res in second:
            for dep in res.depends_on:
                if dep in futures and dep not in observed:
                    observed[dep] = futures[dep].result()
                    if observed[dep].exists and observed[dep].outputs:
                        ctx.set_outputs(dep, observed[dep].outputs)
            actual = ctx.outputs.get(Key.key_vault, {}).get("vault_uri")
            early = probes[res.key].result() if res.key in probes and actual == guess else None
            if early is not None:
                observed[res.key] = early
            else:
                later[res.key] = pool.submit(observe_one, ctx, res, destroy)
        for key, fut in futures.items():
            observed[key] = fut.result()
        for key, obs in observed.items():
            if obs.exists and obs.outputs:
                ctx.set_outputs(key, obs.outputs)
        for key, fut in later.items():
            observed[key] = fut.result()
            if observed[key].exists and observed[key].outputs:
                ctx.set_outputs(key, observed[key].outputs)  # a secret's version
    for res in ctx.desired.resources:
        seen = observed.get(res.key)
        if seen is not None and seen.exists and seen.tags and "tags" in res.managed:
            ctx.set_outputs(res.key, {"other_tags": other_tags(res.managed["tags"], seen.tags)})
    return {r.key: observed[r.key] for r in ctx.desired.resources if r.key in observed}
