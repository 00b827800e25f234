"""The LiteLLM virtual environment manager: versions from image tags, the cache, the lock."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from aigw.errors import LiteLLMEnvError
from aigw.gateway import venv as litellm_env
from aigw.gateway.venv import (
    MARKER_NAME,
    cache_dir,
    check_version,
    ensure,
    env_path,
    find,
    has_litellm,
    is_litellm_image,
    litellm_version_from_image,
)
from gateway_fixtures import LITELLM_VERSION, litellm_env_for_tests

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "version"),
    [
        (f"litellm/litellm:v1.81.15@{DIGEST}", "1.81.15"),
        ("litellm/litellm:v1.81.15", "1.81.15"),
        ("docker.io/litellm/litellm:v1.81.15-stable", "1.81.15"),
        ("ghcr.io/berriai/litellm:main-v1.81.15", "1.81.15"),
        (f"ghcr.io/berriai/litellm:main-v1.81.15-stable@{DIGEST}", "1.81.15"),
        ("ghcr.io/berriai/litellm-database:main-v1.80.0", "1.80.0"),
        ("localhost:5000/litellm:v1.81.15", "1.81.15"),
        ("myregistry.azurecr.io/mirror/litellm:1.81.15", "1.81.15"),
        ("litellm/litellm:v1.82.6", "1.82.6"),
    ],
)
def test_version_from_image(image: str, version: str) -> None:
    assert litellm_version_from_image(image) == version


@pytest.mark.parametrize(
    "image",
    [
        "litellm/litellm:v1.82.7",
        "ghcr.io/berriai/litellm:main-v1.82.8",
        f"litellm/litellm:v1.82.7@{DIGEST}",
        "ghcr.io/berriai/litellm:main-v1.82.8-stable",
    ],
)
def test_compromised_releases_are_refused(image: str) -> None:
    with pytest.raises(LiteLLMEnvError) as info:
        litellm_version_from_image(image)
    text = info.value.one_line()
    assert "refusing LiteLLM 1.82." in text
    assert "compromised" in text
    assert "1.81.15" in text  # names a safe pin


@pytest.mark.parametrize(
    "image",
    [
        "litellm/litellm",
        "litellm/litellm:latest",
        "ghcr.io/berriai/litellm:main-stable",
        "ghcr.io/berriai/litellm:main-latest",
        f"litellm/litellm@{DIGEST}",
        "localhost:5000/litellm",
        "litellm/litellm:v1.81",
    ],
)
def test_image_without_version_is_a_clear_error(image: str) -> None:
    with pytest.raises(LiteLLMEnvError) as info:
        litellm_version_from_image(image)
    assert "names no version" in info.value.message
    assert "litellm/litellm:v1.81.15" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("litellm/litellm:v1.81.15", True),
        ("ghcr.io/berriai/litellm:main-v1.81.15", True),
        ("ghcr.io/berriai/litellm-database:main-v1.81.15", True),
        ("localhost:5000/litellm:v1.81.15", True),
        ("nginx:1.27", False),
        ("mcr.microsoft.com/azuredocs/containerapps-helloworld:latest", False),
        ("example/not-litellm:v1.81.15", False),
    ],
)
def test_is_litellm_image(image: str, expected: bool) -> None:
    assert is_litellm_image(image) is expected


def test_check_version() -> None:
    assert check_version("v1.81.15") == "1.81.15"
    for bad in ("1.81", "latest", "1.81.15; rm -rf /", "../1.2.3"):
        with pytest.raises(LiteLLMEnvError):
            check_version(bad)
    with pytest.raises(LiteLLMEnvError, match="compromised"):
        ensure("1.82.7")


# -- cache location ------------------------------------------------------------------------------


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIGW_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == Path.home() / ".cache" / "aigw"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "aigw"
    monkeypatch.setenv("AIGW_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    assert env_path("1.81.15") == tmp_path / "explicit" / "litellm-1.81.15"


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("AIGW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AIGW_LITELLM_VENV", raising=False)
    return tmp_path / "cache"


def fake_env(root: Path, version: str = "1.81.15", marker: bool = True) -> Path:
    """The on-disk layout of a finished environment (files only, nothing runnable)."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "litellm").write_text("#!/bin/sh\nexit 0\n")
    (root / "bin" / "python").write_text("")
    (root / "lib" / "python3.11" / "site-packages" / f"litellm-{version}.dist-info").mkdir(
        parents=True
    )
    if marker:
        (root / MARKER_NAME).write_text(json.dumps({"version": version}))
    return root


def test_quick_check_creates_nothing(empty_cache: Path) -> None:
    assert not has_litellm("1.81.15")
    assert find("1.81.15") is None
    assert not empty_cache.exists()


def test_cache_hit_needs_marker_and_matching_version(empty_cache: Path) -> None:
    root = fake_env(empty_cache / "litellm-1.81.15", marker=False)
    assert not has_litellm("1.81.15")
    (root / MARKER_NAME).write_text(json.dumps({"version": "1.81.14"}))
    assert not has_litellm("1.81.15")
    (root / MARKER_NAME).write_text(json.dumps({"version": "1.81.15"}))
    assert has_litellm("1.81.15")
    env = ensure("1.81.15")
    assert env.root == root
    assert env.python == root / "bin" / "python"
    assert env.litellm_bin == root / "bin" / "litellm"
    assert env.version == "1.81.15"


def test_ensure_waits_for_the_lock_then_uses_what_the_other_process_built(
    empty_cache: Path,
) -> None:
    empty_cache.mkdir(parents=True)
    messages: list[str] = []
    result: list[object] = []
    with open(empty_cache / "litellm-1.81.15.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        worker = threading.Thread(
            target=lambda: result.append(ensure("1.81.15", reporter=messages.append))
        )
        worker.start()
        deadline = time.monotonic() + 10
        while not messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert messages and "waiting for another aigw process" in messages[0]
        fake_env(empty_cache / "litellm-1.81.15")  # "the other process" finishes
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    worker.join(timeout=10)
    assert result and getattr(result[0], "root", None) == empty_cache / "litellm-1.81.15"
    assert len(messages) == 1  # it did not build


def test_failed_install_is_a_clear_error_and_leaves_nothing(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No such release, and no network use: uv/pip offline.
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    messages: list[str] = []
    with pytest.raises(LiteLLMEnvError) as info:
        ensure("0.0.1", reporter=messages.append)
    err = info.value
    assert "could not create the LiteLLM 0.0.1 environment" in err.message
    assert "last lines of" in err.message
    assert "AIGW_LITELLM_VENV" in (err.hint or "")
    assert messages[0].startswith("creating LiteLLM 0.0.1 environment in")
    assert "(about 40 s, once" in messages[0]
    leftovers = sorted(p.name for p in empty_cache.iterdir())
    assert leftovers == ["litellm-0.0.1.install.log", "litellm-0.0.1.lock"]


def test_incomplete_environment_is_rebuilt_not_used(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    fake_env(empty_cache / "litellm-0.0.1", version="0.0.1", marker=False)
    messages: list[str] = []
    with pytest.raises(LiteLLMEnvError):
        ensure("0.0.1", reporter=messages.append)
    assert any("removing incomplete" in m for m in messages)
    assert not (empty_cache / "litellm-0.0.1").exists()


# -- AIGW_LITELLM_VENV ---------------------------------------------------------------------------


def test_override_must_hold_litellm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIGW_LITELLM_VENV", str(tmp_path))
    with pytest.raises(LiteLLMEnvError, match="has no bin/litellm"):
        ensure("1.81.15")
    fake_env(tmp_path / "v", version="1.80.0")
    monkeypatch.setenv("AIGW_LITELLM_VENV", str(tmp_path / "v"))
    with pytest.raises(LiteLLMEnvError) as info:
        ensure("1.81.15")
    assert "holds LiteLLM 1.80.0" in info.value.message
    assert "1.81.15 is needed" in info.value.message
    assert not has_litellm("1.81.15")
    assert has_litellm("1.80.0")


@pytest.mark.litellm
def test_override_uses_an_existing_environment_as_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = litellm_env_for_tests()
    monkeypatch.setenv("AIGW_LITELLM_VENV", str(real.root))
    monkeypatch.setenv("AIGW_CACHE_DIR", str(tmp_path / "unused"))
    env = ensure(LITELLM_VERSION)
    assert env.root == real.root
    assert not (tmp_path / "unused").exists()


@pytest.mark.litellm
def test_environment_for_tests_is_real() -> None:
    env = litellm_env_for_tests()
    assert has_litellm(LITELLM_VERSION)
    out = subprocess.run(
        [str(env.python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    assert out.stdout.strip() == LITELLM_VERSION


@pytest.mark.litellm
@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("AIGW_TEST_LITELLM_INSTALL"),
    reason="installs litellm[proxy] from PyPI (set AIGW_TEST_LITELLM_INSTALL=1)",
)
def test_ensure_from_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIGW_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AIGW_LITELLM_VENV", raising=False)
    messages: list[str] = []
    env = ensure(LITELLM_VERSION, reporter=messages.append)
    assert env.root == tmp_path / f"litellm-{LITELLM_VERSION}"
    assert json.loads((env.root / MARKER_NAME).read_text())["version"] == LITELLM_VERSION
    assert messages[-1].startswith(f"LiteLLM {LITELLM_VERSION} ready in")
    assert not list(tmp_path.glob(".litellm-*.building-*"))
    # The temporary build directory is gone from every script's first line.
    for script in (env.root / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            with open(script, "rb") as fh:
                assert b".building-" not in fh.readline()
    assert litellm_env.find(LITELLM_VERSION) == env
