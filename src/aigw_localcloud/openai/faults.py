"""An Azure OpenAI endpoint told to throttle (429) or fail (500/503) for a while.

Set through the emulator's admin API (`PUT /_aigw/faults`, `DELETE /_aigw/faults`); a fault
applies to data-plane calls that passed authentication (Azure counts a call against the
deployment's quota once the caller is known), for `count` calls or `seconds`, whichever ends
first (neither: until cleared); `after: N` lets N calls through first (a quota that runs out
mid-conversation).

Azure's 429, as documented in "Azure OpenAI quotas and limits"
(learn.microsoft.com/azure/ai-services/openai/quotas-limits, "Rate limit best practices":
429 with `retry-after`/`retry-after-ms`) and the `x-ratelimit-remaining-requests/tokens`
headers (learn.microsoft.com/azure/ai-services/openai/how-to/quota, "Understanding rate
limits"). Two bodies, as Azure sends them, seen in public reports (no Microsoft spec gives the
429's body):
- `code: "RateLimitReached"` (the default, `"code": "RateLimitReached"` in the fault; what
  Azure answers now): `{"error": {"code": "RateLimitReached", "message": "Your requests to
  <deployment> for <model> in <region> have exceeded the token rate limit for your current
  OpenAI S0 pricing tier. This request was for ChatCompletions_Create under Azure OpenAI API
  version <v>. Please retry after N seconds. To increase your default rate limit, visit:
  https://aka.ms/oai/quotaincrease."}}`: github.com/dyad-sh/dyad/issues/1849 (chat, through
  LiteLLM), github.com/Lapis0x0/obsidian-yolo/issues/297 (Embeddings_Create, "call rate
  limit", the raw body). The tier is "OpenAI S0" or "AIServices S0" by the account's kind; the
  emulated account is kind OpenAI.
- `code: "429"` (the older body, still quoted in 2025): github.com/alex-wolf-ps/dbchatprov2/
  issues/2 and github.com/jasonacox/TinyLLM/issues/17 (`{"error": {"code": "429", "message":
  "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ... have
  exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after N
  seconds. ..."}}`), github.com/langchain-ai/langchain/issues/12986 (Embeddings_Create, "call
  rate limit").
Which limit a message names: "call" for embeddings, "token" for chat and responses (the
reports above; Azure names the limit actually hit, which the emulator does not count).
500/503: the transient answers Azure's retry guidance
names (learn.microsoft.com/azure/ai-services/openai/how-to/quota); their bodies use Azure's
error envelope `{"error": {"code", "message"}}` like every other answer of this emulator.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .account import model_of
from .aoai_bodies import _Reply
from .deployments import Deployment

# The operation names Azure puts in a 429's message.
_OPERATION = {
    "chat": "ChatCompletions_Create",
    "embeddings": "Embeddings_Create",
    "responses": "Responses_Create",
}
STATUSES = (429, 500, 503)
# The 429 body's error code: the current shape, or the older one.
CODES = ("RateLimitReached", "429")
# Region display names as Azure writes them in the message ("in East US 2", "in Sweden
# Central": the reports above); another location is written as its name.
_REGION = {
    "swedencentral": "Sweden Central",
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus": "West US",
    "westeurope": "West Europe",
    "northcentralus": "North Central US",
    "southcentralus": "South Central US",
    "francecentral": "France Central",
    "uksouth": "UK South",
    "japaneast": "Japan East",
}


@dataclass
class Fault:
    status: int
    retry_after_ms: int = 1000
    code: str = "RateLimitReached"  # a 429's body: CODES
    count: int | None = None  # calls left; None: no count limit
    until: float | None = None  # monotonic deadline; None: no time limit
    hits: int = 0
    after: int = 0  # calls still let through before the fault starts

    def to_dict(self) -> dict[str, Any]:
        left = None if self.until is None else max(0.0, self.until - time.monotonic())
        return {
            "status": self.status,
            "retry_after_ms": self.retry_after_ms,
            "code": self.code,
            "count": self.count,
            "seconds_left": left,
            "hits": self.hits,
            "after": self.after,
        }


def parse(body: dict[str, Any]) -> Fault:
    """A Fault from the admin API's body; ValueError names the field that is wrong."""
    status = body.get("status", 429)
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    retry_ms = body.get("retry_after_ms", 1000)
    if not isinstance(retry_ms, int) or retry_ms < 0:
        raise ValueError("retry_after_ms must be a non-negative integer")
    code = body.get("code", "RateLimitReached")
    if code not in CODES:
        raise ValueError(f"code must be one of {CODES} (the 429's body), not {code!r}")
    count = body.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError("count must be a positive integer")
    seconds = body.get("seconds")
    if seconds is not None and (not isinstance(seconds, int | float) or seconds <= 0):
        raise ValueError("seconds must be a positive number")
    until = time.monotonic() + float(seconds) if seconds is not None else None
    after = body.get("after", 0)
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ValueError("after must be a non-negative integer (calls let through first)")
    return Fault(
        status=status, retry_after_ms=retry_ms, code=code, count=count, until=until, after=after
    )


class Faults:
    """The fault an emulator is told to answer with (one at a time), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None

    def set(self, fault: Fault | None) -> None:
        with self._lock:
            self._fault = fault

    def current(self) -> Fault | None:
        with self._lock:
            return self._fault

    def take(self) -> Fault | None:
        """The fault this call gets, counting it; None once it has run out."""
        with self._lock:
            f = self._fault
            if f is None:
                return None
            if f.after > 0:
                f.after -= 1
                return None
            if (f.until is not None and time.monotonic() >= f.until) or (
                f.count is not None and f.count <= 0
            ):
                self._fault = None
                return None
            f.hits += 1
            if f.count is not None:
                f.count -= 1
            return f


def context(
    path: str, raw: bytes, deployments: Mapping[str, Deployment], location: str
) -> dict[str, str | None]:
    """What a 429's message names: the deployment (the path's, or a Responses call's `model`),
    its model and the account's region; None where the request does not say."""
    m = re.match(r"/openai/deployments/([^/]+)/", path)
    name: str | None = m.group(1) if m else None
    if name is None:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) else None
        name = model if isinstance(model, str) and model else None
    dep = deployments.get(name or "")
    return {
        "deployment": name,
        "model": model_of(dep)[0] if dep is not None else name,
        "region": location,
    }


def reply(
    fault: Fault,
    operation: str | None,
    api_version: str | None,
    *,
    deployment: str | None = None,
    model: str | None = None,
    region: str | None = None,
) -> _Reply:
    """The answer Azure gives for this fault; `deployment`, `model`, `region`: context()."""
    if fault.status == 429:
        seconds = max(1, math.ceil(fault.retry_after_ms / 1000))
        op = _OPERATION.get(operation or "", "ChatCompletions_Create")
        limit = "call" if operation == "embeddings" else "token"
        if fault.code == "429":
            message = (
                f"Requests to the {op} Operation under Azure OpenAI API version "
                f"{api_version or 'v1'} have exceeded {limit} rate limit of your current OpenAI "
                f"S0 pricing tier. Please retry after {seconds} seconds. Please go here: "
                "https://aka.ms/oai/quotaincrease if you would like to further increase the "
                "default rate limit."
            )
        else:
            where = (region or "swedencentral").lower()
            name = deployment or "the deployment"
            message = (
                f"Your requests to {name} for {model or name} in {_REGION.get(where, where)} "
                f"have exceeded the {limit} rate limit for your current OpenAI S0 pricing tier. "
                f"This request was for {op} under Azure OpenAI API version "
                f"{api_version or 'v1'}. Please retry after {seconds} seconds. To increase your "
                "default rate limit, visit: https://aka.ms/oai/quotaincrease."
            )
        headers = {
            "retry-after": str(seconds),
            "retry-after-ms": str(fault.retry_after_ms),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-remaining-tokens": "0",
        }
        return _Reply(429, {"error": {"code": fault.code, "message": message}}, headers)
    if fault.status == 503:
        return _Reply(
            503,
            {
                "error": {
                    "code": "ServiceUnavailable",
                    "message": "The service is temporarily unable to process your request. "
                    "Please try again later.",
                }
            },
        )
    return _Reply(
        500,
        {
            "error": {
                "code": "InternalServerError",
                "message": "The server had an error while processing your request. Sorry "
                "about that!",
            }
        },
    )
