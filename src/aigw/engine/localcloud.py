"""The local cloud as aigw runs it: the daemon with aigw's LiteLLM app runner injected.

`python -m aigw.engine.localcloud serve --state-dir D` starts it in the foreground;
`ensure_running` starts it detached. aigw_localcloud imports nothing from aigw: this module is
where the two meet, and where the local cloud's errors become aigw errors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from aigw.errors import AigwError
from aigw_localcloud import daemon as _daemon
from aigw_localcloud.core.app_runner import AppRunner
from aigw_localcloud.core.endpoint import LocalCloudEndpoint
from aigw_localcloud.core.rbac import DEFAULT_PROPAGATION_DELAY
from aigw_localcloud.daemon import OWNED, daemon_environment, status

__all__ = [
    "OWNED",
    "LocalCloudError",
    "daemon_environment",
    "ensure_running",
    "openai_account_url",
    "read_world",
    "reset",
    "seed_world",
    "status",
    "stop",
]

MODULE = "aigw.engine.localcloud"


class LocalCloudError(AigwError):
    """The local cloud could not be started, stopped or reset."""


def _translate(exc: _daemon.LocalCloudError) -> LocalCloudError:
    return LocalCloudError(exc.message, hint=exc.hint)


def litellm_runner(
    workdir: Path, tls: tuple[Path, Path], reporter: Callable[[str], None]
) -> AppRunner:
    from aigw.gateway.local_runner import LiteLLMAppRunner

    return LiteLLMAppRunner(workdir, tls=tls, reporter=reporter)


def ensure_running(
    state_dir: Path,
    *,
    latency: str = "instant",
    scale: float = 1.0,
    propagation_delay: float = DEFAULT_PROPAGATION_DELAY,
    timeout: float = 30.0,
) -> LocalCloudEndpoint:
    """The running cloud's endpoint, starting one that runs container apps as LiteLLM first."""
    try:
        return _daemon.ensure_running(
            state_dir,
            latency=latency,
            scale=scale,
            propagation_delay=propagation_delay,
            timeout=timeout,
            module=MODULE,
        )
    except _daemon.LocalCloudError as exc:
        raise _translate(exc) from None


def seed_world(state_dir: Path, accounts: list[dict[str, object]]) -> list[dict[str, object]]:
    ensure_running(state_dir)  # with the LiteLLM runner, before the call below finds it
    try:
        return _daemon.seed_world(state_dir, accounts)
    except _daemon.LocalCloudError as exc:
        raise _translate(exc) from None


def read_world(state_dir: Path) -> list[dict[str, object]]:
    ensure_running(state_dir)
    try:
        return _daemon.read_world(state_dir)
    except _daemon.LocalCloudError as exc:
        raise _translate(exc) from None


def openai_account_url(state_dir: Path, name: str) -> str | None:
    ensure_running(state_dir)
    try:
        return _daemon.openai_account_url(state_dir, name)
    except _daemon.LocalCloudError as exc:
        raise _translate(exc) from None


def stop(state_dir: Path, timeout: float = 15.0) -> bool:
    try:
        return _daemon.stop(state_dir, timeout)
    except _daemon.LocalCloudError as exc:
        raise _translate(exc) from None


def reset(state_dir: Path) -> None:
    try:
        _daemon.reset(state_dir)
    except _daemon.LocalCloudError as exc:
        raise _translate(exc) from None


def main(argv: list[str] | None = None) -> int:
    from aigw_localcloud.__main__ import main as serve_main

    return serve_main(argv, prog=f"python -m {MODULE}", runner_factory=litellm_runner)


if __name__ == "__main__":
    sys.exit(main())
