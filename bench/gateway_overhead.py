"""Benchmark 5: the LiteLLM gateway's overhead and memory.

The rendered prod config (`render.render_gateway`) runs on the real LiteLLM
(`gateway_process.start_gateway`, its own virtual environment) in front of the Azure OpenAI
emulator. Embeddings (float and base64) and Responses calls go through the gateway and directly
to the emulator, sequentially and from 8 threads; p50/p95 latencies, the gateway's overhead,
and the proxy's RSS (VmRSS of the process and its children) are reported, for 1 and 2 workers.

Side by side (1 worker): the same LiteLLM with the same rendered config, once as shipped (aigw's
guard and usage callback) and once bare (`bare_config`: no `custom_auth`, no usage callback;
LiteLLM's own `master_key` is the gateway key, so requests are still authenticated), plus bare
with no key at all (LiteLLM's floor, for information). All run at once and are called
interleaved (`side_by_side`), so a change in the machine's load hits each alike.

    python bench/gateway_overhead.py [--requests 200] [--workers 1 2] [--rounds 10] [--no-doc]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import common

CONCURRENCY = 8
KINDS = ("embeddings float", "embeddings base64", "responses")
# Issue 22: what aigw's hooks may add to the same LiteLLM.
TARGET_P50_MS = 1.0
TARGET_THROUGHPUT_LOSS = 0.10
HOOKS, BARE, NO_KEY = "aigw hooks", "bare", "bare, no key"


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


def bare_config(cfg: Any, *, key: bool = True) -> str:
    """The rendered LiteLLM config without aigw's hooks: no `custom_auth` (so no guard: the
    gate is installed only when LiteLLM imports it), no usage or Responses-state callback
    (aigw's, not LiteLLM's: their files are not in the bare volume), and LiteLLM's own
    `master_key` (the bench's gateway key) so that a key is still checked (`key` False: none,
    LiteLLM then checks no key at all). Everything else (models, router and LiteLLM settings)
    is the shipped config's."""
    from aigw.gateway.render import (
        GUARD_HOOK,
        RESPONSES_CALLBACK,
        USAGE_CALLBACK,
        dump_yaml,
        litellm_config,
    )

    data = litellm_config(cfg)
    general = data["general_settings"]
    assert general.pop("custom_auth") == GUARD_HOOK
    if key:
        general["master_key"] = common.GATEWAY_KEY
    settings = data["litellm_settings"]
    ours = (USAGE_CALLBACK, RESPONSES_CALLBACK)
    settings["callbacks"] = [c for c in settings.get("callbacks", []) if c not in ours]
    if not settings["callbacks"]:
        del settings["callbacks"]
    return dump_yaml(data)


def _stats(seq: list[float], par: list[float], wall: float) -> dict[str, float]:
    return {
        "seq_p50": common.percentile(seq, 50) * 1000,
        "par_p50": common.percentile(par, 50) * 1000,
        "par_rps": len(par) / wall,
    }


def hooks_cpu_us(calls: int = 3000) -> dict[str, float]:
    """The hooks' own work per call, in-process and free of the machine's noise (µs): the gate
    (aigw_guard.Gate, every check) in front of a stand-in app, for the bench's embeddings body
    with the gateway key; and the usage line (usage_record + write_line, to /dev/null) for a
    standard_logging_object like LiteLLM's."""
    import asyncio
    import contextlib
    import io
    import json

    from aigw.gateway.files import aigw_guard as guard
    from aigw.gateway.files import aigw_usage as usage

    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
        key_path = Path(tmp, "aigw_gateway_key")
        key_path.write_text(common.GATEWAY_KEY)
        models = ["gpt-5.3-codex", "text-embedding-3-large", "gpt-5.3-codex@primary"]

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            headers = [(b"content-type", b"application/json"), (b"x-litellm-model-id", b"1")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"{}"})

        gate = guard.Gate(
            app,
            keys=guard.DeveloperKeysFile(str(Path(tmp, "aigw_developer_keys.json"))),
            gateway_key=guard.GatewayKeyFile(str(key_path)),
            models=lambda: models,
        )
        text = "The quick brown fox jumps over the lazy dog. " * 4
        raw = json.dumps({"input": text, "model": "text-embedding-3-large"}).encode()
        headers = [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {common.GATEWAY_KEY}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
            (b"user-agent", b"python-httpx/0.28.1"),
            (b"accept", b"*/*"),
            (b"accept-encoding", b"gzip, deflate"),
        ]

        async def receive() -> Any:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def one() -> None:
            sent: list[Any] = []

            async def send(message: Any) -> None:
                sent.append(message)

            scope = {"type": "http", "method": "POST", "path": "/v1/embeddings"}
            await gate({**scope, "headers": list(headers), "query_string": b""}, receive, send)
            if sent[0]["status"] != 200:
                raise RuntimeError(f"the gate refused the bench's call: {sent}")

        async def gate_loop() -> tuple[float, float]:
            for _ in range(100):
                await one()
            t = time.perf_counter()
            for _ in range(calls):
                await one()
            took = time.perf_counter() - t
            t = time.perf_counter()
            for _ in range(calls):
                await app({}, receive, lambda m: asyncio.sleep(0))
            return took, time.perf_counter() - t

        gate_s, app_s = asyncio.run(gate_loop())
        payload = {
            "metadata": {"user_api_key_alias": guard.GATEWAY_KEY_NAME},
            "startTime": 1.0,
            "endTime": 1.2,
            "model": "azure/text-embedding-3-large",
            "model_group": "text-embedding-3-large",
            "call_type": "aembedding",
            "stream": False,
            "prompt_tokens": 40,
            "completion_tokens": 0,
            "total_tokens": 40,
            "id": "chatcmpl-0",
        }
        sink = io.StringIO()
        t = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            for _ in range(calls):
                usage.write_line(usage.usage_record(payload, ok=True, call_id="c"))
                sink.seek(0)
                sink.truncate()
        usage_s = time.perf_counter() - t
    return {
        "gate": max(0.0, gate_s - app_s) / calls * 1e6,
        "usage": usage_s / calls * 1e6,
    }


def _rotated(names: list[str], k: int) -> list[str]:
    shift = k % len(names)
    return names[shift:] + names[:shift]


def side_by_side(
    urls: dict[str, str], aoai_url: str, n: int, rounds: int
) -> dict[str, dict[str, dict[str, float]]]:
    """kind -> variant -> seq p50, x8 p50 (ms), x8 req/s, for every variant of `urls` (name ->
    gateway URL), interleaved so that a change in the machine's load hits each alike:
    sequentially, n // 2 calls per variant, one call of each variant in turn (the order
    rotating); from CONCURRENCY threads, `rounds` bursts per variant of `burst` calls, one
    variant's burst after the other's (the order rotating). req/s = calls / summed wall time."""
    import httpx

    cases = {name: Cases(url, aoai_url).cases for name, url in urls.items()}
    names = list(urls)
    burst = max(CONCURRENCY, 2 * n // max(1, rounds))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for i, kind in enumerate(KINDS):
        calls = {name: cases[name][f"{kind}, gateway"] for name in names}
        seq: dict[str, list[float]] = {name: [] for name in names}
        clients = {name: httpx.Client(timeout=60, trust_env=False) for name in names}
        try:
            for name, (url, headers, body) in calls.items():
                clients[name].post(url, headers=headers, json=body)  # connection + warm-up
            for j in range(max(1, n // 2)):
                for name in _rotated(names, i + j):
                    url, headers, body = calls[name]
                    t = time.perf_counter()
                    r = clients[name].post(url, headers=headers, json=body)
                    dt = time.perf_counter() - t
                    if r.status_code != 200:
                        raise RuntimeError(f"{name} {url}: {r.status_code} {r.text[:200]}")
                    seq[name].append(dt)
        finally:
            for client in clients.values():
                client.close()
        par: dict[str, list[float]] = {name: [] for name in names}
        wall = dict.fromkeys(names, 0.0)
        for r in range(max(1, rounds)):
            for name in _rotated(names, i + r):
                url, headers, body = calls[name]
                lat, took = _timed_calls(url, headers, body, burst, CONCURRENCY)
                par[name].extend(lat)
                wall[name] += took
        out[kind] = {name: _stats(seq[name], par[name], wall[name]) for name in names}
    return out


def measure(workers: int, n: int, tmp: Path, rounds: int = 0) -> dict[str, Any]:
    """The rows for `workers`; with `rounds` (1 worker only), also the side-by-side comparison
    with a bare LiteLLM (`side_by_side`), under "side"."""
    import dataclasses

    from aigw.config.load import load_env
    from aigw.gateway import venv as litellm_env
    from aigw.gateway.process import start_gateway
    from aigw.gateway.render import (
        AZURE_OPENAI_KEY_VAR,
        CONFIG_FILE_NAME,
        render_gateway,
        write_files,
    )
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

                def start_bare(key: bool) -> Any:
                    text = bare_config(cfg, key=key)
                    files = dataclasses.replace(
                        rendered, config_yaml=text, files={CONFIG_FILE_NAME: text}
                    )
                    bare_dir = tmp / f"gw-{workers}-{'bare' if key else 'nokey'}"
                    bare_dir.mkdir(parents=True)
                    bare_args = write_files(files, bare_dir / "files")
                    return start_gateway(
                        env, bare_args, environ, port=None, workdir=bare_dir, startup_timeout=120
                    )

                # started side by side (LiteLLM's start is mostly imports: ~2x faster on 2 CPUs)
                with ThreadPoolExecutor(2) as pool:
                    futures = {
                        BARE: pool.submit(start_bare, True),
                        NO_KEY: pool.submit(start_bare, False),
                    }
                bares = {name: f.result() for name, f in futures.items() if f.exception() is None}
                try:
                    for f in futures.values():
                        f.result()  # raises the first start's error, after the others are kept
                    urls = {HOOKS: gw.url, **{name: b.url for name, b in bares.items()}}
                    side = side_by_side(urls, aoai.url, n, rounds)
                finally:
                    for b in bares.values():
                        b.stop()
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
        **({"side": side, "hooks_cpu_us": hooks_cpu_us()} if side is not None else {}),
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
    for against in (BARE, NO_KEY):
        for kind in KINDS:
            if against not in side[kind]:
                continue
            hooks, bare = side[kind][HOOKS], side[kind][against]
            d_seq = hooks["seq_p50"] - bare["seq_p50"]
            loss = 1 - hooks["par_rps"] / bare["par_rps"]
            met: Any = ""
            target = "(information)"
            if against == BARE:
                met = d_seq <= TARGET_P50_MS and loss <= TARGET_THROUGHPUT_LOSS
                all_met = all_met and met
                target = f"<= {TARGET_P50_MS:g} ms p50, <= {TARGET_THROUGHPUT_LOSS:.0%} throughput"
            rows.append(
                [
                    f"{kind}: hooks - {against}",
                    f"{d_seq:+.2f}",
                    f"{hooks['par_p50'] - bare['par_p50']:+.1f}",
                    f"{-loss * 100:+.1f}%",
                    target,
                    met,
                ]
            )
    diff = common.table(
        [
            "difference",
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
    n: int = 200, workers: tuple[int, ...] = (1, 2), write_doc: bool = True, rounds: int = 10
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
            cpu = r["hooks_cpu_us"]
            cpu_line = (
                f"The hooks' own work per call, in-process (`hooks_cpu_us`: no network, no "
                f"LiteLLM, so none of the machine's noise): the gate {cpu['gate']:.0f} µs "
                f"(every check, embeddings body, gateway key), the usage line "
                f"{cpu['usage']:.0f} µs."
            )
            print(figures)
            print(diff)
            print(cpu_line)
            side_text = f"""### aigw's hooks against the same LiteLLM without them

The same LiteLLM, the same rendered prod config, 1 worker each: "{HOOKS}" as shipped (the
guard's gate and `custom_auth`, the usage callback); "{BARE}" without them (no `custom_auth`, no
usage callback, LiteLLM's own `master_key` set to the gateway key, so a key is still checked);
"{NO_KEY}" also without `master_key` (LiteLLM checks no key: its floor, for information).
All three run at once and are called interleaved, so a change in the machine's load hits each
alike: {max(1, n // 2)} sequential calls per kind and variant, one call of each variant in turn;
then {rounds} bursts per kind and variant of {max(CONCURRENCY, 2 * n // max(1, rounds))} calls
from {CONCURRENCY} threads (new connections, one warm-up call each), one variant's burst after
the other's; the order rotates every turn. req/s is calls over summed wall time.
Target (issue 22): against "{BARE}", the hooks add at most {TARGET_P50_MS:g} ms at p50 and take
at most {TARGET_THROUGHPUT_LOSS:.0%} of the throughput (req/s: + is faster).
{"All met." if met else "NOT all met."} On a shared 2-CPU machine the differences swing by a few
ms at p50 and about 15% in req/s from one run to the next, either way; the in-process figures
below the tables are the hooks' own cost.

{figures}

{diff}

{cpu_line}
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
        default=10,
        help="x8 bursts per variant in the side-by-side comparison with a bare LiteLLM (0: none)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    run(args.requests, tuple(args.workers), write_doc=not args.no_doc, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
