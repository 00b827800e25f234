"""Issue 17 S3, S5, R3, R4: arguments and secrets that must be refused before any Azure call.

Each runs the real CLI as a subprocess against a private local-cloud folder: exit 2, one line
naming what to fix, and the local cloud not even started (no journal, no endpoint file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

from .cli_support import Ran, aigw

CANARIES = {"AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY, "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY}


def _refused(ran: Ran, cloud_dir: Path, *needles: str) -> None:
    assert ran.code == 2, (ran.code, ran.stderr)
    assert len(ran.error_lines) == 1, ran.stderr
    line = ran.error_lines[0]
    assert line.startswith("error:") and "Traceback" not in ran.stderr, ran.stderr
    for needle in needles:
        assert needle in line, (needle, line)
    assert not (cloud_dir / "journal.jsonl").exists(), "a request reached the local cloud"
    assert not (cloud_dir / "endpoint.json").exists(), "the local cloud was started"
    for secret in CANARIES.values():
        assert secret not in ran.stdout + ran.stderr


# ----------------------------------------------------------------- S3: weak gateway keys
@pytest.mark.parametrize(
    "key",
    ["x", "sk-1234", "sk-" + "a" * 40, "abababababababababababababababababab", "sk-short-but-ok"],
    ids=["one-char", "short", "one-letter-repeated", "two-letters", "15-chars"],
)
def test_weak_gateway_key_is_refused_before_any_azure_call(key: str, tmp_path: Path) -> None:
    cloud = tmp_path / "cloud"
    env = {**CANARIES, "AIGW_GATEWAY_KEY": key}
    ran = aigw("deploy", "--env", "dev", "--cloud", "local", "--yes", cloud_dir=cloud, env=env)
    _refused(ran, cloud, "AIGW_GATEWAY_KEY", "secrets.token_urlsafe(32)")
    if len(key) >= 6:
        assert key not in ran.stderr


def test_every_secret_is_redacted_whatever_its_length() -> None:
    from aigw import redact

    assert "x9w" not in redact.redact("log: x9w", ["x9w"])
    redact.register("q7z")
    assert "q7z" not in redact.redact("key=q7z;")


# ----------------------------------------------------------------- S5: plain http smoke tests
@pytest.mark.parametrize(
    "url", ["http://example.com", "http://10.0.0.4:4000", "http://127.0.0.1.nip.io", "ftp://x"]
)
def test_smoke_test_refuses_plain_http_to_anything_but_loopback(url: str, tmp_path: Path) -> None:
    cloud = tmp_path / "cloud"
    ran = aigw(
        "smoke-test", "--env", "dev", "--url", url, "--timeout", "2", cloud_dir=cloud, env=CANARIES
    )
    _refused(ran, cloud, "--url")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_smoke_test_over_http_to_loopback_is_allowed(url: str, tmp_path: Path) -> None:
    ran = aigw(
        "smoke-test",
        "--env",
        "dev",
        "--url",
        url,
        "--timeout",
        "1",
        cloud_dir=tmp_path / "cloud",
        env=CANARIES,
    )
    assert ran.code == 1, ran.stderr  # nothing listens there: a failed check, not bad input


# ----------------------------------------------------------------- R3: confirmation of another env
@pytest.mark.parametrize("yes", [True, False])
def test_confirm_env_naming_another_environment_refuses(yes: bool, tmp_path: Path) -> None:
    cloud = tmp_path / "cloud"
    args = ["destroy", "--env", "dev", "--cloud", "local", "--confirm-env", "prod", "--purge"]
    ran = aigw(*args, *(["--yes"] if yes else []), cloud_dir=cloud, env=CANARIES)
    _refused(ran, cloud, "--confirm-env prod", "dev")


# ----------------------------------------------------------------- R4: plan checksums
@pytest.mark.parametrize("checksum", ["", "  ", "abc", "0" * 15, "g" * 16, "0" * 64])
def test_empty_or_malformed_plan_checksum_refuses_before_any_read(
    checksum: str, tmp_path: Path
) -> None:
    cloud = tmp_path / "cloud"
    args = ("deploy", "--env", "dev", "--cloud", "local", "--yes", "--plan-checksum", checksum)
    ran = aigw(*args, cloud_dir=cloud, env=CANARIES)
    _refused(ran, cloud, "--plan-checksum")
