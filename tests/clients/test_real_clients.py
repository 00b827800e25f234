"""The real coding clients through a real gateway (issue 24): Codex CLI (`codex exec`) and
Continue CLI (`cn -p`), installed from clients/package-lock.json, each configured with exactly
what `aigw client-config --env dev --cloud local --client <c> -o json` prints (written into a
temporary HOME) and the CA exports of `aigw localcloud env`, run non-interactively against ONE
gateway deployed on the local cloud (real LiteLLM, the Azure OpenAI emulator). The emulator is
scripted (PUT /_aigw/script) to call three safe tools in a row (shell `echo`/`cat`, or
Continue's List/Read) in a temporary workspace, then to answer quoting the last tool result.

Each session must exit 0 with at least three tool calls (the client's own record and the
emulator's journal) and the final answer; no canary secret may appear in the client's output or
in any file it wrote; nothing may leave 127.0.0.1 (an egress sink as HTTP(S)_PROXY, and for the
Continue CLI a fetch guard, record anything else).

Telemetry and update checks are off by the clients' own settings, given on the command line so
the config files stay exactly as aigw prints them: Codex `-c analytics.enabled=false -c
check_for_update_on_startup=false -c feedback.enabled=false --disable plugins` (without the
last, codex 0.169.0 resolves github.com, api.github.com and chatgpt.com: the curated plugins
clone); Continue `CONTINUE_METRICS_ENABLED=0` (src/telemetry/telemetryService.ts; its update
check is skipped in headless mode, src/services/UpdateService.ts), but its version lookup
(src/version.ts) cannot be turned off: loopback_fetch.cjs refuses it and the test pins it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients_support import CODEX_OFF, EgressSink, client_bin
from engine.harness import cli_environ
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO, world_accounts

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

LOCAL = ("--env", "dev", "--cloud", "local")
MODEL = "gpt-5.3-codex"
CANARIES = (GATEWAY_KEY_CANARY, AOAI_KEY_CANARY)
LOOPBACK_FETCH = Path(__file__).with_name("loopback_fetch.cjs")
SESSION_TIMEOUT = 300


class GatewayRefusedClient(AssertionError):
    """The gateway refused a request the real client sent (the strict xfail's exact reason)."""


@dataclass
class Gateway:
    root: Path
    env: dict[str, str]
    aoai_url: str  # the Azure OpenAI emulator behind the gateway (its admin API)
    ca_env: dict[str, str]  # what `aigw localcloud env` exports

    def aigw(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO,
            timeout=timeout,
        )
        for text in (r.stdout, r.stderr):
            assert not any(c in text for c in CANARIES), (args, text)
        return r

    def client_config(self, client: str) -> dict[str, Any]:
        r = self.aigw("client-config", *LOCAL, "--client", client, "-o", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        data: dict[str, Any] = json.loads(r.stdout)
        return data

    def script(self, tool_calls: list[dict[str, Any]]) -> None:
        r = httpx.put(
            self.aoai_url + "/_aigw/script", json={"tool_calls": tool_calls}, trust_env=False
        )
        assert r.status_code == 200, f"PUT /_aigw/script: {r.status_code} {r.text}"

    def journal(self) -> list[dict[str, Any]]:
        r = httpx.get(self.aoai_url + "/_aigw/journal", trust_env=False)
        r.raise_for_status()
        entries: list[dict[str, Any]] = r.json()["entries"]
        return entries


def _exports(text: str) -> dict[str, str]:
    """`export NAME=value` lines, as a shell would read them (eval "$(aigw localcloud env)")."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            out[name] = shlex.split(value)[0] if value else ""
    return out


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("clients")
    gw = Gateway(root=root, env=cli_environ(root), aoai_url="", ca_env={})
    try:
        r = gw.aigw("deploy", *LOCAL, "--yes", "-o", "json", timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        account = world_accounts()[0].name
        url = daemon.openai_account_url(root / "localcloud", account)
        assert url, f"no emulator for the world's account {account}"
        gw.aoai_url = url
        r = gw.aigw("localcloud", "env")
        assert r.returncode == 0, r.stderr
        gw.ca_env = _exports(r.stdout)
        yield gw
    finally:
        daemon.stop(root / "localcloud")


@pytest.fixture
def sink() -> Iterator[EgressSink]:
    s = EgressSink().start()
    try:
        yield s
    finally:
        s.stop()


def _home_path(home: Path, printed: str) -> Path:
    assert printed.startswith("~/"), printed
    return home / printed[2:]


def _write_config(home: Path, data: dict[str, Any]) -> Path:
    """The client's config file, exactly the text aigw printed, where aigw says it goes."""
    path = _home_path(home, data["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data["text"], encoding="utf-8")
    return path


def _client_env(gw: Gateway, home: Path, sink: EgressSink, **extra: str) -> dict[str, str]:
    """A clean environment: no inherited credentials, proxies or CI variables."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        **gw.ca_env,
        **sink.environ(),
        **extra,
    }
    return env


def _no_canary_in_files(root: Path, skip: set[Path]) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path not in skip and not path.is_symlink():
            data = path.read_bytes()
            for canary in CANARIES:
                assert canary.encode() not in data, f"canary in {path}"


def _responses_calls(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if (e.get("operation"), e.get("deployment")) == ("responses", MODEL)]


# --- Codex CLI -------------------------------------------------------------------------------


def test_codex_exec_three_tool_calls(gateway: Gateway, sink: EgressSink, tmp_path: Path) -> None:
    codex = client_bin("codex", "@openai/codex")
    data = gateway.client_config("codex")
    assert data["path"] == "~/.codex/config.toml" and data["format"] == "toml"
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("aigw-codex-marker-51c7\n", encoding="utf-8")
    _write_config(home, data)
    gateway.script(
        [
            {"name": "exec_command", "arguments": {"cmd": "echo aigw-step-1"}},
            {"name": "exec_command", "arguments": {"cmd": "echo aigw-step-2"}},
            {"name": "exec_command", "arguments": {"cmd": "cat notes.txt"}},
        ]
    )
    # the key as the notes say: export <env_key>=<the gateway key> in codex's shell
    key_env = re.search(r'env_key = "([A-Za-z_0-9]+)"', data["text"])
    assert key_env, data["text"]
    env = _client_env(gateway, home, sink, **{key_env.group(1): GATEWAY_KEY_CANARY})
    mark = len(gateway.journal())
    r = subprocess.run(
        [
            str(codex),
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--ephemeral",
            "--sandbox",
            "read-only",  # echo and cat need nothing more
            "-C",
            str(work),
            *CODEX_OFF,
            "Run the three commands of this task, then report the last output.",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        stdin=subprocess.DEVNULL,
        timeout=SESSION_TIMEOUT,
    )
    for text in (r.stdout, r.stderr):
        assert not any(c in text for c in CANARIES), text
    events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    refused = [
        e["error"]["message"] for e in events if e.get("type") == "turn.failed" and "error" in e
    ]
    if r.returncode != 0 and refused:  # the turn ended on the gateway's 4xx answer
        raise GatewayRefusedClient(refused[0])
    assert r.returncode == 0, r.stdout + r.stderr
    done = [e["item"] for e in events if e.get("type") == "item.completed"]
    commands = [i for i in done if i.get("type") == "command_execution"]
    assert [c["exit_code"] for c in commands] == [0, 0, 0], commands
    assert "aigw-step-1" in commands[0]["aggregated_output"]
    answers = [i["text"] for i in done if i.get("type") == "agent_message"]
    assert answers and "aigw-codex-marker-51c7" in answers[-1], answers
    calls = _responses_calls(gateway.journal()[mark:])
    assert len(calls) >= 4 and all(c["status"] == 200 for c in calls), calls
    assert sink.seen == [], sink.seen
    _no_canary_in_files(tmp_path, skip=set())


# --- Continue CLI ----------------------------------------------------------------------------


def test_continue_cn_three_tool_calls(gateway: Gateway, sink: EgressSink, tmp_path: Path) -> None:
    cn = client_bin("cn", "@continuedev/cli")
    data = gateway.client_config("continue")
    assert data["path"] == "~/.continue/config.yaml" and data["format"] == "yaml"
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "first.txt").write_text("aigw-step-2\n", encoding="utf-8")
    (work / "second.txt").write_text("aigw-continue-marker-9e04\n", encoding="utf-8")
    config = _write_config(home, data)
    # the key where the notes say Continue reads secrets.<key_env>: ~/.continue/.env
    key_env = re.search(r"secrets\.([A-Za-z_0-9]+)", data["text"])
    assert key_env, data["text"]
    dotenv = config.parent / ".env"
    assert any("~/.continue/.env" in note for note in data["notes"]), data["notes"]
    dotenv.write_text(f"{key_env.group(1)}={GATEWAY_KEY_CANARY}\n", encoding="utf-8")
    gateway.script(
        [
            {"name": "List", "arguments": {"dirpath": "."}},
            {"name": "Read", "arguments": {"filepath": "first.txt"}},
            {"name": "Read", "arguments": {"filepath": "second.txt"}},
        ]
    )
    blocked = tmp_path / "blocked-fetch.txt"
    env = _client_env(
        gateway,
        home,
        sink,
        CONTINUE_METRICS_ENABLED="0",  # no OpenTelemetry metrics (telemetryService.ts)
        NODE_OPTIONS=f"--require {LOOPBACK_FETCH}",
        AIGW_TEST_BLOCKED_FETCH=str(blocked),
    )
    mark = len(gateway.journal())
    r = subprocess.run(
        [str(cn), "-p", "--readonly", "List the folder, read first.txt, then second.txt."],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        stdin=subprocess.DEVNULL,
        timeout=SESSION_TIMEOUT,
    )
    for text in (r.stdout, r.stderr):
        assert not any(c in text for c in CANARIES), text
    assert r.returncode == 0, r.stdout + r.stderr
    assert "aigw-continue-marker-9e04" in r.stdout, r.stdout + r.stderr
    # the client's own record of the session: ~/.continue/sessions/<id>.json
    sessions = [p for p in (config.parent / "sessions").glob("*.json") if p.stem != "sessions"]
    assert len(sessions) == 1, sessions
    history = json.loads(sessions[0].read_text(encoding="utf-8"))["history"]
    states = [s for h in history for s in h.get("toolCallStates") or []]
    assert [s["toolCall"]["function"]["name"] for s in states] == ["List", "Read", "Read"]
    assert [s["status"] for s in states] == ["done", "done", "done"], states
    calls = _responses_calls(gateway.journal()[mark:])
    assert len(calls) >= 4 and all(c["status"] == 200 for c in calls), calls
    assert sink.seen == [], sink.seen
    # Continue's unconditional version lookup (src/version.ts), refused by loopback_fetch.cjs
    attempted = blocked.read_text(encoding="utf-8").split() if blocked.exists() else []
    assert attempted == ["https://api.continue.dev/cn/info"], attempted
    _no_canary_in_files(tmp_path, skip={dotenv})
