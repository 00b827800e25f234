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
# The key name LiteLLM records for the key (`UserAPIKeyAuth.key_alias` set by aigw's guard).
UNKNOWN_KEY = "unknown"


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _short(value: Any, limit: int = 200) -> str:
    return str(value)[:limit] if value is not None else ""


def usage_record(
    payload: Mapping[str, Any], *, ok: bool, call_id: Any = None, now: float | None = None
) -> dict[str, Any]:
    """The line for one call, from LiteLLM's `standard_logging_object` (plain data);
    `call_id`: LiteLLM's call id, the `x-litellm-call-id` header the client got."""
    meta = payload.get("metadata") or {}
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
        "prompt_tokens": _int(payload.get("prompt_tokens")),
        "completion_tokens": _int(payload.get("completion_tokens")),
        "total_tokens": _int(payload.get("total_tokens")),
        "latency_ms": max(0, round((float(end) - float(start)) * 1000)),
        "status": "success" if ok else "failure",
        "http_status": code,
        "request_id": _short(call_id or payload.get("id"), 100),
    }


def write_line(record: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class UsageLogger(CustomLogger):
    """LiteLLM's callback: the async hooks the proxy calls (one per call, streams included)."""

    def _emit(self, kwargs: Mapping[str, Any], *, ok: bool) -> None:
        payload = kwargs.get("standard_logging_object")
        if not isinstance(payload, Mapping):
            return
        with contextlib.suppress(Exception):  # a usage line must never fail a request
            write_line(usage_record(payload, ok=ok, call_id=kwargs.get("litellm_call_id")))

    async def async_log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._emit(kwargs, ok=True)

    async def async_log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._emit(kwargs, ok=False)


usage_logger = UsageLogger()
