"""Benchmark 5: the LiteLLM gateway's overhead and memory.

The rendered prod config (`render.render_gateway`) runs on the real LiteLLM
(`gateway_process.start_gateway`, its own virtual environment) in front of the Azure OpenAI
emulator. Embeddings (float and base64) and Responses calls go through the gateway and directly
to the emulator, sequentially and from 8 threads; p50/p95 latencies, the gateway's overhead,
and the proxy's RSS (VmRSS of the process and its children) are reported, for 1 and 2 workers.

    python bench/gateway_overhead.py [--requests 200] [--workers 1 2] [--no-doc]
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


def measure(workers: int, n: int, tmp: Path) -> dict[str, Any]:
    from aigw.config.load import load_env
    from aigw.gateway import venv as litellm_env
    from aigw.gateway.config import AZURE_OPENAI_KEY_VAR, render_gateway, write_files
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
    }


def _overhead(rows: dict[str, dict[str, float]], kind: str, key: str) -> float:
    return rows[f"{kind}, gateway"][key] - rows[f"{kind}, direct"][key]


def run(
    n: int = 200, workers: tuple[int, ...] = (1, 2), write_doc: bool = True
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
        results = [measure(w, n, Path(tmp)) for w in workers]
    sections: list[str] = []
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

{joined}
"""
        common.write_section("gateway", "5. Gateway overhead", body)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    run(args.requests, tuple(args.workers), write_doc=not args.no_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
