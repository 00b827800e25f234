"""Benchmark 5: the LiteLLM gateway's overhead and memory.

The rendered prod config (`render.render_gateway`) runs on the real LiteLLM
(`gateway_process.start_gateway`, its own virtual environment) in front of the Azure OpenAI
emulator. Embeddings (float and base64) and Responses calls go through the gateway and directly
to the emulator, sequentially and from 8 threads; p50/p95 latencies, the gateway's overhead,
and the proxy's RSS (VmRSS of the process and its children) are reported, for 1 and 2 workers.

Side by side (1 worker): the same LiteLLM with the same rendered config, once as shipped (aigw's
guard and usage callback) and once bare (`bare_config`: no `custom_auth`, no usage callback;
LiteLLM's own `master_key` is the gateway key, so requests are still authenticated). Both run
at once and are called in alternating rounds, so a change in the machine's load hits both.

    python bench/gateway_overhead.py [--requests 200] [--workers 1 2] [--rounds 4] [--no-doc]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common

CONCURRENCY = 8
KINDS = ("embeddings float", "embeddings base64", "responses")
# Issue 22: what aigw's hooks may add to the same LiteLLM.
TARGET_P50_MS = 1.0
TARGET_THROUGHPUT_LOSS = 0.10


def rss_mb(pid: int) -> float:
    """VmRSS of `pid` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total_kb = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


class Cases:
    """The calls compared: (name, url, headers, json body) through the gateway or direct."""

    def __init__(self, gateway_url: str, aoai_url: str) -> None:
        gw = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
        direct = {"api-key": common.AOAI_KEY}
        text = "The quick brown fox jumps over the lazy dog. " * 4
        emb = {"input": text}
        resp = {"input": "Write a haiku about gateways.", "max_output_tokens": 64}
        emb_url = f"{aoai_url}/openai/deployments/text-embedding-3-large/embeddings"
        self.cases: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
            "embeddings float, direct": (f"{emb_url}?api-version=2023-05-15", direct, emb),
            "embeddings float, gateway": (
                f"{gateway_url}/v1/embeddings",
                gw,
                {**emb, "model": "text-embedding-3-large"},
            ),
            "embeddings base64, direct": (
                f"{emb_url}?api-version=2023-05-15",
                direct,
                {**emb, "encoding_format": "base64"},
            ),
            "embeddings base64, gateway": (
                f"{gateway_url}/v1/embeddings",
                gw,
                {**emb, "model": "text-embedding-3-large", "encoding_format": "base64"},
            ),
            "responses, direct": (
                f"{aoai_url}/openai/responses?api-version=2025-04-01-preview",
                direct,
                {**resp, "model": "gpt-5.3-codex"},
            ),
            "responses, gateway": (
                f"{gateway_url}/v1/responses",
                gw,
                {**resp, "model": "gpt-5.3-codex"},
            ),
        }


def _timed_calls(
    url: str, headers: dict[str, str], body: dict[str, Any], n: int, concurrency: int
) -> tuple[list[float], float]:
    """Latencies of n calls spread over `concurrency` threads, and the wall time."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def worker(count: int) -> None:
        with httpx.Client(timeout=60, trust_env=False) as client:
            client.post(url, headers=headers, json=body)  # connection + warm-up
            for _ in range(count):
                t = time.perf_counter()
                r = client.post(url, headers=headers, json=body)
                dt = time.perf_counter() - t
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                with lock:
                    latencies.append(dt)

    per = max(1, n // concurrency)
    threads = [threading.Thread(target=worker, args=(per,)) for _ in range(concurrency)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    if errors:
        raise RuntimeError(f"{url}: {errors[0]}")
    return latencies, wall


def bare_config(cfg: Any) -> str:
    """The rendered LiteLLM config without aigw's hooks: no `custom_auth` (so no guard: the
    gate is installed only when LiteLLM imports it), no usage callback, and LiteLLM's own
    `master_key` (the bench's gateway key) so that a key is still checked. Everything else
    (models, router and LiteLLM settings) is the shipped config's."""
    from aigw.gateway.config import GUARD_HOOK, USAGE_CALLBACK, dump_yaml, litellm_config

    data = litellm_config(cfg)
    general = data["general_settings"]
    assert general.pop("custom_auth") == GUARD_HOOK
    general["master_key"] = common.GATEWAY_KEY
    settings = data["litellm_settings"]
    settings["callbacks"] = [c for c in settings.get("callbacks", []) if c != USAGE_CALLBACK]
    if not settings["callbacks"]:
        del settings["callbacks"]
    return dump_yaml(data)


def _stats(seq: list[float], par: list[float], wall: float) -> dict[str, float]:
    return {
        "seq_p50": common.percentile(seq, 50) * 1000,
        "par_p50": common.percentile(par, 50) * 1000,
        "par_rps": len(par) / wall,
    }


def side_by_side(
    urls: dict[str, str], aoai_url: str, n: int, rounds: int
) -> dict[str, dict[str, dict[str, float]]]:
    """kind -> variant -> seq p50, x8 p50 (ms), x8 req/s: every variant of `urls` (name ->
    gateway URL) called in `rounds` rounds, the variants' order alternating from one round and
    kind to the next; latencies pooled over the rounds, req/s = calls / summed wall time."""
    cases = {name: Cases(url, aoai_url).cases for name, url in urls.items()}
    seq: dict[tuple[str, str], list[float]] = {}
    par: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], float] = {}
    names = list(urls)
    for r in range(rounds):
        for i, kind in enumerate(KINDS):
            order = names if (r + i) % 2 == 0 else names[::-1]
            for name in order:
                url, headers, body = cases[name][f"{kind}, gateway"]
                lat, _ = _timed_calls(url, headers, body, max(1, n // 4), 1)
                seq.setdefault((kind, name), []).extend(lat)
            for name in order:
                url, headers, body = cases[name][f"{kind}, gateway"]
                lat, took = _timed_calls(url, headers, body, max(CONCURRENCY, n // 2), CONCURRENCY)
                par.setdefault((kind, name), []).extend(lat)
                wall[(kind, name)] = wall.get((kind, name), 0.0) + took
    return {
        kind: {name: _stats(seq[kind, name], par[kind, name], wall[kind, name]) for name in names}
        for kind in KINDS
    }


def measure(workers: int, n: int, tmp: Path, rounds: int = 0) -> dict[str, Any]:
    """The rows for `workers`; with `rounds` (1 worker only), also the side-by-side comparison
    with a bare LiteLLM (`side_by_side`), under "side"."""
    import dataclasses

    from aigw.config.load import load_env
    from aigw.gateway import venv as litellm_env
    from aigw.gateway.config import (
        AZURE_OPENAI_KEY_VAR,
        CONFIG_FILE_NAME,
        render_gateway,
        write_files,
    )
    from aigw.gateway.process import start_gateway
    from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

    cfg = common.key_mode(load_env("prod", common.ENV_DIR).config)
    aoai = AzureOpenAIEmulator(
        deployments={
            m.deployment_name: Deployment(m.deployment_name, m.kind.value, m.dimensions)
            for m in cfg.models
        },
        api_key=common.AOAI_KEY,
    ).start()
    try:
        cfg = cfg.with_endpoint(aoai.url)
        rendered = render_gateway(cfg)
        workdir = tmp / f"gw-{workers}"
        workdir.mkdir(parents=True)
        args = write_files(rendered, workdir / "files", gateway_key=common.GATEWAY_KEY)
        if workers > 1 and "--num_workers" not in args:
            args += ["--num_workers", str(workers)]
        environ = {**rendered.env, AZURE_OPENAI_KEY_VAR: common.AOAI_KEY}
        version = litellm_env.litellm_version_from_image(cfg.gateway.image)
        env = litellm_env.ensure(version)
        t = time.perf_counter()
        gw = start_gateway(env, args, environ, port=None, workdir=workdir, startup_timeout=120)
        startup = time.perf_counter() - t
        try:
            rss_idle = rss_mb(gw.pid)
            cases = Cases(gw.url, aoai.url).cases
            rows: dict[str, dict[str, float]] = {}
            rss_peak = rss_idle
            for name, (url, headers, body) in cases.items():
                seq, _ = _timed_calls(url, headers, body, n // 2, 1)
                par, wall = _timed_calls(url, headers, body, n, CONCURRENCY)
                rss_peak = max(rss_peak, rss_mb(gw.pid))
                rows[name] = {
                    "seq_p50": common.percentile(seq, 50) * 1000,
                    "seq_p95": common.percentile(seq, 95) * 1000,
                    "par_p50": common.percentile(par, 50) * 1000,
                    "par_p95": common.percentile(par, 95) * 1000,
                    "par_rps": len(par) / wall,
                }
            rss_after = rss_mb(gw.pid)
            side = None
            if rounds > 0 and workers == 1:
                text = bare_config(cfg)
                bare_files = dataclasses.replace(
                    rendered, config_yaml=text, files={CONFIG_FILE_NAME: text}
                )
                bare_dir = tmp / f"gw-{workers}-bare"
                bare_dir.mkdir(parents=True)
                bare_args = write_files(bare_files, bare_dir / "files")
                bare = start_gateway(
                    env, bare_args, environ, port=None, workdir=bare_dir, startup_timeout=120
                )
                try:
                    side = side_by_side(
                        {"aigw hooks": gw.url, "bare": bare.url}, aoai.url, n, rounds
                    )
                finally:
                    bare.stop()
        finally:
            gw.stop()
    finally:
        aoai.stop()
    return {
        "workers": workers,
        "startup": startup,
        "rss_idle": rss_idle,
        "rss_peak": max(rss_peak, rss_after),
        "rows": rows,
        **({"side": side} if side is not None else {}),
    }


def side_section(side: dict[str, dict[str, dict[str, float]]]) -> tuple[str, str, bool]:
    """The side-by-side figures, the differences with their targets, and whether all are met."""
    figures = common.table(
        ["1 worker", "seq p50 (ms)", f"x{CONCURRENCY} p50 (ms)", f"x{CONCURRENCY} req/s"],
        [
            [f"{kind}, {name}", v["seq_p50"], v["par_p50"], v["par_rps"]]
            for kind in KINDS
            for name, v in side[kind].items()
        ],
    )
    rows: list[list[Any]] = []
    all_met = True
    for kind in KINDS:
        hooks, bare = side[kind]["aigw hooks"], side[kind]["bare"]
        d_seq = hooks["seq_p50"] - bare["seq_p50"]
        loss = 1 - hooks["par_rps"] / bare["par_rps"]
        met = d_seq <= TARGET_P50_MS and loss <= TARGET_THROUGHPUT_LOSS
        all_met = all_met and met
        rows.append(
            [
                kind,
                f"{d_seq:+.2f}",
                f"{hooks['par_p50'] - bare['par_p50']:+.1f}",
                f"{-loss * 100:+.1f}%",
                f"<= {TARGET_P50_MS:g} ms p50, <= {TARGET_THROUGHPUT_LOSS:.0%} throughput",
                met,
            ]
        )
    diff = common.table(
        [
            "aigw hooks - bare",
            "seq p50 (ms)",
            f"x{CONCURRENCY} p50 (ms)",
            f"x{CONCURRENCY} req/s",
            "target",
            "met",
        ],
        rows,
    )
    return figures, diff, all_met


def _overhead(rows: dict[str, dict[str, float]], kind: str, key: str) -> float:
    return rows[f"{kind}, gateway"][key] - rows[f"{kind}, direct"][key]


def run(
    n: int = 200, workers: tuple[int, ...] = (1, 2), write_doc: bool = True, rounds: int = 4
) -> list[dict[str, Any]]:
    """One result per worker count; the 1-worker one holds the side-by-side comparison
    ("side") unless `rounds` is 0."""
    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
        results = [measure(w, n, Path(tmp), rounds if w == 1 else 0) for w in workers]
    sections: list[str] = []
    side_text = ""
    for r in results:
        if "side" in r:
            figures, diff, met = side_section(r["side"])
            print(figures)
            print(diff)
            side_text = f"""### aigw's hooks against the same LiteLLM without them

The same LiteLLM, the same rendered prod config, 1 worker: "aigw hooks" as shipped (the guard's
gate and `custom_auth`, the usage callback); "bare" without them (no `custom_auth`, no usage
callback, LiteLLM's own `master_key` set to the gateway key, so a key is still checked).
Both run at once and are called in {rounds} alternating rounds ({max(1, n // 4)} sequential and
{max(CONCURRENCY, n // 2)} calls from {CONCURRENCY} threads per round, kind and variant; the
order flips every round), so a change in the machine's load hits both; p50s are over the pooled
calls, req/s is calls over summed wall time. Target (issue 22): the hooks add at most
{TARGET_P50_MS:g} ms at p50 and take at most {TARGET_THROUGHPUT_LOSS:.0%} of the throughput.
{"All met." if met else "NOT all met."}

{figures}

{diff}
"""
    for r in results:
        rows = [
            [name, v["seq_p50"], v["seq_p95"], v["par_p50"], v["par_p95"], v["par_rps"]]
            for name, v in r["rows"].items()
        ]
        table = common.table(
            [
                f"{r['workers']} worker(s)",
                "seq p50 (ms)",
                "seq p95 (ms)",
                f"x{CONCURRENCY} p50 (ms)",
                f"x{CONCURRENCY} p95 (ms)",
                f"x{CONCURRENCY} req/s",
            ],
            rows,
        )
        over: Callable[[str, str], float] = lambda kind, key, rr=r["rows"]: _overhead(rr, kind, key)  # noqa: E731
        summary = common.table(
            ["gateway overhead (gateway - direct)", "seq p50 (ms)", f"x{CONCURRENCY} p50 (ms)"],
            [
                [kind, over(kind, "seq_p50"), over(kind, "par_p50")]
                for kind in ("embeddings float", "embeddings base64", "responses")
            ]
            + [
                ["startup to liveliness (s)", r["startup"], ""],
                [
                    "RSS idle / peak, incl. children (MB)",
                    f"{r['rss_idle']:.0f}",
                    f"{r['rss_peak']:.0f}",
                ],
            ],
        )
        print(table)
        print(summary)
        sections.append(f"{table}\n\n{summary}")
    if write_doc:
        joined = "\n\n".join(sections)
        body = f"""Command: `python bench/gateway_overhead.py` ({n // 2} sequential calls and
{n} calls from {CONCURRENCY} threads per row, after one warm-up call per connection).
Machine: {common.machine()}.

The rendered prod config on the real LiteLLM (its own venv, `start_gateway`, plain HTTP on
127.0.0.1) in front of the Azure OpenAI emulator; clients are httpx with keep-alive. "direct"
calls the emulator itself, so gateway - direct is what the proxy adds. Embeddings are 3072
floats (text-embedding-3-large); base64 is `encoding_format: base64`. RSS is VmRSS of the proxy
and all its child processes (/proc).

{side_text}
### Through the gateway and direct to the emulator

{joined}
"""
        common.write_section("gateway", "5. Gateway overhead", body)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternating rounds of the side-by-side comparison with a bare LiteLLM (0: none)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    run(args.requests, tuple(args.workers), write_doc=not args.no_doc, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
