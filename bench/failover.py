"""Benchmark: failover across Azure OpenAI endpoints on 429 (issue 16).

The rendered config of a model served by two upstreams (`primary` first, `payg` second, from
tests/failover_fixtures.py) runs on the real LiteLLM 1.81.15, in front of one Azure OpenAI
emulator per upstream. Three phases, `--calls` sequential calls per model in each of the first
two: a baseline with no throttling; the primary answering Azure's 429 (`retry-after: 2`,
`retry-after-ms: 2000`) to every call; then the primary recovered. Which upstream served each
call is counted from the emulators' journals. A Responses model (Codex) and a chat model are
measured apart: LiteLLM cools down a failing upstream for chat, not for the Responses API
(gateway/routes.py).

    python bench/failover.py [--calls 200] [--no-doc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import common

sys.path.insert(0, str(common.REPO / "tests"))

from failover_fixtures import CODEX, Gateway, failover_config, multi_gateway

CHAT = "gpt-4.1-mini"
RETRY_AFTER_MS = 2000


def _calls(gw: Gateway, model: str, n: int) -> tuple[list[float], int]:
    """Latencies in ms and the number of 200s of `n` sequential calls."""
    call = _caller(model)
    lat, ok = [], 0
    with gw.client() as c:
        for _ in range(n):
            t = time.perf_counter()
            status = call(c)
            lat.append((time.perf_counter() - t) * 1000)
            ok += status == 200
    return lat, ok


def _caller(model: str) -> Callable[..., int]:
    if model == CODEX:
        return lambda c: c.post("/v1/responses", json={"model": model, "input": "hi"}).status_code
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return lambda c: c.post("/v1/chat/completions", json=body).status_code


def _served(gw: Gateway) -> dict[str, tuple[int, int]]:
    """Per upstream: (200s, 429s) in its journal since the last clear."""
    return {
        n: (
            sum(1 for e in em.journal if e.operation and e.status == 200),
            sum(1 for e in em.journal if e.operation and e.status == 429),
        )
        for n, em in gw.emulators.items()
    }


def _recovery(
    gw: Gateway, model: str, seconds: float
) -> tuple[float | None, dict[str, tuple[int, int]]]:
    """After the fault is cleared: calls every 100 ms for `seconds`; the time until the primary
    serves again, and who served what."""
    gw.clear()
    call = _caller(model)
    start = time.monotonic()
    back = None
    with gw.client() as c:
        while time.monotonic() - start < seconds:
            call(c)
            if back is None and any(
                e.status == 200 and e.operation for e in gw.emulators["primary"].journal
            ):
                back = time.monotonic() - start
            time.sleep(0.1)
    return back, _served(gw)


def run(calls: int) -> tuple[str, list[str]]:
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with multi_gateway(failover_config(tmp, cooldown=30), tmp) as gw:
            for model, label in ((CODEX, "responses (Codex)"), (CHAT, "chat")):
                _calls(gw, model, 5)  # warm-up
                gw.clear()
                base, base_ok = _calls(gw, model, calls)
                base_served = _served(gw)
                with gw.admin("primary") as a:
                    a.put("/_aigw/faults", json={"status": 429, "retry_after_ms": RETRY_AFTER_MS})
                gw.clear()
                thr, thr_ok = _calls(gw, model, calls)
                served = _served(gw)
                with gw.admin("primary") as a:
                    a.delete("/_aigw/faults")
                back, after = _recovery(gw, model, 4.0)
                time.sleep(RETRY_AFTER_MS / 1000 + 1)  # no cooldown left for the next model
                p50b, p95b = common.percentile(base, 50), common.percentile(base, 95)
                p50t, p95t = common.percentile(thr, 50), common.percentile(thr, 95)
                rows.append(
                    [
                        label,
                        calls,
                        f"{100 * base_ok / calls:.1f}% ({base_served['primary'][0]} primary)",
                        f"{100 * thr_ok / calls:.1f}%",
                        f"{served['payg'][0]} payg / {served['primary'][0]} primary",
                        served["primary"][1],
                        f"{p50b:.1f} / {p95b:.1f}",
                        f"{p50t:.1f} / {p95t:.1f}",
                        f"{p50t - p50b:+.1f} / {p95t - p95b:+.1f}",
                        f"{back:.1f} s" if back is not None else "not within 4 s",
                        f"{after['primary'][0]} primary / {after['payg'][0]} payg",
                    ]
                )
                print(label, rows[-1], flush=True)
    headers = [
        "model",
        "calls",
        "baseline success",
        "success, primary 429",
        "served by (primary 429)",
        "429s the primary answered",
        "baseline p50 / p95 ms",
        "throttled p50 / p95 ms",
        "added p50 / p95 ms",
        "primary serves again after",
        "recovery 4 s: served by",
    ]
    notes.append(
        f"The primary answers every call with Azure's 429 (`retry-after: "
        f"{RETRY_AFTER_MS // 1000}`, `retry-after-ms: {RETRY_AFTER_MS}`); `failover:` defaults "
        "(num_retries 2, allowed_fails 1, cooldown 30 s). LiteLLM sets a cooldown's length from "
        "`retry-after` when the 429 has one, so the primary is tried again about "
        f"{RETRY_AFTER_MS // 1000} s after it last refused, and serves again from then."
    )
    notes.append(
        "Responses (Codex): LiteLLM 1.81.15 does not cool down a Responses API deployment "
        "behind the proxy (its failure callback gets no `model_info`), so every throttled call "
        "pays one 429 round trip to the primary before the fallback; chat: after "
        "allowed_fails + 1 refusals the primary is skipped until its cooldown ends."
    )
    return common.table(headers, rows), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    body, notes = run(args.calls)
    text = (
        f"`python bench/failover.py --calls {args.calls}` on {common.machine()}.\n\n"
        f"{body}\n\n" + "\n\n".join(notes)
    )
    print(text)
    if not args.no_doc:
        common.write_section("failover", "Failover across upstreams on 429", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
