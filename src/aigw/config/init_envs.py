"""`aigw init`: a new environments/ folder (base.yaml, one overlay per environment, the JSON
Schema beside them for editors), checked with the same validation `aigw validate` runs before
anything is written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aigw.config import DEFAULT_ENVS
from aigw.config.load import PATTERN_TEXT, merge
from aigw.config.model import EnvConfig
from aigw.errors import UserError

# The pinned LiteLLM image (the version aigw's local cloud and `serve` run); a test keeps it
# equal to the one in this repository's environments/base.yaml.
DEFAULT_IMAGE = (
    "litellm/litellm:v1.81.15"
    "@sha256:d104dae60f1a0c8fc93f837ec30ec4e6430ee70b0d3636874c26bc9920ae34a7"
)
SCHEMA_FILE = "aigw.schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
_ENV_RE = re.compile(r"[a-z][a-z0-9]{0,11}")
# Which option a validation error of the merged file points back to.
_OPTION_OF = {"project": "--project", "location": "--location", "azure_openai": "--endpoint"}


@dataclass(frozen=True)
class InitFiles:
    folder: Path
    envs: tuple[str, ...]
    files: dict[str, str]  # file name -> text


def parse_envs(value: str) -> tuple[str, ...]:
    envs = tuple(e.strip() for e in value.split(",") if e.strip())
    for env in envs:
        if env == "base":
            raise UserError("--envs: 'base' is the shared base.yaml, not an environment")
        if not _ENV_RE.fullmatch(env):
            raise UserError(
                f"--envs: {env!r} is not an environment name "
                "(lowercase letters and digits, starting with a letter, at most 12)"
            )
    if not envs or len(set(envs)) != len(envs):
        raise UserError(f"--envs {value!r}: give distinct names, e.g. {DEFAULT_ENVS}")
    return envs


def _q(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def base_yaml(project: str, location: str, endpoint: str) -> str:
    return f"""{SCHEMA_LINE}
# Settings every environment shares; each <env>.yaml extends this file and overrides only what
# differs. Secrets are never values here: the YAML names the environment variables holding them.
# Check with `aigw validate --env <env>`; reference: `aigw schema --markdown`.
abstract: true
project: {_q(project)}
location: {_q(location)}
tags:
  project: {_q(project)}

azure_openai:
  endpoint: {_q(endpoint)}
  auth: identity   # keyless: the gateway's managed identity (key: api_key_env names the key)

gateway:
  image: {DEFAULT_IMAGE}
  min_replicas: 0
  max_replicas: 3
  key_env: AIGW_GATEWAY_KEY

key_vault:
  purge_protection: false

models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
  - alias: text-embedding-3-large
    kind: embeddings
    api_version: "2023-05-15"
    dimensions: 3072
"""


def overlay_yaml(env: str) -> str:
    text = f"{SCHEMA_LINE}\nextends: base.yaml\ntags:\n  env: {env}\n"
    if env == "prod":
        text += (
            "gateway:\n  min_replicas: 1   # coding clients must not wait for a cold start\n"
            "key_vault:\n  purge_protection: true\n"
        )
    return text


def _check(env: str, base: str, overlay: str) -> None:
    """Validate the merged file as `aigw validate` would; errors name the option to fix."""
    import yaml

    data: dict[str, Any] = merge(yaml.safe_load(base), yaml.safe_load(overlay))
    for key in ("abstract", "extends"):
        data.pop(key, None)
    try:
        EnvConfig.model_validate({**data, "env": env})
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = [str(p) for p in first["loc"]]
        option = _OPTION_OF.get(loc[0] if loc else "", "--envs" if loc[:1] == ["env"] else "")
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"].startswith("string_") and loc and loc[-1] in PATTERN_TEXT:
            msg = f"{first['input']!r}: {PATTERN_TEXT[loc[-1]]}"
        raise UserError(f"aigw init {option}: {msg}".replace("  ", " ")) from None


def prepare(
    folder: Path, *, project: str, location: str, endpoint: str, envs: str = DEFAULT_ENVS
) -> InitFiles:
    """Everything init would write, validated; raises UserError (nothing written) if not."""
    from aigw.config.schema import env_file_schema

    names = parse_envs(envs)
    base = base_yaml(project, location, endpoint)
    files = {"base.yaml": base}
    for env in names:
        files[f"{env}.yaml"] = overlay_yaml(env)
        _check(env, base, files[f"{env}.yaml"])
    files[SCHEMA_FILE] = json.dumps(env_file_schema(), indent=2) + "\n"
    return InitFiles(folder=folder, envs=names, files=files)


def write(init: InitFiles) -> list[Path]:
    """Write the files; refuses (UserError, nothing written) if any of them exists."""
    taken = [name for name in init.files if (init.folder / name).exists()]
    if taken:
        raise UserError(
            f"{init.folder / taken[0]} exists: aigw init does not overwrite"
            + (f" (nor {', '.join(taken[1:])})" if taken[1:] else ""),
            hint="choose another --dir or remove the files",
        )
    init.folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in init.files.items():
        path = init.folder / name
        with path.open("x", encoding="utf-8") as f:  # "x": never replace a file made meanwhile
            f.write(text)
        written.append(path)
    return written
