"""A conversation survives a failover mid-session (issue 24): the primary upstream answers 429
from the second turn on, aigw's gateway (the real LiteLLM, its rendered config for two
upstreams, one Azure OpenAI emulator each) sends the rest to the second upstream, and every
turn succeeds without sending a resource state it cannot read.

- The real Codex CLI 0.169.0, configured with what `aigw client-config --url` prints, runs a
  three-tool session (store false, every input item with an id, as it sends them).
- The OpenAI Python SDK (a real client) carries a reasoning item's `encrypted_content` from the
  primary into the next turn, which the second upstream must serve: with aigw_responses.py it
  succeeds; without it (the control: the callback removed from the config) Azure's second
  resource answers 400 (`invalid_encrypted_content`, or the store-false item id).
Figures of the Codex session: bench/failover_sessions.py, docs/performance.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients_support import CODEX_OFF, EgressSink, client_bin
from failover_fixtures import (
    CODEX,
    GATEWAY_KEY,
    Gateway,
    failover_config,
    multi_gateway,
    without_responses_keeper,
)
from helpers import REPO

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

ENV_DIRS: dict[int, Path] = {}
SCRIPT = [
    {"name": "exec_command", "arguments": {"cmd": "echo aigw-fo-1"}},
    {"name": "exec_command", "arguments": {"cmd": "echo aigw-fo-2"}},
    {"name": "exec_command", "arguments": {"cmd": "cat notes.txt"}},
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("fo-sessions")
    with multi_gateway(failover_config(tmp, cooldown=30), tmp) as gw:
        ENV_DIRS[id(gw)] = tmp / "environments"  # failover_config wrote fo.yaml there
        yield gw


@pytest.fixture
def sink() -> Iterator[EgressSink]:
    s = EgressSink().start()
    try:
        yield s
    finally:
        s.stop()


def _reset(gw: Gateway, script: list[dict[str, Any]] | None) -> None:
    for name in gw.emulators:
        with gw.admin(name) as a:
            a.delete("/_aigw/faults")
            if script is None:
                a.delete("/_aigw/script")
            else:
                a.put("/_aigw/script", json={"tool_calls": script}).raise_for_status()
    gw.clear()


def _statuses(gw: Gateway, upstream: str) -> list[int]:
    return [e.status for e in gw.emulators[upstream].journal if e.operation == "responses"]


def run_codex_session(
    gw: Gateway, home: Path, work: Path, sink: EgressSink, *, fail_after: int | None
) -> dict[str, Any]:
    """One three-tool Codex session through `gw`; `fail_after`: the primary answers 429 after
    that many calls. Returns what happened (also the bench's figures)."""
    _reset(gw, SCRIPT)
    if fail_after is not None:
        with gw.admin("primary") as a:
            a.put("/_aigw/faults", json={"status": 429, "after": fail_after}).raise_for_status()
    env_dir = ENV_DIRS[id(gw)]
    out = subprocess.run(
        [sys.executable, "-m", "aigw", "client-config", "--env", "fo", "--env-dir", str(env_dir),
         "--client", "codex", "--url", gw.process.url, "-o", "json"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    config = home / ".codex" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(data["text"], encoding="utf-8")
    (work / "notes.txt").write_text("aigw-fo-marker-9e2d\n", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        **sink.environ(),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY,
    }
    started = time.perf_counter()
    r = subprocess.run(
        [str(client_bin("codex", "@openai/codex")), "exec", "--json", "--skip-git-repo-check",
         "--ephemeral", "--sandbox", "read-only", "-C", str(work), *CODEX_OFF,
         "Run the three commands of this task, then report the last output."],
        capture_output=True, text=True, env=env, cwd=work, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    took = time.perf_counter() - started
    events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    done = [e["item"] for e in events if e.get("type") == "item.completed"]
    primary, payg = _statuses(gw, "primary"), _statuses(gw, "payg")
    return {
        "returncode": r.returncode,
        "stderr": r.stderr[-2000:],
        "commands": [i for i in done if i.get("type") == "command_execution"],
        "answers": [i["text"] for i in done if i.get("type") == "agent_message"],
        "turns": sum(1 for s in primary + payg if s == 200),
        "failovers": sum(1 for s in primary if s == 429),
        "primary": primary,
        "payg": payg,
        "seconds": took,
    }


def test_a_codex_session_survives_the_primary_throttling_after_its_first_turn(
    gateway: Gateway, sink: EgressSink, tmp_path: Path
) -> None:
    s = run_codex_session(gateway, tmp_path / "home", tmp_path, sink, fail_after=1)
    assert s["returncode"] == 0, s["stderr"]
    assert [c["exit_code"] for c in s["commands"]] == [0, 0, 0], s["commands"]
    assert s["answers"] and "aigw-fo-marker-9e2d" in s["answers"][-1], s["answers"]
    assert s["primary"][0] == 200 and set(s["primary"][1:]) == {429}, s["primary"]
    assert s["payg"] and set(s["payg"]) == {200}, s["payg"]  # every later turn: the second
    assert s["turns"] >= 4 and s["failovers"] >= 3, s
    assert sink.seen == [], sink.seen


def _sdk_turns(gw: Gateway) -> tuple[int, str]:
    """Turn one on the primary (non-streamed, store false, encrypted reasoning asked for), the
    primary then throttled, turn two replaying turn one's items: (turn two's status, body)."""
    from openai import OpenAI

    client = OpenAI(base_url=gw.process.url + "/v1", api_key=GATEWAY_KEY, max_retries=0,
                    http_client=httpx.Client(trust_env=False, timeout=60))  # fmt: skip
    first = client.responses.create(
        model=CODEX, input="list the files", store=False,
        include=["reasoning.encrypted_content"],
        tools=[{"type": "function", "name": "exec_command", "parameters": {"type": "object"}}],
    )  # fmt: skip
    assert _statuses(gw, "primary") == [200]
    # replayed as a stateless client does (no item ids: the store-false rule is Codex's test),
    # so what is left to go wrong is the encrypted content alone
    items = [{k: v for k, v in i.model_dump(exclude_none=True).items() if k != "id"}
             for i in first.output]  # fmt: skip
    reasoning = [i for i in items if i["type"] == "reasoning"]
    assert reasoning and reasoning[0]["encrypted_content"], items
    call = next(i for i in items if i["type"] == "function_call")
    with gw.admin("primary") as a:
        a.put("/_aigw/faults", json={"status": 429}).raise_for_status()
    second = [
        {"type": "message", "role": "user", "content": "list the files"},
        *items,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt"},
    ]
    with httpx.Client(trust_env=False, timeout=60) as c:
        r = c.post(
            gw.process.url + "/v1/responses",
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
            json={"model": CODEX, "input": second, "store": False,
                  "include": ["reasoning.encrypted_content"]},
        )  # fmt: skip
    return r.status_code, r.text


def test_encrypted_reasoning_of_the_primary_is_not_sent_to_the_second_upstream(
    gateway: Gateway,
) -> None:
    _reset(gateway, [{"name": "exec_command", "arguments": {"cmd": "ls"}}])
    status, body = _sdk_turns(gateway)
    assert status == 200, body
    assert _statuses(gateway, "payg") == [200]
    output = json.loads(body)["output"]
    marked = [i["encrypted_content"] for i in output if i["type"] == "reasoning"]
    assert marked and all(m.startswith("aigw1:") for m in marked)  # marked by the second


def test_without_aigw_responses_the_same_turn_fails_on_the_second_upstream(
    tmp_path: Path,
) -> None:
    """The control: the same two turns through a gateway whose config lacks the callback."""

    with multi_gateway(
        failover_config(tmp_path, cooldown=30), tmp_path, mutate=without_responses_keeper
    ) as gw:
        _reset(gw, [{"name": "exec_command", "arguments": {"cmd": "ls"}}])
        status, body = _sdk_turns(gw)
    # the second resource refuses the primary's encrypted content (LiteLLM then answers with
    # the primary's 429, its own fallback having failed)
    assert status != 200 and "invalid_encrypted_content" in body, body


def test_a_failed_fallback_chain_leaves_as_one_clean_line(gateway: Gateway) -> None:
    """Primary 429, second upstream 400: LiteLLM's message names the hidden groups and its
    fallback table over several lines; the client gets the guard's one line only. (Found
    while building the control above: with aigw_usage as the only callback, this body left
    the gateway uncleaned; the cause is not known, so this pins what the client must get.)"""
    _reset(gateway, None)
    with gateway.admin("primary") as a:
        a.put("/_aigw/faults", json={"status": 429}).raise_for_status()
    body = {"model": CODEX, "store": False, "input": [
        {"type": "message", "role": "user", "content": "x"},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAAnot-sealed-here"},
    ]}  # fmt: skip
    with gateway.client() as c:
        r = c.post("/v1/responses", json=body)
    assert r.status_code >= 400
    error = r.json()["error"]
    assert "\n" not in error["message"], error
    for internal in ("Fallbacks", "@payg", "Model Group=gpt-5.3-codex@", "https://"):
        assert internal not in error["message"], (internal, error)
