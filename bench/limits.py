"""A developer key's tokens-per-minute limit under a burst through two replicas sharing one real
Redis (issue 26): the tokens let through in the minute against the limit, and another key's
latency during the burst against the same key's on a quiet gateway. Writes the figures into
docs/performance.md ("Developer key limits").

    .venv/bin/python bench/limits.py [--seconds 58] [--tpm 6000] [--workers 4] [--no-doc]

Needs the LiteLLM environment (aigw litellm ensure) and redis-server (apt-get install
redis-server). The Azure OpenAI emulator answers at once, so the latencies are the gateway's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import common

sys.path.insert(0, str(common.REPO / "tests"))

from gateway.test_limits import CODEX, KEYS, Pair, limits_pair

SECTION = "Developer key limits"


def _p50_of_quiet_key(p: Pair, n: int) -> list[float]:
    out = []
    with p.client(0, KEYS["carol"]) as c:
        for i in range(n):
            t = time.perf_counter()
            r = c.post("/v1/responses", json={"model": CODEX, "input": f"quiet {i}"})
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
    return out


def run(
    seconds: float = 58.0, tpm: int = 6000, workers: int = 4, quiet_n: int = 60
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aigw-limits-") as tmp, limits_pair(Path(tmp)) as p:
        p.write_keys(budget=1000.0, bob_tpm=tpm)
        time.sleep(0.5)  # both guards read the keys file again (one stat per request)
        quiet_alone = _p50_of_quiet_key(p, quiet_n)
        stop = time.monotonic() + seconds
        lock = threading.Lock()
        tally = {"ok": 0, "limited": 0, "other": 0, "tokens": 0}

        def burst(i: int) -> None:
            with p.client(i, KEYS["bob"]) as c:
                while time.monotonic() < stop:
                    r = c.post("/v1/responses", json={"model": CODEX, "input": "burst"})
                    with lock:
                        if r.status_code == 200:
                            tally["ok"] += 1
                            tally["tokens"] += r.json()["usage"]["total_tokens"]
                        elif r.status_code == 429:
                            tally["limited"] += 1
                        else:
                            tally["other"] += 1

        threads = [threading.Thread(target=burst, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        quiet_during = _p50_of_quiet_key(p, quiet_n)
        for t in threads:
            t.join()
    return {
        "seconds": seconds,
        "tpm": tpm,
        "workers": workers,
        **tally,
        "over_pct": 100.0 * (tally["tokens"] - tpm) / tpm,
        "quiet_p50_ms": statistics.median(quiet_alone) * 1000,
        "during_p50_ms": statistics.median(quiet_during) * 1000,
    }


def section(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            "`python bench/limits.py`: two gateway processes (replicas) of the real LiteLLM with",
            "aigw's rendered config and guard, one real Redis server (Debian's redis-server) as",
            f"their store; key bob with `tpm {r['tpm']}` burst by {r['workers']} threads through",
            f"both for {r['seconds']:g} s (one minute window), key carol (no limits) calling one",
            f"at a time before and during the burst. {common.machine()}.",
            "",
            common.table(
                ["", "figure"],
                [
                    [
                        "bob: calls let through / refused 429 / other",
                        f"{r['ok']} / {r['limited']} / {r['other']}",
                    ],
                    [
                        f"bob: tokens let through in the minute (limit {r['tpm']})",
                        f"{r['tokens']} ({r['over_pct']:+.1f}%)",
                    ],
                    ["carol p50, gateway quiet", f"{r['quiet_p50_ms']:.1f} ms"],
                    ["carol p50, during bob's burst", f"{r['during_p50_ms']:.1f} ms"],
                ],
            ),
            "",
            "LiteLLM counts a call's tokens once it is answered, so calls in flight when the",
            "minute's tokens run out still pass: the excess is at most one call per worker.",
            "carol's added latency is the burst's share of two CPUs (the refused calls of bob",
            "are answered by the limiter without an upstream call).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=58.0)
    ap.add_argument("--tpm", type=int, default=6000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    r = run(args.seconds, args.tpm, args.workers)
    text = section(r)
    print(text)
    if not args.no_doc:
        common.write_section("limits", SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
