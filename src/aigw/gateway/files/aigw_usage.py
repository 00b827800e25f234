"""aigw's usage logger inside the LiteLLM proxy: one JSON line on stdout per model call.

aigw ships this file next to `config.yaml` in the container's config volume (like
`aigw_guard.py`); LiteLLM 1.81.15 loads it from `litellm_settings.callbacks:
["aigw_usage.usage_logger"]`: `proxy/common_utils/callback_utils.py`
`initialize_callbacks_on_proxy` calls `proxy/types_utils/utils.py` `get_instance_fn(value,
config_file_path)`, which imports `<config dir>/aigw_usage.py` by file location and returns its
`usage_logger` attribute; no `sys.modules` entry is needed. LiteLLM calls the async hooks of a
`CustomLogger` once per call, after a stream has ended (with the assembled response).

Container Apps sends the container's stdout to the environment's Log Analytics workspace
(table `ContainerAppConsoleLogs_CL`, column `Log_s`), where `aigw usage` finds these lines by
their first characters, `{"aigw_usage"`.

A line holds counts, names and times only: never prompt text, a completion or a key
(`usage_record` reads named fields of LiteLLM's `standard_logging_object`, nothing else).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

try:  # inside LiteLLM; aigw's own tests import usage_record without LiteLLM installed
    from litellm.integrations.custom_logger import CustomLogger
except ImportError:  # pragma: no cover - exercised by aigw's tests

    class CustomLogger:  # type: ignore[no-redef]
        pass


MARKER = "aigw_usage"
VERSION = 1
# The price of each model (aigw renders it from the YAML's models[].price into the limits file
# beside this one, with the guard's defaults: aigw_guard.py LIMITS_FILE).
LIMITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aigw_limits.json")
# A developer key's spend this month (the same format as aigw_guard.py SPEND_PREFIX).
SPEND_PREFIX = "aigw:spend:"
SPEND_TTL_SECONDS = 40 * 24 * 3600
# The key name LiteLLM records for the key (`UserAPIKeyAuth.key_alias` set by aigw's guard).
UNKNOWN_KEY = "unknown"


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _short(value: Any, limit: int = 200) -> str:
    return str(value)[:limit] if value is not None else ""


def _detail(usage: Mapping[str, Any], *names: str) -> int:
    """A nested count of a usage object, chat or Responses shaped (e.g.
    prompt_tokens_details.cached_tokens or input_tokens_details.cached_tokens)."""
    for group in names[:-1]:
        details = usage.get(group)
        if isinstance(details, Mapping) and details.get(names[-1]) is not None:
            return _int(details.get(names[-1]))
    return 0


def cost_usd(
    price: Mapping[str, Any] | None, prompt: int, cached: int, completion: int
) -> float | None:
    """USD for one call at `price` (USD per million tokens; aigw.config.limits.Price.cost is the
    same rule: cached input priced apart, never above the input count; reasoning is output)."""
    if not isinstance(price, Mapping):
        return None
    try:
        unit_in = float(price["input"])
        cached_price = price.get("cached_input")
        unit_cached = unit_in if cached_price is None else float(cached_price)
        unit_out = float(price["output"])
    except (KeyError, TypeError, ValueError):
        return None
    cached = max(0, min(cached, prompt))
    return ((prompt - cached) * unit_in + cached * unit_cached + completion * unit_out) / 1_000_000


def usage_record(
    payload: Mapping[str, Any],
    *,
    ok: bool,
    call_id: Any = None,
    now: float | None = None,
    prices: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The line for one call, from LiteLLM's `standard_logging_object` (plain data);
    `call_id`: LiteLLM's call id, the `x-litellm-call-id` header the client got; `prices`:
    alias -> price, for `cost_usd`."""
    meta = payload.get("metadata") or {}
    found = meta.get("usage_object")
    usage: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    cached = _detail(usage, "prompt_tokens_details", "input_tokens_details", "cached_tokens")
    reasoning = _detail(
        usage, "completion_tokens_details", "output_tokens_details", "reasoning_tokens"
    )
    start = payload.get("startTime") or 0.0
    end = payload.get("endTime") or start
    error = payload.get("error_information") or {}
    code = 200
    if not ok:
        try:
            code = int(str(error.get("error_code") or "500"))
        except ValueError:
            code = 500
    model = str(payload.get("model") or "")
    deployment = model.split("/", 1)[1] if model.startswith("azure/") else model
    prompt, completion = _int(payload.get("prompt_tokens")), _int(payload.get("completion_tokens"))
    group = str(payload.get("model_group") or "")
    cost = (
        cost_usd((prices or {}).get(group.split("@", 1)[0]), prompt, cached, completion)
        if ok
        else None
    )
    return {
        MARKER: VERSION,
        "time": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(end if end else (now or time.time()))
        ),
        "key": _short(meta.get("user_api_key_alias") or UNKNOWN_KEY, 100),
        "model": _short(payload.get("model_group"), 100),
        "deployment": _short(deployment, 100),
        "call_type": _short(payload.get("call_type"), 40),
        "stream": bool(payload.get("stream")),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "completion_tokens": completion,
        "reasoning_tokens": reasoning,
        "total_tokens": _int(payload.get("total_tokens")),
        **({"cost_usd": round(cost, 8)} if cost is not None else {}),
        "latency_ms": max(0, round((float(end) - float(start)) * 1000)),
        "status": "success" if ok else "failure",
        "http_status": code,
        "request_id": _short(call_id or payload.get("id"), 100),
    }


def write_line(record: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def read_prices(path: str = LIMITS_FILE) -> dict[str, Any]:
    """alias -> price from the limits file ({} without one)."""
    try:
        with open(path, encoding="utf-8") as f:
            prices = json.load(f).get("prices")
    except (OSError, ValueError, AttributeError):
        return {}
    return prices if isinstance(prices, dict) else {}


def _shared_totals() -> dict[str, float]:
    """The spend counters of this process when no store is configured: the dict aigw_guard.py
    reads (it lives in sys.modules under one name; the two modules are loaded apart)."""
    holder = sys.modules.get("aigw_spend_totals")
    if holder is None:
        import types

        holder = types.ModuleType("aigw_spend_totals")
        holder.totals = {}  # type: ignore[attr-defined]
        sys.modules["aigw_spend_totals"] = holder
    totals: dict[str, float] = holder.totals
    return totals


async def add_spend(key_name: str, usd: float, when: float | None = None) -> float:
    """Add one call's cost to the key's month: in Redis when LiteLLM has one (every replica
    sees it), else in this process."""
    month = time.strftime("%Y-%m", time.gmtime(when if when else time.time()))
    key = f"{SPEND_PREFIX}{month}:{key_name}"
    server = sys.modules.get("litellm.proxy.proxy_server")
    usage_cache = getattr(getattr(server, "proxy_logging_obj", None), "internal_usage_cache", None)
    redis = getattr(getattr(usage_cache, "dual_cache", None), "redis_cache", None)
    if redis is None:
        totals = _shared_totals()
        totals[key] = totals.get(key, 0.0) + usd
        return totals[key]
    return float(await redis.async_increment(key, usd, ttl=SPEND_TTL_SECONDS))


class UsageLogger(CustomLogger):
    """LiteLLM's callback: the async hooks the proxy calls (one per call, streams included)."""

    def __init__(self) -> None:
        super().__init__()
        self.prices = read_prices()

    def _emit(self, kwargs: Mapping[str, Any], *, ok: bool) -> dict[str, Any] | None:
        payload = kwargs.get("standard_logging_object")
        if not isinstance(payload, Mapping):
            return None
        with contextlib.suppress(Exception):  # a usage line must never fail a request
            record = usage_record(
                payload, ok=ok, call_id=kwargs.get("litellm_call_id"), prices=self.prices
            )
            write_line(record)
            return record
        return None

    async def async_log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        payload = kwargs.get("standard_logging_object")
        if not isinstance(payload, Mapping):
            return
        with contextlib.suppress(Exception):  # a usage line must never fail a request
            record = usage_record(
                payload, ok=True, call_id=kwargs.get("litellm_call_id"), prices=self.prices
            )
            cost = record.get("cost_usd")
            if cost is not None and record["key"] != UNKNOWN_KEY:
                with contextlib.suppress(Exception):  # the store down: the line still goes
                    # the key's month, this call included, as the store has it now
                    total = await add_spend(str(record["key"]), float(cost))
                    record["spend_usd"] = round(float(total), 8)
            budget = (payload.get("metadata") or {}).get("user_api_key_max_budget")
            if isinstance(budget, (int, float)) and not isinstance(budget, bool):
                record["budget_usd"] = float(budget)  # the key's monthly budget (the guard's)
            write_line(record)

    async def async_log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._emit(kwargs, ok=False)


usage_logger = UsageLogger()
