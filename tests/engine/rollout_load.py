"""Callers looping through the gateway's main URL while something else happens (a deploy),
counting every failed call; and the env-file edit the rollout tests make. Shared by
tests/engine/test_rollout_e2e.py and bench/rollout.py."""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx


def add_model(env_file: Path, alias: str, api_version: str, kind: str = "responses") -> None:
    """Append a responses model (served by the emulator's gpt-5.3-codex deployment) to an
    environment file that has no `models:` of its own (dev.yaml extends base.yaml's list)."""
    text = env_file.read_text()
    if "models:" not in text:
        text += (
            "\nmodels:\n"
            "  - {alias: gpt-5.3-codex, kind: responses, api_version: '2025-04-01-preview'}\n"
            "  - {alias: text-embedding-3-large, kind: embeddings, api_version: '2023-05-15',"
            " dimensions: 3072}\n"
        )
    text += (
        f"  - {{alias: {alias}, kind: {kind}, deployment: gpt-5.3-codex,"
        f" api_version: '{api_version}'}}\n"
    )
    env_file.write_text(text)


def gateway(url: str, key: str, ca: Path, model: str) -> int:
    """One Responses call through the gateway: its HTTP status."""
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=url, verify=verify, timeout=60, trust_env=False) as c:
        r = c.post(
            "/v1/responses",
            json={"model": model, "input": "ping"},
            headers={"Authorization": f"Bearer {key}"},
        )
    return r.status_code


class CallerLoop:
    """`callers` threads, each calling POST /v1/responses (model gpt-5.3-codex) in a loop on
    its own keep-alive connection until the block ends. A call fails on any transport error
    or any status but 200."""

    def __init__(self, url: str, key: str, ca: Path, *, callers: int = 4) -> None:
        self.url, self.key, self.ca, self.callers = url, key, ca, callers
        self.ok = 0
        self.failed = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _run(self) -> None:
        verify = ssl.create_default_context(cafile=str(self.ca))
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, verify=verify, timeout=60, trust_env=False) as c:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                try:
                    r = c.post(
                        "/v1/responses",
                        json={"model": "gpt-5.3-codex", "input": "ping"},
                        headers=headers,
                    )
                    error = None if r.status_code == 200 else f"HTTP {r.status_code}"
                except httpx.HTTPError as e:
                    error = f"{type(e).__name__}: {e}"
                with self._lock:
                    if error is None:
                        self.ok += 1
                        self.latencies.append(time.perf_counter() - t0)
                    else:
                        self.failed += 1
                        self.errors.append(error)

    def __enter__(self) -> CallerLoop:
        for _ in range(self.callers):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        time.sleep(1.0)  # a moment on the new routes, too
        self._stop.set()
        for t in self._threads:
            t.join(timeout=70)


def pin_codex_deployment(state_dir: Path) -> None:
    """The account's deployments as on Azure, fixed: the codex one serves only the Responses
    API (without this, the local cloud seeds deployments from the YAML, chat included)."""
    import httpx

    port = (state_dir / "aoai.port").read_text().strip()
    deployments = [
        {"name": "gpt-5.3-codex", "kind": "responses"},
        {"name": "text-embedding-3-large", "kind": "embeddings", "dimensions": 3072},
    ]
    r = httpx.put(
        f"http://127.0.0.1:{port}/_aigw/deployments",
        json={"deployments": deployments},
        trust_env=False,
    )
    r.raise_for_status()
