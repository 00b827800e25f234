"""Developer keys end to end (issue 14), through the real CLI as subprocesses, on the local cloud
with the real LiteLLM 1.81.15 and the Azure OpenAI emulator: deploy creates the keys secret
empty and a second plan has nothing to do; `keys add` for two developers, both call responses
and embeddings; a wrong key is 401 (not LiteLLM's 400); `keys revoke alice` returns once the
gateway refuses her key (measured) while bob's still works; `keys rotate bob --models` limits
him (403 elsewhere, old key 401); the keys never appear in a file, a log, an output or the Key
Vault secret (only their SHA-256)."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import cli_environ, run_cli

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

CODEX = "gpt-5.3-codex"
EMBED = "text-embedding-3-large"
LOCAL = ("--env", "dev", "--cloud", "local")


class Cli:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = cli_environ(root)
        self.outputs: list[str] = []
        self.keys: dict[str, str] = {}  # name -> key, as printed once
        self.url = ""
        self.verify: Any = True

    def __call__(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        r = run_cli(self.env, *args, timeout=timeout)
        self.outputs += [r.stdout, r.stderr]
        return r

    def call(self, key: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            verify=self.verify,
            timeout=60,
            trust_env=False,
        )


def _responses(cli: Cli, key: str, model: str = CODEX) -> int:
    return cli.call(key, "/v1/responses", {"model": model, "input": "say hi"}).status_code


def _embeddings(cli: Cli, key: str) -> int:
    return cli.call(key, "/v1/embeddings", {"model": EMBED, "input": "hello"}).status_code


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("developerkeys")
    c = Cli(root)
    try:
        yield c
    finally:
        daemon.stop(root / "localcloud")


def test_1_deploy_creates_the_keys_secret_and_a_second_plan_is_empty(cli: Cli) -> None:
    r = cli("deploy", *LOCAL, "--yes", "-o", "json", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli("plan", *LOCAL, "--detailed-exitcode", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr  # deploy is idempotent: the keys untouched
    r = cli("keys", "list", *LOCAL, "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["keys"] == []
    r = cli(
        "client-config",
        *LOCAL,
        "--client",
        "codex",
        "-o",
        "json",
        "--key-env",
        "AIGW_DEVELOPER_KEY",
    )
    data = json.loads(r.stdout)
    assert 'env_key = "AIGW_DEVELOPER_KEY"' in data["text"]
    cli.url = data["gateway_url"]
    cli.verify = ssl.create_default_context(cafile=data["ca_bundle"])


def test_2_changes_refuse_without_yes_and_bad_names(cli: Cli) -> None:
    r = cli("keys", "add", "alice", *LOCAL)
    assert r.returncode == 2 and "--yes" in r.stderr, r.stderr
    r = cli("keys", "add", "Alice Smith", *LOCAL, "--yes")
    assert r.returncode == 2 and "key name 'Alice Smith' is invalid" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cli("keys", "add", "alice", *LOCAL, "--yes", "--models", "gpt-4o")
    assert r.returncode == 2 and "not a model alias" in r.stderr, r.stderr
    r = cli("keys", "revoke", "nobody", *LOCAL, "--yes")
    assert r.returncode == 2 and "no key named nobody" in r.stderr, r.stderr


def test_3_two_developers_call_responses_and_embeddings(cli: Cli) -> None:
    for name in ("alice", "bob"):
        r = cli("keys", "add", name, *LOCAL, "--yes", "--expires", "90d", "-o", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        data = json.loads(r.stdout)
        assert data["ok"] and data["key"]["name"] == name and data["key"]["expires"]
        key = data["new_key"]
        assert key.startswith("sk-aigw-") and name not in key
        assert data["key"]["last4"] == key[-4:]
        assert key not in r.stderr
        cli.keys[name] = key
        print(f"keys add {name}: {data['seconds']}")
    for key in cli.keys.values():
        assert _responses(cli, key) == 200
        assert _embeddings(cli, key) == 200
    r = cli("keys", "add", "bob", *LOCAL, "--yes")
    assert r.returncode == 2 and "exists" in r.stderr


def _usage_by_key(cli: Cli) -> dict[str, int]:
    r = cli("usage", *LOCAL, "--by", "key", "--since", "1h", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    return {row["key"]: int(row["total_tokens"]) for row in json.loads(r.stdout)["rows"]}


def test_3b_usage_by_key_shows_each_developers_exact_tokens(cli: Cli) -> None:
    """`aigw usage --by key`: each developer's total tokens equal the sums of the `usage` the
    Azure OpenAI emulator returned for that developer's calls (responses and embeddings)."""
    time.sleep(2)  # the usage lines of earlier calls reach the workspace first
    before = _usage_by_key(cli)
    spent: dict[str, int] = {}
    for name, key in cli.keys.items():
        total = 0
        for path, body in (
            ("/v1/responses", {"model": CODEX, "input": f"hello from {name}"}),
            ("/v1/embeddings", {"model": EMBED, "input": f"embed for {name}"}),
        ):
            r = cli.call(key, path, body)
            assert r.status_code == 200, r.text
            total += int(r.json()["usage"]["total_tokens"])
        spent[name] = total
    deadline = time.monotonic() + 30
    while True:
        after = _usage_by_key(cli)
        grown = {n: after.get(n, 0) - before.get(n, 0) for n in spent}
        if grown == spent or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert grown == spent, (before, after, spent)


def test_4_a_wrong_key_is_401_with_an_openai_error_body(cli: Cli) -> None:
    for wrong in ("sk-aigw-" + "x" * 43, hashlib.sha256(cli.keys["bob"].encode()).hexdigest()):
        r = cli.call(wrong, "/v1/embeddings", {"model": EMBED, "input": "hi"})
        assert r.status_code == 401, r.text
        err = r.json()["error"]
        assert err["type"] == "authentication_error" and "invalid gateway key" in err["message"]


def test_5_revoke_alice_is_refused_when_it_returns_bob_still_works(cli: Cli) -> None:
    t0 = time.perf_counter()
    r = cli("keys", "revoke", "alice", *LOCAL, "--yes", "-o", "json")
    wall = time.perf_counter() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert data["ok"] and "new_key" not in data and data["restarted_revisions"]
    assert _responses(cli, cli.keys["alice"]) == 401  # at once: the command proved it
    assert _embeddings(cli, cli.keys["alice"]) == 401
    assert _responses(cli, cli.keys["bob"]) == 200
    print(f"keys revoke on the local cloud: {data['seconds']} (command {wall:.1f}s)")
    assert data["seconds"]["switch"] < 120


def test_6_rotate_bob_with_models_limits_him(cli: Cli) -> None:
    r = cli("keys", "rotate", "bob", *LOCAL, "--yes", "--models", EMBED, "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    new = data["new_key"]
    assert data["key"]["models"] == [EMBED] and data["key"]["expires"]
    assert _embeddings(cli, cli.keys["bob"]) == 401  # the old key
    assert _embeddings(cli, new) == 200
    r403 = cli.call(new, "/v1/responses", {"model": CODEX, "input": "hi"})
    assert r403.status_code == 403 and r403.json()["error"]["param"] == "model", r403.text
    cli.keys["bob-2"] = new


def test_7_list_shows_names_never_keys(cli: Cli) -> None:
    r = cli("keys", "list", *LOCAL, "-o", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["keys"]
    assert [row["name"] for row in rows] == ["bob"]
    assert rows[0]["last4"] == cli.keys["bob-2"][-4:] and rows[0]["models"] == [EMBED]
    text = cli("keys", "list", *LOCAL).stdout
    assert "bob" in text and "alice" not in text


def test_8_keys_appear_nowhere_but_as_hashes(cli: Cli) -> None:
    """Canary: every printed key, in every file under the test's root (local cloud state with
    the Key Vault store, the gateway's logs and files, journals), every output but the one that
    printed it."""
    assert len(cli.keys) == 3
    found_hash = False
    digests = {hashlib.sha256(k.encode()).hexdigest() for k in cli.keys.values()}
    for path in cli.root.rglob("*"):
        if not path.is_file() or path.stat().st_size > 50_000_000:
            continue
        data = path.read_bytes()
        for name, key in cli.keys.items():
            assert key.encode() not in data, (name, path)
        found_hash = found_hash or any(d.encode() in data for d in digests)
    assert found_hash  # the Key Vault store holds the hashes: the scan looked where they are
    printed = {k: 0 for k in cli.keys}
    for out in cli.outputs:
        for name, key in cli.keys.items():
            printed[name] += out.count(key)
    assert printed == {"alice": 1, "bob": 1, "bob-2": 1}, printed


PRICES = {CODEX: (10.0, 1.0, 80.0), EMBED: (0.13, 0.13, 0.0)}  # input, cached, output per 1M


def test_9_a_budget_crossed_mid_stream_is_refused_and_list_and_cost_agree(cli: Cli) -> None:
    """Issue 26 on a deployed gateway: the YAML prices the models, `keys add --budget` gives
    dave a budget a few calls long; the call after the one that crossed it is refused with
    OpenAI's insufficient_quota; `keys list` and `usage --cost` show the same spend, which is
    the emulator's token counts at the price table; `keys limit --budget` lets dave call
    again (store none: the spend lives in the gateway process, docs/guard-rails.md)."""
    env_file = cli.root / "environments" / "dev.yaml"
    priced = "".join(
        f"  - {{alias: {alias}, price: {{input: {i}, cached_input: {c}, output: {o}}}}}\n"
        for alias, (i, c, o) in PRICES.items()
    )
    env_file.write_text(env_file.read_text() + "models:\n" + priced)
    r = cli("deploy", *LOCAL, "--yes", "-o", "json", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli("keys", "add", "dave", *LOCAL, "--yes", "--budget", "0.015", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    dave = json.loads(r.stdout)["new_key"]
    assert json.loads(r.stdout)["key"]["budget"] == 0.015
    expected, calls = 0.0, 0
    while calls < 50:
        resp = cli.call(dave, "/v1/responses", {"model": CODEX, "input": f"turn {calls}"})
        if resp.status_code != 200:
            break
        calls += 1
        u = resp.json()["usage"]
        cached = u.get("input_tokens_details", {}).get("cached_tokens", 0)
        i, c, o = PRICES[CODEX]
        expected += ((u["input_tokens"] - cached) * i + cached * c + u["output_tokens"] * o) / 1e6
    assert resp.status_code == 429, resp.text
    err = resp.json()["error"]
    assert err["code"] == "insufficient_quota" and "this key (dave)" in err["message"]
    assert calls >= 2 and expected >= 0.015  # crossed by the last call that was let through

    def listed() -> float:
        out = cli("keys", "list", *LOCAL, "-o", "json")
        assert out.returncode == 0, out.stderr
        row = next(k for k in json.loads(out.stdout)["keys"] if k["name"] == "dave")
        assert row["budget"] == 0.015
        return float(row["spend_usd"] or 0)

    def costed() -> tuple[float, int]:
        out = cli("usage", *LOCAL, "--by", "key", "--cost", "--since", "1h", "-o", "json")
        assert out.returncode == 0, out.stderr
        row = next((k for k in json.loads(out.stdout)["rows"] if k["key"] == "dave"), None)
        return (float(row["cost_usd"]), int(row["refused"])) if row else (0.0, 0)

    deadline = time.monotonic() + 30  # the local workspace shows a line 1 s after it is written
    while (abs(listed() - expected) > 1e-4 or costed()[1] < 1) and time.monotonic() < deadline:
        time.sleep(1)
    assert listed() == pytest.approx(expected, abs=1e-4)
    cost, refused = costed()
    assert cost == pytest.approx(expected, abs=1e-6) and refused >= 1
    text = cli("keys", "list", *LOCAL).stdout
    assert "budget $0.01" in text and "% of budget" in text, text
    r = cli("keys", "limit", "dave", *LOCAL, "--budget", "5", "--yes", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert cli.call(dave, "/v1/responses", {"model": CODEX, "input": "again"}).status_code == 200
    bad = cli("keys", "limit", "dave", *LOCAL, "--budget", "lots", "--yes")
    assert bad.returncode == 2 and "--budget 'lots' is not a positive number" in bad.stderr
