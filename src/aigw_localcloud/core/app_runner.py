"""The contract between the local cloud's Container Apps emulator and whatever runs the apps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ContainerSpec:
    """One container of an active revision, with every reference already resolved.

    `env` holds plain values and secretRef values resolved through Key Vault with the app's
    identity; `files` maps absolute mount paths (secret volumes) to their content.
    """

    app_key: str  # ARM id of the container app, lower-cased
    revision: str
    image: str
    args: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)
    target_port: int = 80
    startup_path: str | None = None
    readiness_path: str | None = None
    port: int | None = None  # the port it served on before (its FQDN), kept when free


class AppStartError(Exception):
    """The container did not start or did not pass its startup probe; message says why."""


class AppRunner(Protocol):
    def start(self, spec: ContainerSpec) -> str:
        """(Re)start the app and block until its startup probe passes; return its base URL."""
        ...

    def stop(self, app_key: str) -> None:
        """Stop the app if it runs; no error if it does not."""
        ...

    def stop_all(self) -> None: ...
