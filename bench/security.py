"""Probe the gateway as a hostile client and write the figures into docs/reliability.md.

    .venv/bin/python bench/security.py [--rounds 3] [--calls 200]
    .venv/bin/python bench/security.py --only abuse [--column before|after] [--doc PATH]

Runs the real LiteLLM with the rendered dev config (and aigw's guard) in front of the Azure
OpenAI emulator, with a canary server on 127.0.0.1 standing for an attacker's:

- every S1 variant of tests/attacks.py, `--rounds` times: refused (4xx) or not, requests the
  canary received, how many of them carried the Azure OpenAI key;
- the smoke test's surface scan: paths that answer anything but 404;
- hostile environment files (a FIFO, /dev/zero, 1 GiB, an alias bomb, a symlink out of the
  folder): refused, how fast, how much memory;
- the guard's cost: embeddings latency through the gateway with the guard and with LiteLLM's
  own master-key check only (`--calls` sequential calls each);
- abuse (section `security-abuse`): three 100 MB bodies with no key at once, one with a valid
  key, 300 connections holding a partial body, `os.environ/<gateway key variable>` in a
  request's `instructions`: the LiteLLM process's peak RSS and the p50 latency of a
  well-behaved client ("bob", sequential small embeddings) while each runs, each on a fresh
  gateway. Its table has a `before` and an `after` column: `--column` says which one this run
  fills (the other is kept from the doc).

Rewrites only its own sections of docs/reliability.md (`--doc`: another file, e.g. the main
worktree's when the bench runs from a worktree of an older commit). Everything talks only to
127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import select
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import common

sys.path.insert(0, str(common.REPO / "tests"))

DOC = common.REPO / "docs" / "reliability.md"


# Planted in LiteLLM's environment on purpose (production has no such variable since the key
# became a file mounted beside the guard): the leak scenario proves that no request can name it.
PLANTED_GATEWAY_KEY_VAR = "LITELLM_GATEWAY_KEY"


def _gateway(workdir: Path, aoai_url: str, *, guard: bool) -> Any:
    """The dev config's gateway, the gateway key mounted beside the guard as in the container
    and also planted in the environment (see PLANTED_GATEWAY_KEY_VAR). Without the guard, the
    comparison gateway checks LiteLLM's own master key."""
    from aigw.config.load import load_env
    from aigw.gateway import venv as litellm_env
    from aigw.gateway.process import start_gateway
    from aigw.gateway.render import AZURE_OPENAI_KEY_VAR, GUARD_HOOK, render_gateway, write_files

    cfg = common.key_mode(load_env("dev", common.ENV_DIR).config).with_endpoint(aoai_url)
    rendered = render_gateway(cfg)
    args = write_files(rendered, workdir / "files", gateway_key=common.GATEWAY_KEY)
    config = Path(args[args.index("--config") + 1])
    key_var = PLANTED_GATEWAY_KEY_VAR
    if not guard:
        text = config.read_text().replace(f"  custom_auth: {GUARD_HOOK}\n", "")
        text = text.replace(
            "general_settings:\n", f"general_settings:\n  master_key: os.environ/{key_var}\n"
        )
        config.write_text(text)
    environ = {
        **rendered.env,
        key_var: common.GATEWAY_KEY,
        AZURE_OPENAI_KEY_VAR: common.AOAI_KEY,
    }
    env = litellm_env.ensure(litellm_env.litellm_version_from_image(cfg.gateway.image))
    return cfg, start_gateway(env, args, environ, port=None, workdir=workdir, startup_timeout=120)


def _latencies(urls: dict[str, str], embed: str, calls: int) -> dict[str, list[float]]:
    """Sequential embeddings calls, alternating between the gateways so that both see the same
    machine load."""
    import httpx

    headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
    clients = {
        name: httpx.Client(base_url=url, headers=headers, timeout=60, trust_env=False)
        for name, url in urls.items()
    }
    out: dict[str, list[float]] = {name: [] for name in urls}
    try:
        for i in range(calls + 10):  # the first 10 of each warm up
            for name, c in clients.items():
                t = time.perf_counter()
                r = c.post("/v1/embeddings", json={"model": embed, "input": "aigw bench"})
                if i >= 10:
                    out[name].append(time.perf_counter() - t)
                r.raise_for_status()
    finally:
        for c in clients.values():
            c.close()
    return out


def _attacks(url: str, canary: Any, embed: str, codex: str, rounds: int) -> list[tuple]:
    import httpx

    import attacks

    rows = []
    headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30, trust_env=False) as c:
        for name, call in attacks.requests(embed, codex, canary.url).items():
            before = len(canary.received)
            statuses = [call(c).status_code for _ in range(rounds)]
            got = canary.received[before:]
            rows.append(
                (
                    name,
                    sum(400 <= s < 500 for s in statuses),
                    rounds,
                    len(got),
                    sum(common.AOAI_KEY.encode() in g for g in got),
                )
            )
    return rows


def run(rounds: int, calls: int) -> dict[str, Any]:
    import httpx

    import attacks
    from aigw.config.load import load_env
    from aigw.gateway import surface
    from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

    cfg = common.key_mode(load_env("dev", common.ENV_DIR).config)
    embed = next(m.alias for m in cfg.models if m.kind.value == "embeddings")
    codex = next(m.alias for m in cfg.models if m.kind.value == "responses")
    result: dict[str, Any] = {"rounds": rounds, "calls": calls}
    with tempfile.TemporaryDirectory(prefix="aigw-sec-") as tmp:
        aoai = AzureOpenAIEmulator(api_key=common.AOAI_KEY).start()
        aoai.set_deployments(
            [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in cfg.models]
        )
        canary = attacks.Canary().start()
        gateways = {}
        try:
            for guard in (True, False):
                gateways[guard] = _gateway(Path(tmp) / f"gw-{guard}", aoai.url, guard=guard)[1]
            url = gateways[True].url
            result["attacks"] = _attacks(url, canary, embed, codex, rounds)
            headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
            with (
                httpx.Client(base_url=url, timeout=30, trust_env=False) as anon,
                httpx.Client(base_url=url, headers=headers, timeout=30, trust_env=False) as c,
            ):
                result["surface"] = surface.surface_check(anon, c)
            lat = _latencies({"guard": url, "plain": gateways[False].url}, embed, calls)
            result["latency_guard"], result["latency_plain"] = lat["guard"], lat["plain"]
        finally:
            for gw in gateways.values():
                gw.stop()
            canary.close()
            aoai.stop()
    return result


def hostile_inputs() -> list[tuple[str, str, float, int, str]]:
    """Issue 17 R6 and S6: what the config loader does with hostile files, each in a child with
    2 GiB of address space: (case, refused?, seconds, max RSS MiB, the line it printed)."""
    import shutil

    from reliability.bad_inputs import VALID
    from reliability.hostile import hostile_folder, mapping_bomb, probe

    rows = []
    with tempfile.TemporaryDirectory(prefix="aigw-hostile-") as tmp:
        d = Path(tmp) / "environments"
        d.mkdir()
        for f in common.ENV_DIR.glob("*.yaml"):
            shutil.copy(f, d / f.name)
        hostile_folder(d)
        (d / "bombbase.yaml").write_text("abstract: true\n" + mapping_bomb(8) + VALID)
        (d / "bomb.yaml").write_text("extends: bombbase.yaml\n" + mapping_bomb(8))
        outside = Path(tmp) / "secret-base.yaml"
        outside.write_text("project: leaked-value-0d9e\n")
        (d / "outside-link.yaml").symlink_to(outside)
        (d / "outside.yaml").write_text("extends: outside-link.yaml\n")
        cases = [
            ("listing environments next to a FIFO, /dev/zero and a 1 GiB file", "nope"),
            ("a FIFO as the environment file", "fifo"),
            ("a symlink to /dev/zero as the environment file", "zero"),
            ("a 1 GiB environment file", "huge"),
            ("an alias bomb (9^8 values) merged through extends", "bomb"),
            ("extends through a symlink out of the folder", "outside"),
        ]
        for name, env in cases:
            seconds, rss, line = probe(env, d)
            refused = line != "ACCEPTED" and "leaked-value" not in line
            line = line.replace(f"{d}/", "environments/")
            rows.append((name, "yes" if refused else "NO", seconds, rss, line[:100]))
    return rows


# ------------------------------------------------------------------------------------ abuse
ABUSE_SECTION = "security-abuse"
BIG_BODY = 100 * 2**20  # bytes in each abusive body
BIG_BODIES_NO_KEY = 3
IDLE_CONNECTIONS = 300
IDLE_CLAIMED = 2**20  # the Content-Length each idle connection announces ...
IDLE_SENT = 100  # ... and the bytes of body it sends before it holds still
HOLD_SECONDS = 20.0  # how long the idle connections are held
ANSWER_TIMEOUT = 120.0  # the longest an abusive request is waited for
BOB_BASELINE_CALLS = 30
BOB_MAX_CALLS = 5000
BOB_TIMEOUT = 30.0
SAMPLE_EVERY = 0.05


def _proc_tree(root: int) -> list[int]:
    """`root` and its descendants (LiteLLM may run workers as children)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    out: list[int] = []
    todo = [root]
    while todo and len(out) < 1000:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class RssSampler:
    """The peak RSS of a process tree while it runs: VmRSS summed over the tree every 50 ms,
    and the main process's VmHWM (reset at the start through /proc/<pid>/clear_refs)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self.start_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sum(self) -> int:
        return sum(_status_kib(p, "VmRSS") for p in _proc_tree(self.pid))

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self.peak_kib = max(self.peak_kib, self._sum())

    def __enter__(self) -> RssSampler:
        with suppress(OSError):  # resets VmHWM to the current RSS (Linux >= 4.0)
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.start_kib = self.peak_kib = self._sum()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        hwm = _status_kib(self.pid, "VmHWM")
        others = sum(_status_kib(p, "VmRSS") for p in _proc_tree(self.pid) if p != self.pid)
        self.peak_kib = max(self.peak_kib, hwm + others, self._sum())


class Bob:
    """A well-behaved client: sequential small embeddings calls with the gateway key, until
    stopped, BOB_MAX_CALLS calls or `deadline` seconds. Latencies of the answered calls (2xx)."""

    def __init__(self, url: str, embed: str, deadline: float) -> None:
        self.url, self.embed, self.deadline = url, embed, deadline
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def calls(self, n: int) -> None:
        """`n` calls in this thread (the baseline, before any abuse)."""
        import httpx

        with self._client() as c:
            for _ in range(n):
                self._call(c, httpx)

    def _client(self) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
        return httpx.Client(
            base_url=self.url, headers=headers, timeout=BOB_TIMEOUT, trust_env=False
        )

    def _call(self, c: Any, httpx: Any) -> None:
        t = time.perf_counter()
        try:
            r = c.post("/v1/embeddings", json={"model": self.embed, "input": "bob says hi"})
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            self.latencies.append(time.perf_counter() - t)
        else:
            self.failures += 1

    def _run(self) -> None:
        import httpx

        end = time.monotonic() + self.deadline
        with self._client() as c:
            for _ in range(BOB_MAX_CALLS):
                if self._stop.is_set() or time.monotonic() > end:
                    break
                self._call(c, httpx)

    def __enter__(self) -> Bob:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=BOB_TIMEOUT + 5)


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    assert host == "127.0.0.1", url  # the bench talks only to this machine
    return host, int(port.rstrip("/"))


def _request_head(path: str, length: int, key: str | None) -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _status_of(data: bytes) -> int | None:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def _big_post(url: str, path: str, body: bytes, key: str | None) -> dict[str, Any]:
    """POST `body` in 1 MiB pieces on a raw socket, watching for an early answer (a gateway
    may refuse before reading it all): status, MiB sent, seconds until the answer."""
    sock = socket.create_connection(_host_port(url), timeout=10)
    t = time.monotonic()
    sent, answer, error = 0, b"", ""
    view = memoryview(body)
    try:
        sock.sendall(_request_head(path, len(body), key))
        sock.settimeout(ANSWER_TIMEOUT)
        while sent < len(body) and time.monotonic() - t < ANSWER_TIMEOUT:
            if select.select([sock], [], [], 0)[0]:
                break  # answered (or closed) before the whole body
            sent += sock.send(view[sent : sent + 2**20])
        end = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < end and len(answer) < 65536:
            remaining = max(0.1, end - time.monotonic())
            if not select.select([sock], [], [], remaining)[0]:
                break
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError as e:
        error = type(e).__name__
        with suppress(OSError):
            answer += sock.recv(65536)
    finally:
        sock.close()
    status = _status_of(answer)
    return {
        "status": status if status is not None else (error or "no answer"),
        "mib_sent": sent / 2**20,
        "seconds": time.monotonic() - t,
    }


def _big_body(embed: str) -> bytes:
    head = b'{"model": "' + embed.encode() + b'", "input": "'
    return head + b"a" * (BIG_BODY - len(head) - 2) + b'"}'


def _abuse_big_no_key(url: str, embed: str) -> dict[str, Any]:
    body = _big_body(embed)
    results: list[dict[str, Any]] = [{} for _ in range(BIG_BODIES_NO_KEY)]

    def one(i: int) -> None:
        results[i] = _big_post(url, "/v1/embeddings", body, None)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(BIG_BODIES_NO_KEY)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=2 * ANSWER_TIMEOUT + 30)
    return {
        "answers": ", ".join(str(r.get("status", "no answer")) for r in results),
        "mib_sent": max(r.get("mib_sent", 0.0) for r in results),
        "seconds": max(r.get("seconds", 0.0) for r in results),
    }


def _abuse_big_with_key(url: str, embed: str) -> dict[str, Any]:
    r = _big_post(url, "/v1/embeddings", _big_body(embed), common.GATEWAY_KEY)
    return {"answers": str(r["status"]), "mib_sent": r["mib_sent"], "seconds": r["seconds"]}


def _abuse_idle(url: str, embed: str, key: str | None = None) -> dict[str, Any]:
    """IDLE_CONNECTIONS connections, each with its headers and IDLE_SENT bytes of an announced
    IDLE_CLAIMED, held HOLD_SECONDS: how many the gateway closed or answered meanwhile."""
    partial = (b'{"model": "' + embed.encode() + b'", "input": "' + b"a" * IDLE_SENT)[:IDLE_SENT]
    socks: list[socket.socket] = []
    refused = 0
    t = time.monotonic()
    try:
        for _ in range(IDLE_CONNECTIONS):
            try:
                s = socket.create_connection(_host_port(url), timeout=5)
                s.sendall(_request_head("/v1/embeddings", IDLE_CLAIMED, key) + partial)
                socks.append(s)
            except OSError:
                refused += 1
        opened = time.monotonic() - t
        ended: set[int] = set()
        answers: list[int | None] = []
        end = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < end and len(ended) < len(socks):
            live = [s for i, s in enumerate(socks) if i not in ended]
            ready = select.select(live, [], [], min(1.0, max(0.0, end - time.monotonic())))[0]
            for s in ready:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                ended.add(socks.index(s))
                answers.append(_status_of(data))
        codes = sorted({str(a) for a in answers if a is not None})
        return {
            "answers": (
                f"{len(ended)} of {len(socks)} closed or answered in {HOLD_SECONDS:.0f} s"
                + (f" ({', '.join(codes)})" if codes else "")
                + (f"; {refused} connections refused" if refused else "")
            ),
            "held": len(socks) - len(ended),
            "seconds": opened,
        }
    finally:
        for s in socks:
            s.close()


class _UpstreamBodies:
    """Counts, while active, the Azure OpenAI emulator's request bodies holding a secret."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = {name: value.encode() for name, value in secrets.items()}
        self.hits: dict[str, int] = dict.fromkeys(secrets, 0)

    @contextmanager
    def watching(self) -> Iterator[_UpstreamBodies]:
        from aigw_localcloud.openai import aoai

        original = aoai._Handler._read_body
        watcher = self

        def read_body(handler: Any) -> bytes:
            raw: bytes = original(handler)
            for name, value in watcher.secrets.items():
                watcher.hits[name] += value in raw
            return raw

        setattr(aoai._Handler, "_read_body", read_body)  # noqa: B010 (a method, patched)
        try:
            yield self
        finally:
            setattr(aoai._Handler, "_read_body", original)  # noqa: B010


def _abuse_env_leak(url: str, codex: str) -> dict[str, Any]:
    """`os.environ/<gateway key variable>` (and the Azure OpenAI key's) in a request with the
    gateway key: does the answer, or the request upstream, hold the key's value?"""
    import httpx

    from aigw.gateway.render import AZURE_OPENAI_KEY_VAR

    gw_env, aoai_env = f"os.environ/{PLANTED_GATEWAY_KEY_VAR}", f"os.environ/{AZURE_OPENAI_KEY_VAR}"
    variants = {
        "instructions": {"model": codex, "input": "hi", "instructions": gw_env},
        "input (echoed)": {"model": codex, "input": gw_env},
        "instructions, AOAI key": {"model": codex, "input": "hi", "instructions": aoai_env},
    }
    secrets = {"gateway": common.GATEWAY_KEY, "aoai": common.AOAI_KEY}
    out: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60, trust_env=False) as c:
        for name, body in variants.items():
            watch = _UpstreamBodies(secrets)
            with watch.watching():
                try:
                    r = c.post("/v1/responses", json=body)
                    status, text = str(r.status_code), r.text
                except httpx.HTTPError as e:
                    status, text = type(e).__name__, ""
            secret = "aoai" if "AOAI" in name else "gateway"
            out[name] = {
                "status": status,
                "in_answer": "LEAKED" if secrets[secret] in text else "no",
                "upstream": "yes" if watch.hits[secret] else "no",
            }
    first = out["instructions"]
    return {
        "answers": "; ".join(f"{k}: {v['status']}" for k, v in out.items()),
        "leak": "yes" if first["in_answer"] != "no" else "no",
        "variants": out,
    }


def _abuse_scenarios(embed: str, codex: str) -> list[tuple[str, Callable[[str], dict[str, Any]]]]:
    return [
        (
            f"{BIG_BODIES_NO_KEY} x 100 MiB body, no key, at once",
            lambda url: _abuse_big_no_key(url, embed),
        ),
        ("1 x 100 MiB body, valid key", lambda url: _abuse_big_with_key(url, embed)),
        (
            f"{IDLE_CONNECTIONS} connections holding a partial body",
            lambda url: _abuse_idle(url, embed),
        ),
        (
            f"{IDLE_CONNECTIONS} connections holding a partial body, valid key",
            lambda url: _abuse_idle(url, embed, common.GATEWAY_KEY),
        ),
        (
            "gateway key variable (os.environ/) in instructions",
            lambda url: _abuse_env_leak(url, codex),
        ),
    ]


def run_abuse(only: str | None = None) -> dict[str, Any]:
    """Each scenario on a fresh gateway (with the guard): bob's baseline, then the abuse with
    bob calling and the RSS sampled, then whether the gateway still answers."""
    from aigw.config.load import load_env
    from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

    cfg = common.key_mode(load_env("dev", common.ENV_DIR).config)
    embed = next(m.alias for m in cfg.models if m.kind.value == "embeddings")
    codex = next(m.alias for m in cfg.models if m.kind.value == "responses")
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aigw-abuse-") as tmp:
        aoai = AzureOpenAIEmulator(api_key=common.AOAI_KEY).start()
        try:
            aoai.set_deployments(
                [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in cfg.models]
            )
            for i, (name, attack) in enumerate(_abuse_scenarios(embed, codex)):
                if only and only not in name:
                    continue
                print(f"abuse: {name}", flush=True)
                gw = _gateway(Path(tmp) / f"abuse-{i}", aoai.url, guard=True)[1]
                try:
                    baseline = Bob(gw.url, embed, deadline=120)
                    baseline.calls(5)  # warm-up
                    baseline.latencies, baseline.failures = [], 0
                    baseline.calls(BOB_BASELINE_CALLS)
                    deadline = 2 * ANSWER_TIMEOUT + HOLD_SECONDS + 60
                    with RssSampler(gw.pid) as rss, Bob(gw.url, embed, deadline) as bob:
                        detail = attack(gw.url)
                    after = Bob(gw.url, embed, deadline=60)
                    after.calls(3)
                    out[name] = {
                        **detail,
                        "rss_start_mib": rss.start_kib / 1024,
                        "rss_peak_mib": rss.peak_kib / 1024,
                        "bob_idle_p50_ms": common.percentile(baseline.latencies, 50) * 1000,
                        "bob_p50_ms": common.percentile(bob.latencies, 50) * 1000,
                        "bob_max_ms": max(bob.latencies, default=float("nan")) * 1000,
                        "bob_calls": len(bob.latencies),
                        "bob_failed": bob.failures,
                        "alive": gw.running and len(after.latencies) == 3,
                    }
                    print(f"  {json.dumps(out[name], default=str)}", flush=True)
                finally:
                    gw.stop()
        finally:
            aoai.stop()
    return out


ABUSE_MEASURES: list[tuple[str, str]] = [
    ("answers", "answers (HTTP status)"),
    ("mib_sent", "MiB of the body sent before the answer"),
    ("seconds", "seconds until answered (idle: to open all)"),
    ("held", "connections still held open at the end"),
    ("leak", "gateway key in the answer"),
    ("rss_start_mib", "LiteLLM RSS before (MiB)"),
    ("rss_peak_mib", "LiteLLM peak RSS during (MiB)"),
    ("bob_idle_p50_ms", "bob p50 alone (ms)"),
    ("bob_p50_ms", "bob p50 during (ms)"),
    ("bob_max_ms", "bob slowest call during (ms)"),
    ("bob_calls", "bob calls answered during"),
    ("bob_failed", "bob calls failed or timed out during"),
    ("alive", "gateway answers afterwards"),
]
_FIGURES = re.compile(r"<!-- abuse-figures: (\{.*?\}) -->", re.S)


def _abuse_rows(figures: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    names = list(dict.fromkeys([*figures.get("before", {}), *figures.get("after", {})]))
    rows = []
    for name in names:
        for key, label in ABUSE_MEASURES:
            cells = []
            for column in ("before", "after"):
                value = figures.get(column, {}).get(name, {}).get(key)
                if isinstance(value, float) and math.isnan(value):
                    cells.append("none: over before bob's next call")
                else:
                    cells.append("" if value is None else common.fmt(value))
            if any(cells):
                rows.append((name, label, *cells))
    return rows


def abuse_section(figures: dict[str, Any], machine: dict[str, str]) -> str:
    leaks = [
        (column, variant, v["status"], v["in_answer"], v["upstream"])
        for column in ("before", "after")
        for r in figures.get(column, {}).values()
        for variant, v in r.get("variants", {}).items()
    ]
    runs = "; ".join(f"{c}: {m}" for c, m in machine.items())
    return "\n\n".join(
        [
            "Generated by `python bench/security.py --only abuse --column before|after` (do not "
            "edit by hand). Each scenario runs on a fresh gateway (the dev config with the guard, "
            "the real LiteLLM, the Azure OpenAI emulator); LiteLLM's RSS is sampled every 50 ms "
            "over its process tree (and its VmHWM, reset first), bob makes sequential small "
            "embeddings calls with the gateway key: alone first "
            f"({BOB_BASELINE_CALLS} calls), then for as long as the abuse lasts. The idle "
            f"connections announce {IDLE_CLAIMED} bytes, send {IDLE_SENT} and are held "
            f"{HOLD_SECONDS:.0f} s. Runs: {runs}.",
            "The machine has 2 cores shared with the bench itself (the abusive clients, bob and "
            "the emulator run in the bench's process) and with other engineers' test runs: take "
            "the p50 figures as an order of magnitude, compare RSS, answers and leaks exactly.",
            common.table(["scenario", "measure", "before", "after"], _abuse_rows(figures)),
            "`os.environ/...` variants (status; the key's value in the answer; in the request "
            "sent upstream):",
            common.table(["run", "variant", "status", "in the answer", "sent upstream"], leaks),
            f"<!-- abuse-figures: {json.dumps({'figures': figures, 'machine': machine})} -->",
        ]
    )


def write_abuse(result: dict[str, Any], column: str, doc: Path) -> None:
    """Fill `column` of the abuse section, keeping the other column's figures from `doc`."""
    figures: dict[str, Any] = {}
    machine: dict[str, str] = {}
    if doc.exists():
        m = _FIGURES.search(doc.read_text())
        if m:
            kept = json.loads(m.group(1))
            figures, machine = kept.get("figures", {}), kept.get("machine", {})
    figures[column] = {**figures.get(column, {}), **result}  # --scenario: the others kept
    machine[column] = f"{_commit()} on {common.machine()}"
    common.write_section(
        ABUSE_SECTION,
        "Abuse: big bodies, slow clients, os.environ",
        abuse_section(figures, machine),
        doc=doc,
    )


def _commit() -> str:
    import subprocess

    r = subprocess.run(
        ["git", "-C", str(common.REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(common.REPO), "status", "--porcelain", "--untracked-files=no", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"commit {r.stdout.strip() or '?'}{' + uncommitted src changes' if dirty else ''}"


def section(r: dict[str, Any]) -> str:
    rows = r["attacks"]
    surface = r["surface"]
    g, p = r["latency_guard"], r["latency_plain"]
    lat = [
        (
            name,
            common.percentile(v, 50) * 1000,
            common.percentile(v, 95) * 1000,
        )
        for name, v in (("guard (allow-list gate)", g), ("master key only (LiteLLM)", p))
    ]
    refused = sum(x[1] for x in rows)
    total = sum(x[2] for x in rows)
    return "\n\n".join(
        [
            f"Generated by `python bench/security.py --rounds {r['rounds']} --calls {r['calls']}`"
            f" on {common.machine()} (do not edit by hand). Design: `docs/security.md`.",
            "A client holding the gateway key tries to make the gateway send a request (and the "
            "Azure OpenAI key, through `os.environ/...`) to a canary server on 127.0.0.1 "
            "(issue 17, S1). Before the guard, 8 of these requests reached the canary, each "
            "carrying the Azure OpenAI key.",
            common.table(
                ["variant", "refused (4xx)", "tries", "requests at the canary", "with the key"],
                rows,
            ),
            f"{refused} of {total} tries refused; requests at the canary: "
            f"{sum(x[3] for x in rows)}.",
            f"Surface scan (the smoke test's, issue 17 S2): {surface.details}"
            f" ({'pass' if surface.ok else 'FAIL'}).",
            "Hostile environment files (issue 17 R6, S6), each loaded in a child process with "
            "2 GiB of address space. Before the fix: a FIFO hung the listing, a symlink to "
            "/dev/zero grew the process to 22.7 GB, a 1 GiB sibling cost 2.1 GB, an alias bomb "
            "of depth 8 took 24 s and 3.1 GB.",
            common.table(
                ["input", "refused", "seconds", "max RSS (MiB)", "what aigw said"],
                r["hostile"],
            ),
            f"What the guard costs ({r['calls']} sequential embeddings calls each, alternating "
            "between the two gateways so that both see the same machine load; ms):",
            common.table(["gateway", "p50", "p95"], lat),
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument(
        "--only", choices=["abuse"], help="Run only the abuse scenarios (section security-abuse)."
    )
    ap.add_argument(
        "--column",
        choices=["before", "after"],
        default="after",
        help="The abuse table's column this run fills (the other is kept).",
    )
    ap.add_argument("--scenario", help="Only the abuse scenarios whose name holds this text.")
    ap.add_argument("--doc", type=Path, default=DOC, help="The Markdown file to write.")
    args = ap.parse_args()
    t = time.perf_counter()
    ok = True
    if args.only != "abuse":
        r = run(args.rounds, args.calls)
        r["hostile"] = hostile_inputs()
        common.write_section("security", "Security probes", section(r), doc=args.doc)
        ok = r["surface"].ok and all(x[1] == x[2] and x[3] == 0 for x in r["attacks"])
        ok = ok and all(row[1] == "yes" for row in r["hostile"])
    abuse = run_abuse(args.scenario)
    write_abuse(abuse, args.column, args.doc)
    leaked = any(r.get("leak") == "yes" for r in abuse.values())
    print(f"wrote {args.doc} in {time.perf_counter() - t:.0f} s; {'ok' if ok else 'FAILURES'}"
          f"{'; the gateway key LEAKED' if leaked else ''}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
