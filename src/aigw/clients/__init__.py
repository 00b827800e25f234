"""Coding clients that use the gateway: a registry, one module per client.

Each module under `clients/` registers its renderer with `@registered(name, title=, format=)`;
the CLI's `--client` choices, the hints printed by `aigw serve` and `aigw rotate-key`, and the
tests come from `names()`. A renderer is pure: it gets the environment's config and the
gateway URL, and references the gateway key only by the name of its environment variable
(`gateway.key_env`); no renderer sees a key value. The modules import nothing heavy at module
level (`aigw --help` lists the choices).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from aigw.config.model import EnvConfig

Format = Literal["yaml", "toml", "json"]


@dataclass(frozen=True)
class Settings:
    """What a renderer returns: where the text goes, the text, and notes for the user."""

    path: str  # a file, or the client's settings screen
    text: str  # the settings in the client's own format
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientConfig:
    client: str
    format: Format
    path: str
    text: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "format": self.format,
            "path": self.path,
            "text": self.text,
            "notes": list(self.notes),
        }


Renderer = Callable[["EnvConfig", str], Settings]


@dataclass(frozen=True)
class Client:
    name: str  # the value of --client
    title: str  # the product's name, as its users know it
    format: Format
    render: Renderer


_REGISTRY: dict[str, Client] = {}


def registered(name: str, *, title: str, format: Format) -> Callable[[Renderer], Renderer]:
    def add(render: Renderer) -> Renderer:
        if name in _REGISTRY:
            raise RuntimeError(f"two coding clients named {name}")
        _REGISTRY[name] = Client(name, title, format, render)
        return render

    return add


def _load_all() -> None:
    if _REGISTRY:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def all_clients() -> list[Client]:
    _load_all()
    return list(_REGISTRY.values())


def names() -> list[str]:
    return [c.name for c in all_clients()]


def choices(sep: str = "|") -> str:
    """The --client values, for hints: "codex|continue|qoder|roo"."""
    return sep.join(names())


def render_client(client: str, config: EnvConfig, url: str) -> ClientConfig:
    _load_all()
    try:
        spec = _REGISTRY[client]
    except KeyError:
        raise ValueError(f"unknown client {client!r}: use one of {choices(', ')}") from None
    out = spec.render(config, url)
    return ClientConfig(spec.name, spec.format, out.path, out.text, out.notes)
