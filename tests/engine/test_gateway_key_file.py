"""The gateway key reaches LiteLLM only as a file of the config volume, never in its
environment: LiteLLM resolves `os.environ/<NAME>` in settings, so a variable holding the key
could be named in a request and echoed back. A deploy to the local cloud runs the real LiteLLM
through the app runner; its /proc/<pid>/environ is read and the key still authenticates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aigw.engine import workflow
from aigw.gateway import smoke
from helpers import GATEWAY_KEY_CANARY

from .harness import Stack, close_stack, copy_envs, make_stack

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("keyfile")
    s = make_stack(root, with_gateway=True)
    s.env_dir = copy_envs(root / "environments")
    try:
        _plan, result = s.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        yield s
    finally:
        close_stack(s)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def test_deployed_litellm_has_no_gateway_key_in_its_environment(stack: Stack) -> None:
    session = stack.session()
    workflow.observe(session)
    out = workflow.outputs(session)
    session.close()
    # every LiteLLM process of the app (one per active revision)
    gateways = list(stack.runner._apps.values())
    assert gateways and all(g.running for g in gateways)
    for gateway in gateways:
        environ = _environ(gateway.pid)
        assert "LITELLM_GATEWAY_KEY" not in environ
        assert not [k for k, v in environ.items() if GATEWAY_KEY_CANARY in v]
        # ...but beside the guard, readable by its owner only
        args = list(gateway.process.args)
        config = Path(args[args.index("--config") + 1])
        key_file = config.parent / "aigw_gateway_key"
        assert key_file.read_text() == GATEWAY_KEY_CANARY
        assert (key_file.stat().st_mode & 0o777) == 0o600
        assert (config.parent / "aigw_guard.py").is_file()
    # and the key authenticates; no key and the wrong key do not
    with httpx.Client(
        base_url=out["gateway_url"], verify=smoke.verify_for(stack.cloud), timeout=30
    ) as c:
        ok = c.get("/v1/models", headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["data"]
        assert c.get("/v1/models").status_code == 401
        wrong = c.get("/v1/models", headers={"Authorization": "Bearer sk-wrong-0123456789"})
        assert wrong.status_code == 401
