"""The local cloud's own Azure OpenAI world: the accounts a team's subscription already holds
before aigw's first deploy, with their region, keys and model deployments (model, version,
capacity).

On Azure these exist before aigw runs and aigw only reads them (plan's preflight lists the
account's deployments). So here: the world is seeded once, from a world file a user writes
(`aigw localcloud seed FILE`, or `AIGW_LOCALCLOUD_WORLD=FILE` when aigw starts the cloud), is
kept in the cloud's state directory, and is never derived from the environment YAML that the
cloud is there to judge. A YAML naming an account or a deployment the world lacks fails as it
would on Azure.

World file (YAML or JSON):

    openai_accounts:
      - name: mys-shared-ai-swc           # customSubDomainName: https://<name>.openai.azure.com
        resource_group: rg-openai-shared
        location: swedencentral
        disable_local_auth: false
        key_env: AIGW_AZURE_OPENAI_API_KEY # key1 is this variable's value at seed time; no
                                           # key_env, or the variable unset: a random key
                                           # nobody is told (auth: identity only)
        deployments:
          - {name: gpt-5.3-codex, model: gpt-5.3-codex, version: "2026-02-24", capacity: 100}
          - {name: text-embedding-3-large, model: text-embedding-3-large, version: "1"}

What a model can do follows Azure's model catalog (learn.microsoft.com/azure/ai-foundry/openai/
concepts/models): text-embedding-3-large returns 3072 dimensions, -3-small and ada-002 1536;
the codex models serve only the Responses API (learn.microsoft.com/azure/ai-foundry/openai/
how-to/codex: "only available through the Responses API"); the other chat models serve chat
completions and Responses. A model outside these families is refused at seed time, as Azure
refuses a deployment of a model it does not offer (stricter: Azure offers more families, and
the emulator could not say what they do).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .deployments import Deployment, DeploymentKind

WORLD_FILE = "openai-world.json"  # in the state directory, mode 0600 (it holds the keys)
WORLD_ENV = "AIGW_LOCALCLOUD_WORLD"

EMBEDDING_DIMENSIONS = {
    "text-embedding-3-large": 3072,
    "text-embedding-3-small": 1536,
    "text-embedding-ada-002": 1536,
}
_CHAT = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-5|o1|o3|o4)([.-][a-z0-9.-]*)?$")
# Azure account names (customSubDomainName): 2-64 letters, digits and '-' (Microsoft.
# CognitiveServices 2025-09-01, AccountProperties.customSubDomainName); lower-case here as the
# endpoint host is; resource groups: 1-90 of letters, digits, '-', '_', '.', '(', ')'.
_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")
_RG = re.compile(r"^[-\w.()]{1,90}$")
# Deployment names: letters, digits, '-', '_', '.' (az cognitiveservices account deployment
# create --deployment-name; the portal's rule), at most 64.
_DEPLOYMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class WorldError(ValueError):
    """A world file that cannot be used: one line naming the file, the field and the fix."""


def kind_of(model: str) -> tuple[DeploymentKind, int | None]:
    """What Azure's catalog says model `model` serves, and its embedding size."""
    if model in EMBEDDING_DIMENSIONS:
        return "embeddings", EMBEDDING_DIMENSIONS[model]
    if "codex" in model and _CHAT.match(model):
        return "responses", None
    if _CHAT.match(model):
        return "chat", None
    raise ValueError(model)


@dataclass
class Account:
    """One Azure OpenAI account of the world."""

    name: str
    resource_group: str = "rg-openai-shared"
    location: str = "swedencentral"
    disable_local_auth: bool = False
    api_key: str = field(default="", repr=False)
    deployments: list[Deployment] = field(default_factory=list)
    key_from: str = "random"  # where key1 came from: "random" or the variable's name

    def to_dict(self, *, keys: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "resource_group": self.resource_group,
            "location": self.location,
            "disable_local_auth": self.disable_local_auth,
            "deployments": [d.to_dict() for d in self.deployments],
            "key_from": self.key_from,
        }
        if keys:
            data["api_key"] = self.api_key
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        return cls(
            name=str(data["name"]),
            resource_group=str(data.get("resource_group") or "rg-openai-shared"),
            location=str(data.get("location") or "swedencentral"),
            disable_local_auth=bool(data.get("disable_local_auth", False)),
            api_key=str(data.get("api_key") or "") or secrets.token_hex(16),
            deployments=[Deployment.from_dict(d) for d in data.get("deployments") or []],
            key_from=str(data.get("key_from") or "random"),
        )


def parse(data: Any, file: str, environ: Mapping[str, str]) -> list[Account]:
    """The accounts of a world file's content; WorldError on the first problem."""
    if not isinstance(data, Mapping) or not isinstance(data.get("openai_accounts"), list):
        raise WorldError(f"{file}: openai_accounts: expected a list of accounts")
    unknown = set(data) - {"openai_accounts"}
    if unknown:
        raise WorldError(f"{file}: {sorted(unknown)[0]}: unknown field (only openai_accounts)")
    accounts: list[Account] = []
    for i, raw in enumerate(data["openai_accounts"]):
        accounts.append(_account(raw, f"{file}: openai_accounts[{i}]", environ))
    names = [a.name for a in accounts]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise WorldError(f"{file}: openai_accounts: account {dup!r} appears twice")
    return accounts


_ACCOUNT_FIELDS = {
    "name",
    "resource_group",
    "location",
    "disable_local_auth",
    "key_env",
    "deployments",
}
_DEPLOYMENT_FIELDS = {"name", "model", "version", "capacity"}


def _account(raw: Any, where: str, environ: Mapping[str, str]) -> Account:
    if not isinstance(raw, Mapping):
        raise WorldError(f"{where}: expected a mapping with name and deployments")
    unknown = set(raw) - _ACCOUNT_FIELDS
    if unknown:
        known = ", ".join(sorted(_ACCOUNT_FIELDS))
        raise WorldError(f"{where}.{sorted(unknown)[0]}: unknown field (use {known})")
    name = raw.get("name")
    if not isinstance(name, str) or not _ACCOUNT.match(name):
        raise WorldError(
            f"{where}.name: {name!r} is not an account name (2-64 lowercase letters, digits "
            "and '-', the endpoint's first label)"
        )
    rg = raw.get("resource_group", "rg-openai-shared")
    if not isinstance(rg, str) or not _RG.match(rg):
        raise WorldError(f"{where}.resource_group: {rg!r} is not a resource group name")
    location = raw.get("location", "swedencentral")
    if not isinstance(location, str) or not re.fullmatch(r"[a-z0-9]+", location):
        raise WorldError(f"{where}.location: {location!r} is not a region (e.g. swedencentral)")
    key_env = raw.get("key_env")
    key = ""
    if key_env is not None:
        if not isinstance(key_env, str) or not key_env:
            raise WorldError(f"{where}.key_env: name an environment variable")
        # unset: a random key (`seed` says so), not an error: a cloud seeded on its first
        # start by a command that needs no key (auth: identity) must not fail for it
        key = environ.get(key_env, "")
    deps = raw.get("deployments", [])
    if not isinstance(deps, list):
        raise WorldError(f"{where}.deployments: expected a list")
    deployments = [_deployment(d, f"{where}.deployments[{j}]") for j, d in enumerate(deps)]
    names = [d.name for d in deployments]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise WorldError(f"{where}.deployments: deployment {dup!r} appears twice")
    return Account(
        name=name,
        resource_group=rg,
        location=location,
        disable_local_auth=bool(raw.get("disable_local_auth", False)),
        api_key=key or secrets.token_hex(16),
        deployments=deployments,
        key_from=key_env if key and key_env else "random",
    )


def _deployment(raw: Any, where: str) -> Deployment:
    if not isinstance(raw, Mapping):
        raise WorldError(f"{where}: expected a mapping with name and model")
    unknown = set(raw) - _DEPLOYMENT_FIELDS
    if unknown:
        raise WorldError(
            f"{where}.{sorted(unknown)[0]}: unknown field (use name, model, version, capacity)"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not _DEPLOYMENT.match(name):
        raise WorldError(f"{where}.name: {name!r} is not a deployment name")
    model = raw.get("model", name)
    try:
        kind, dims = kind_of(str(model))
    except ValueError:
        raise WorldError(
            f"{where}.model: {model!r} is not a model the local cloud offers (a gpt-4o, "
            "gpt-4.1, gpt-5*, o1/o3/o4 chat or codex model, or text-embedding-3-large/-small/"
            "ada-002)"
        ) from None
    version = raw.get("version")
    if version is not None and not isinstance(version, str | int):
        raise WorldError(f'{where}.version: expected a string such as "2025-09-15"')
    capacity = raw.get("capacity", 10)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        raise WorldError(f"{where}.capacity: expected thousands of tokens per minute, >= 0")
    return Deployment(
        name=name,
        kind=kind,
        dimensions=dims,
        model=str(model),
        version=str(version) if version is not None else None,
        capacity=capacity,
    )


def load_file(path: Path, environ: Mapping[str, str]) -> list[Account]:
    """A world file's accounts, keys read from `environ`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(f"{path}: cannot read the world file ({exc.strerror})") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise WorldError(f"{path}: not JSON ({exc})") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            raise WorldError(f"{path}: not YAML{at}") from None
    return parse(data, str(path), environ)


def read_state(state_dir: Path) -> list[Account]:
    """The world kept in the state directory (empty when never seeded)."""
    try:
        data = json.loads((state_dir / WORLD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Account.from_dict(a) for a in data.get("openai_accounts", [])]


def write_state(state_dir: Path, accounts: list[Account]) -> None:
    import os

    path = state_dir / WORLD_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"openai_accounts": [a.to_dict() for a in accounts]}, f, indent=1)
    os.replace(tmp, path)


def merge(current: list[Account], new: list[Account]) -> list[Account]:
    """`current` with each account of `new` added or replacing the one of the same name (the
    order of the first seeding kept: the first account is the cloud's first endpoint)."""
    by_name = {a.name: a for a in new}
    merged = [by_name.pop(a.name, a) for a in current]
    return merged + [a for a in new if a.name in by_name]
