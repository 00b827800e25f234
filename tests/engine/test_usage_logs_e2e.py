"""Issue 14 (usage and logs) end to end through the real CLI on the local cloud with the real
LiteLLM: deploy, N calls (responses plain and streamed, embeddings), then `aigw usage` totals
equal the sums of the `usage` fields the Azure OpenAI emulator returned; `aigw logs --tail 20`
shows the requests; `--follow` ends on Ctrl-C with 130; the canary prompt and keys appear in no
usage row, log line or output; a query outside the local KQL subset is a clear 400."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ
from .test_e2e_cli import Runner

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

PROMPT_CANARY = "canary-prompt-usage-5c2d8e1a"
CODEX, EMBED = "gpt-5.3-codex", "text-embedding-3-large"


class Env:
    def __init__(self, root: Path, run: Runner) -> None:
        self.root = root
        self.run = run
        self.cloud_dir = root / "localcloud"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("usage-e2e")
    run = Runner(cli_environ(root))
    try:
        r = run("deploy", "--env", "dev", "--cloud", "local", "--yes", timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        yield Env(root, run)
    finally:
        daemon.stop(root / "localcloud")
        print("usage e2e step timings (s):", run.timings)


def _sse_usage(text: str) -> dict[str, Any]:
    for line in text.splitlines():
        if line.startswith("data:") and '"response.completed"' in line:
            return dict(json.loads(line[5:])["response"]["usage"])
    raise AssertionError("no response.completed event")


def _calls(env: Env) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Make the calls; (total tokens by model, sums of prompt/completion/total, call ids)."""
    r = env.run("client-config", "--env", "dev", "--cloud", "local", "--client", "codex", "-o",
                "json")  # fmt: skip
    url = json.loads(r.stdout)["gateway_url"]
    by_model: dict[str, int] = defaultdict(int)
    sums = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    ids = []
    with httpx.Client(
        base_url=url,
        verify=str(env.cloud_dir / "ca.pem"),
        headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"},
        timeout=60,
        trust_env=False,
    ) as c:
        for i, (model, stream) in enumerate(
            [(CODEX, False), (CODEX, True), (EMBED, False), (CODEX, False), (EMBED, False)]
        ):
            path = "/v1/embeddings" if model == EMBED else "/v1/responses"
            body: dict[str, Any] = {"model": model, "input": f"{PROMPT_CANARY} {i} " * (i + 1)}
            if stream:
                body["stream"] = True
            r = c.post(path, json=body)
            assert r.status_code == 200, r.text[:300]
            ids.append(r.headers["x-litellm-call-id"])
            u = _sse_usage(r.text) if stream else r.json()["usage"]
            prompt = u.get("input_tokens", u.get("prompt_tokens", 0))
            completion = u.get("output_tokens", u.get("completion_tokens", 0))
            sums["prompt_tokens"] += prompt
            sums["completion_tokens"] += completion
            sums["total_tokens"] += u["total_tokens"]
            by_model[model] += u["total_tokens"]
    return dict(by_model), sums, ids


def _usage(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return env.run("usage", "--env", "dev", "--cloud", "local", *args)


def _by(env: Env, by: str) -> dict[str, dict[str, int]]:
    r = _usage(env, "--by", by, "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    return {row[by]: row for row in json.loads(r.stdout)["rows"]}


def _delta(after: dict[str, Any], before: dict[str, Any], field: str) -> dict[str, int]:
    names = set(after) | set(before)
    out = {n: after.get(n, {}).get(field, 0) - before.get(n, {}).get(field, 0) for n in names}
    return {n: v for n, v in out.items() if v}


def test_usage_totals_equal_the_emulators_usage_and_logs_show_the_requests(env: Env) -> None:
    # deploy's smoke test went through the gateway too: compare what these calls add
    time.sleep(2)
    keys_before, models_before = _by(env, "key"), _by(env, "model")
    by_model, sums, ids = _calls(env)
    deadline = time.monotonic() + 20
    while True:  # the usage lines are written after the answers
        keys = _by(env, "key")
        if sum(_delta(keys, keys_before, "requests").values()) >= len(ids):
            break
        assert time.monotonic() < deadline, keys
        time.sleep(0.5)
    assert _delta(keys, keys_before, "requests") == {"aigw-gateway-key": len(ids)} or _delta(
        keys, keys_before, "requests"
    ) == {"aigw-gateway-key": len(ids)}
    for field, value in sums.items():
        assert sum(_delta(keys, keys_before, field).values()) == value, (field, keys, sums)
    assert _delta(keys, keys_before, "failures") == {}
    models = _by(env, "model")
    assert _delta(models, models_before, "total_tokens") == by_model
    days = json.loads(_usage(env, "--by", "day", "--since", "1d", "-o", "json").stdout)
    assert sum(d["total_tokens"] for d in days["rows"]) == sum(
        k["total_tokens"] for k in keys.values()
    )
    csv = _usage(env, "--by", "model", "-o", "csv").stdout.splitlines()
    assert csv[0] == "model,requests,failures,refused,prompt_tokens,completion_tokens,total_tokens"
    assert len(csv) == 1 + len(models)
    table = _usage(env, "--by", "key")
    assert table.returncode == 0 and "█" in table.stdout and "total" in table.stdout

    logs = env.run("logs", "--env", "dev", "--cloud", "local", "--tail", "20")
    assert logs.returncode == 0, logs.stderr
    for call_id in ids:
        assert call_id in logs.stdout, logs.stdout
    for text in env.run.outputs:
        assert PROMPT_CANARY not in text
    # nothing the local cloud keeps of the console (workspace rows included) holds the prompt
    for path in (env.cloud_dir / "console-logs").iterdir():
        content = path.read_text()
        for canary in (PROMPT_CANARY, GATEWAY_KEY_CANARY, AOAI_KEY_CANARY):
            assert canary not in content, path


def test_bad_since_and_tail_are_exit_2(env: Env) -> None:
    r = _usage(env, "--since", "7 days")
    assert r.returncode == 2 and "--since" in r.stderr and "Traceback" not in r.stderr
    r = env.run("logs", "--env", "dev", "--cloud", "local", "--tail", "5000")
    assert r.returncode == 2 and "--tail" in r.stderr


def test_follow_ends_on_ctrl_c(env: Env) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aigw",
            "logs",
            "--env",
            "dev",
            "--cloud",
            "local",
            "--follow",
            "--tail",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env.run.env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the stream is open once a line arrived
        assert first, proc.stderr.read() if proc.stderr else ""
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
        assert proc.returncode == 130, err
        assert time.monotonic() - t0 < 10
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_unknown_kql_is_a_clear_400(env: Env) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.monitor.query import LogsQueryClient

    from aigw_localcloud.core.credential import LocalCredential
    from aigw_localcloud.core.endpoint import read_endpoint

    ep = read_endpoint(env.cloud_dir)
    assert ep is not None
    state = json.loads((env.cloud_dir / "state.json").read_text())
    (customer_id,) = [
        r["properties"]["customerId"]
        for r in state["resources"].values()
        if r["type"] == "Microsoft.OperationalInsights/workspaces"
    ]
    client = LogsQueryClient(
        LocalCredential(ep.deployer_principal_id, ep.tenant_id),
        endpoint=ep.arm_url,
        connection_verify=str(env.cloud_dir / "ca.pem"),
    )
    with pytest.raises(HttpResponseError) as caught:
        client.query_workspace(customer_id, "Usage | take 10", timespan=None)
    assert caught.value.status_code == 400
    assert "unknown table 'Usage'" in str(caught.value)
    with pytest.raises(HttpResponseError) as caught:
        client.query_workspace(
            customer_id, "ContainerAppConsoleLogs_CL | mv-expand x", timespan=None
        )
    assert "unsupported operator 'mv-expand'" in str(caught.value)
