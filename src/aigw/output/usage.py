"""`aigw usage` on plain data: the usage lines as records, their sums by key, model or day, and
how they print (a table, a bar chart, CSV). Pure: no Azure, no I/O.

A usage line is what the gateway's logger writes (src/aigw/gateway/files/aigw_usage.py):
`{"aigw_usage": 1, "time", "key", "model", "deployment", "prompt_tokens", ...}`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aigw.output.plain import clean

if TYPE_CHECKING:
    from aigw.config.limits import Price

MARKER = "aigw_usage"
REFUSED = "aigw_refused"  # the guard's line for a request it refused (no model was called)
GROUPINGS = ("key", "model", "day")
COUNTS = ("requests", "failures", "refused", "prompt_tokens", "completion_tokens", "total_tokens")
# with --cost: USD, and the calls no price was known for (counted, not guessed)
COST_COLUMNS = ("cost_usd", "unpriced")


def parse_line(text: str) -> dict[str, Any] | None:
    """One record from a console line: a usage line, or a refusal line (`refused: True`, its
    key's name and time; no model), or None for any other line."""
    marker = next((m for m in (MARKER, REFUSED) if text.startswith('{"' + m + '"')), None)
    if marker is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(marker), int):
        return None
    if marker == REFUSED:
        key = data.get("key")
        return {"refused": True, "time": data.get("time"), "key": key if key else "(no key)"}
    return data


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# Key names the gateway logged before a rename -> their name now: the gateway key was
# `aigw-admin` before issue 25 (gateway/developer_keys.py GATEWAY_KEY_NAME; the guard's literal).
FORMER_KEY_NAMES = {"aigw-admin": "aigw-gateway-key"}


def group_value(record: Mapping[str, Any], by: str) -> str:
    if by == "day":
        return str(record.get("time") or "")[:10] or "?"
    value = str(record.get(by) or "?")
    return FORMER_KEY_NAMES.get(value, value) if by == "key" else value


def record_cost(rec: Mapping[str, Any], prices: Mapping[str, Price]) -> float | None:
    """USD of one call: what the gateway counted against the key's budget (`cost_usd`, at the
    price of that day), else the line's tokens at today's price; a failed call costs nothing;
    None when the model has no price."""
    counted = rec.get("cost_usd")
    if isinstance(counted, (int, float)) and not isinstance(counted, bool) and counted >= 0:
        return float(counted)
    if rec.get("status") != "success":
        return 0.0
    price = prices.get(str(rec.get("model") or "").split("@", 1)[0])
    if price is None:
        return None
    return price.cost(
        _int(rec.get("prompt_tokens")),
        _int(rec.get("cached_tokens")),
        _int(rec.get("completion_tokens")),
    )


def aggregate(
    records: Iterable[Mapping[str, Any]], by: str, prices: Mapping[str, Price] | None = None
) -> list[dict[str, Any]]:
    """One row per key, model or day: requests, failures and token sums, and with `prices`
    their cost (COST_COLUMNS); the most tokens first (by day: in date order)."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    groups: dict[str, dict[str, Any]] = {}
    extra = dict.fromkeys(COST_COLUMNS, 0) if prices is not None else {}
    for rec in records:
        name = group_value(rec, by)
        row = groups.setdefault(name, {by: name, **dict.fromkeys(COUNTS, 0), **extra})
        if rec.get("refused") is True:  # refused by the gateway: no model call, no tokens
            row["refused"] += 1
            continue
        row["requests"] += 1
        row["failures"] += 0 if rec.get("status") == "success" else 1
        for field in ("prompt_tokens", "completion_tokens", "total_tokens"):
            row[field] += _int(rec.get(field))
        if prices is not None:
            cost = record_cost(rec, prices)
            if cost is None:
                row["unpriced"] += 1
            else:
                row["cost_usd"] = round(row["cost_usd"] + cost, 8)
    rows = list(groups.values())
    if by == "day":
        return sorted(rows, key=lambda r: r[by])
    return sorted(rows, key=lambda r: (-r["total_tokens"], r[by]))


def columns(rows: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The count columns of these rows (the cost ones when aggregate had prices)."""
    first = next(iter(rows), None)
    return COUNTS + (COST_COLUMNS if first is not None and "cost_usd" in first else ())


def totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    out: dict[str, Any] = dict.fromkeys(columns(rows), 0)
    for row in rows:
        for field in out:
            out[field] += row[field]
    if "cost_usd" in out:
        out["cost_usd"] = round(out["cost_usd"], 8)
    return out


def to_csv(rows: Iterable[Mapping[str, Any]], by: str) -> str:
    rows = list(rows)
    names = columns(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([by, *names])
    for row in rows:
        writer.writerow([row[by], *(row[c] for c in names)])
    return buf.getvalue()


def bar_chart(rows: Iterable[Mapping[str, Any]], by: str, width: int = 30) -> list[str]:
    """`name  ████████ 1234` per row, bars scaled to the largest total_tokens; names with their
    control characters shown as escapes (aigw.output.plain), so the bars line up."""
    rows = list(rows)
    if not rows:
        return []
    peak = max(int(r["total_tokens"]) for r in rows) or 1
    names = [clean(r[by]) for r in rows]
    label = max(len(name) for name in names)
    out = []
    for name, r in zip(names, rows, strict=True):
        n = int(r["total_tokens"])
        bar = "█" * max(1 if n else 0, round(width * n / peak))
        out.append(f"{name.ljust(label)}  {bar} {n}")
    return out
