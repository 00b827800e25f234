"""Guard rails for a team (issue 26): what a model costs, and the limits every developer key
gets unless `aigw keys` sets its own. Field types only; the gateway's guard enforces them
(gateway/files/aigw_guard.py) and LiteLLM's own rate limiter counts the minutes
(proxy/hooks/parallel_request_limiter_v3.py), in the store named here."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from aigw.config.fields import Int, Number, StrictModel

Usd = Number  # US dollars


class Price(StrictModel):
    """What Azure charges for a model, in USD per million tokens (the price sheet of your
    agreement; learn.microsoft.com/azure/ai-services/openai/how-to/quota lists none)."""

    input: Usd = Field(ge=0, description="USD per million input tokens (not cached).")
    cached_input: Usd | None = Field(
        default=None,
        ge=0,
        description="USD per million cached input tokens; default: the input price.",
    )
    output: Usd = Field(
        ge=0, description="USD per million output tokens (reasoning tokens are output)."
    )

    def cost(self, input_tokens: int, cached_tokens: int, output_tokens: int) -> float:
        """USD for one call: cached tokens are part of the input count, priced apart."""
        cached = max(0, min(cached_tokens, input_tokens))
        cached_price = self.input if self.cached_input is None else self.cached_input
        total = (
            (input_tokens - cached) * self.input
            + cached * cached_price
            + output_tokens * self.output
        )
        return total / 1_000_000


class LimitStore(StrEnum):
    none = "none"  # each replica counts alone
    redis = "redis"  # counts every replica sees


class LimitsConfig(StrictModel):
    """Defaults for every developer key (a key's own values, set with `aigw keys`, win). The
    gateway key has no limits."""

    store: LimitStore = Field(
        default=LimitStore.none,
        description="Where the counts live: none (each replica counts alone: with "
        "max_replicas > 1 a limit is per replica) or redis (shared by every replica).",
    )
    tpm: Int | None = Field(
        default=None, ge=1, description="Tokens per minute per developer key (none: no limit)."
    )
    rpm: Int | None = Field(
        default=None, ge=1, description="Requests per minute per developer key (none: no limit)."
    )
    monthly_budget: Usd | None = Field(
        default=None,
        gt=0,
        description="USD per developer key per calendar month (UTC); needs a price on every model.",
    )

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.tpm, self.rpm, self.monthly_budget))


def notes(limits: LimitsConfig, max_replicas: int) -> list[str]:
    """What a user must know about where counts live (said by validate; pure). `max_replicas`:
    the most gateway processes that count apart (replicas times LiteLLM workers, each its own
    process)."""
    if limits.store is LimitStore.redis or not limits.any:
        return []
    out = []
    if max_replicas > 1:
        out.append(
            f"limits.store is none: each of up to {max_replicas} gateway processes (replicas "
            f"times gateway.workers) counts alone, so a key may get up to {max_replicas} times "
            "its limits; set limits.store: redis to share the counts"
        )
    if limits.monthly_budget is not None:
        out.append(
            "limits.store is none: the month's spend lives in the gateway process; a restart "
            "or a new revision starts it again at zero (limits.store: redis keeps it)"
        )
    return out
