"""How strong a gateway key must be (whoever holds it uses every model, every upstream).

Documented rule (README "Configuration"): at least 32 characters, no whitespace, at least 10
different characters and about 80 bits by character frequency (so `sk-aaaa...` or a repeated
pair is refused however long). `python3 -c 'import secrets;print(secrets.token_urlsafe(32))'`
gives 43 characters and ~200 bits.
"""

from __future__ import annotations

import math
from collections import Counter

from aigw.errors import UserError

MIN_LENGTH = 32
MIN_DISTINCT = 10
MIN_BITS = 80.0
GENERATE = "python3 -c 'import secrets;print(secrets.token_urlsafe(32))'"


def estimated_bits(value: str) -> float:
    """Shannon entropy of the value's own character frequencies, times its length."""
    counts = Counter(value)
    n = len(value)
    return -sum(c * math.log2(c / n) for c in counts.values()) if n else 0.0


def weakness(value: str) -> str | None:
    """Why `value` is too weak for a gateway key, or None. Never mentions the value itself."""
    if len(value) < MIN_LENGTH:
        return f"{len(value)} characters, at least {MIN_LENGTH} needed"
    if any(c.isspace() for c in value):
        return "it contains whitespace"
    if len(set(value)) < MIN_DISTINCT or estimated_bits(value) < MIN_BITS:
        return "too repetitive (low entropy)"
    return None


def check_gateway_key(value: str, source: str) -> None:
    """Raise a one-line UserError naming the variable `source` when the key is weak."""
    why = weakness(value)
    if why:
        raise UserError(
            f"the gateway key in ${source} is too weak: {why}",
            hint=f"generate one: export {source}=$({GENERATE})",
        )
