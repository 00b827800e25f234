"""Several upstreams per model (issue 16): the (model, upstream) pairs LiteLLM's router gets,
and its router settings (pure).

A model served by one upstream (the default: the primary) renders as it always did: one
`model_list` entry, no router settings. A model with `upstreams:` renders:

- order (failover; entries without order or weight count in list order): the model's alias
  is a group of the upstreams with the lowest order, and `router_settings.fallbacks` sends a
  failed call to one group per further upstream, in order. Not LiteLLM's
  `litellm_params.order`: LiteLLM 1.81.15 applies it only in `Router._pre_call_checks`, which
  runs with `enable_pre_call_checks` and chat `messages` only (router.py), so Responses API
  and embeddings calls would ignore it.
- weight: the alias is one group of every upstream's deployment, each with
  `litellm_params.weight`; `simple-shuffle` picks by weight (router_strategy/simple_shuffle.py)
  and a failed call is retried at once on another healthy deployment of the group
  (`Router._time_to_sleep_before_retry` returns 0 while the group has healthy deployments).

Each (alias, upstream) pair is also its own hidden group `<alias>@<upstream>`, which only the
gateway key may call (the guard) and nothing lists: the smoke test reaches every upstream
through the gateway with it, with the gateway's own credentials (keys or identity).

Retries: a 429 of an ordered model's first group is not retried there
(`model_group_retry_policy` RateLimitErrorRetries 0: the fallback takes it at once); other
errors are retried `num_retries` times. The circuit breaker: more than `allowed_fails`
failures within a minute put a deployment in cooldown for `cooldown_time` seconds
(router_utils/cooldown_handlers.py, the "v1" allowed-fails policy, which unlike LiteLLM's
default also cools down a group's only deployment); a group with no deployment left out of
cooldown raises at once, so its fallbacks take the call without calling it. Where no other
deployment or fallback is left (the last upstream, a weighted group's last healthy one),
LiteLLM's retry waits what Azure's `retry-after` says (`Router._time_to_sleep_before_retry`
-> `litellm._calculate_retry_after`: the header's seconds when 0 < it <= 60, plus up to 0.75 s
jitter). LiteLLM 1.81.15 does not read `retry-after-ms` (`_get_retry_after_from_exception_header`
reads `retry-after` only, and its Azure client makes no retries of its own): Azure sends both,
`retry-after` being the milliseconds rounded up to seconds, so the wait is never shorter.
LiteLLM also takes a cooldown's length from `retry-after` when the answer has one
(`Router.deployment_callback_on_failure`), else `cooldown_time`.

Known gap of LiteLLM 1.81.15: behind the proxy, a failed Responses API call reaches the
router's failure callback without `model_info` ("Exiting 'deployment_callback_on_failure'
without cooldown. No model_info found."), so a responses model's upstream is never cooled
down: every call tries the first upstream once (one 429 round trip) and falls back. Chat and
embeddings models are cooled down (tests/gateway/test_failover.py shows both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aigw.config.model import EnvConfig
from aigw.config.upstreams import PRIMARY, ModelConfig, ModelKind, UpstreamConfig

PIN = "@"  # <alias>@<upstream>: a hidden group of one upstream (the guard knows the same)
# The Azure OpenAI key of an upstream inside the container (auth: key).
PRIMARY_KEY_VAR = "LITELLM_AZURE_OPENAI_API_KEY"


def key_var(upstream: str) -> str:
    if upstream == PRIMARY:
        return PRIMARY_KEY_VAR
    return f"{PRIMARY_KEY_VAR}_{upstream.upper().replace('-', '_')}"


def pinned(alias: str, upstream: str) -> str:
    return f"{alias}{PIN}{upstream}"


@dataclass(frozen=True)
class Route:
    """One model_list entry: the group it is in, and the upstream deployment it calls."""

    group: str
    model: ModelConfig
    upstream_name: str
    upstream: UpstreamConfig
    deployment: str
    weight: int | None = None


def _ordered(model: ModelConfig) -> list[tuple[int, str, str]]:
    """(order, upstream, deployment) by priority; no order: the list's order."""
    rows = [
        (r.order if r.order is not None else i + 1, r.upstream, model.route_deployment(r))
        for i, r in enumerate(model.routes)
    ]
    return sorted(rows, key=lambda row: row[0])


def routes(config: EnvConfig) -> list[Route]:
    out: list[Route] = []
    for m in config.models:
        if not m.upstreams:
            out.append(Route(m.alias, m, PRIMARY, config.azure_openai, m.deployment_name))
            continue
        weighted = any(r.weight is not None for r in m.routes)
        if weighted:
            for r in m.routes:
                up = config.upstream(r.upstream)
                out.append(Route(m.alias, m, r.upstream, up, m.route_deployment(r), r.weight))
        else:
            rows = _ordered(m)
            first = rows[0][0]
            for order, name, deployment in rows:
                if order == first:
                    out.append(Route(m.alias, m, name, config.upstream(name), deployment))
        for r in m.routes:
            up = config.upstream(r.upstream)
            out.append(Route(pinned(m.alias, r.upstream), m, r.upstream, up, m.route_deployment(r)))
    return out


def _weighted(model: ModelConfig) -> bool:
    return any(r.weight is not None for r in model.routes)


def fallbacks(config: EnvConfig) -> list[dict[str, list[str]]]:
    """Ordered models: the alias falls back to each further upstream's group, in order.
    Weighted models: when the group's retries are spent (the shuffle can pick a throttled
    upstream again before its cooldown is recorded), each upstream's own group, heaviest
    first; one in cooldown raises at once, so the next one takes the call."""
    out = []
    for m in config.models:
        if not m.upstreams:
            continue
        if _weighted(m):
            ranked = sorted(m.routes, key=lambda r: -(r.weight or 0))
            out.append({m.alias: [pinned(m.alias, r.upstream) for r in ranked]})
            continue
        rows = _ordered(m)
        later = [pinned(m.alias, name) for order, name, _ in rows if order != rows[0][0]]
        if later:
            out.append({m.alias: later})
    return out


def router_settings(config: EnvConfig) -> dict[str, Any] | None:
    """LiteLLM's router settings; None when every model has one upstream (as before)."""
    if not config.multi_upstream:
        return None
    f = config.failover
    settings: dict[str, Any] = {
        "routing_strategy": "simple-shuffle",
        "num_retries": f.num_retries,
        "retry_after": 0,  # the least wait between retries; the upstream's retry-after rules
        "allowed_fails": f.allowed_fails,
        "cooldown_time": f.cooldown_seconds,
    }
    if any(_weighted(m) and m.kind is ModelKind.responses for m in config.models):
        # A stored conversation's next turn goes to the deployment that made its previous
        # response (LiteLLM writes the deployment's id into the response ids it returns;
        # router_utils/pre_call_checks/deployment_affinity_check.py): the other resource
        # cannot read it. aigw_responses.py refuses such a turn on any other upstream.
        settings["optional_pre_call_checks"] = ["responses_api_deployment_check"]
    fb = fallbacks(config)
    if fb:
        settings["fallbacks"] = fb
        # An exhausted quota does not come back within a retry: a 429 of an ordered model's
        # first upstream goes to its fallback at once (other errors are retried first).
        ordered = {m.alias for m in config.models if m.upstreams and not _weighted(m)}
        policy = {
            alias: {"RateLimitErrorRetries": 0}
            for entry in fb
            for alias in entry
            if alias in ordered
        }
        if policy:
            settings["model_group_retry_policy"] = policy
    return settings
