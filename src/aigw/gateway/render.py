"""The LiteLLM proxy config and container arguments for one environment (pure).

The LiteLLM facts behind it, each checked by tests/gateway/test_render.py against LiteLLM
1.81.15 (the real proxy runs this config in the local cloud): a bare `api_base`, quoted
api-versions, `mode: responses` for codex models, `base_model` for embeddings, no
`general_settings.master_key` (LiteLLM's own name for a key it checks itself; the guard
authenticates, with the gateway key from a mounted file), and `--api_version` on the command
line for embeddings.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from aigw.config.model import EnvConfig
from aigw.config.upstreams import PRIMARY, ModelConfig, ModelKind
from aigw.gateway import routes as _routes

# Environment variable names inside the container; values come from Key Vault references.
AZURE_OPENAI_KEY_VAR = _routes.PRIMARY_KEY_VAR  # the primary's; others: routes.key_var
# auth: identity: the app's user-assigned identity's client id (azure-identity's variable).
CLIENT_ID_VAR = "AZURE_CLIENT_ID"
CONFIG_HASH_VAR = "AIGW_CONFIG_SHA256"
MODELS_VAR = "AIGW_MODELS"
CONFIG_MOUNT_DIR = "/etc/litellm"
CONFIG_FILE_NAME = "config.yaml"
CONFIG_PATH = f"{CONFIG_MOUNT_DIR}/{CONFIG_FILE_NAME}"
# aigw's guard, shipped next to config.yaml (see src/aigw/gateway/files/aigw_guard.py).
GUARD_FILE_NAME = "aigw_guard.py"
GUARD_HOOK = "aigw_guard.user_api_key_auth"
# The developer keys' hashes (a Key Vault reference mounted beside the guard;
# gateway/developer_keys.py).
DEVELOPER_KEYS_FILE_NAME = "aigw_developer_keys.json"
# The gateway key, a Key Vault reference mounted beside the guard (GATEWAY_KEY_FILE in
# aigw_guard.py). Never in LiteLLM's environment: LiteLLM resolves `os.environ/<NAME>` in
# settings it reads, so a variable holding the key could be named in a request and echoed back.
GATEWAY_KEY_FILE_NAME = "aigw_gateway_key"
# aigw's usage logger, shipped beside it (src/aigw/gateway/files/aigw_usage.py): LiteLLM 1.81.15
# loads `litellm_settings.callbacks` entries from the config's directory (get_instance_fn).
USAGE_FILE_NAME = "aigw_usage.py"
USAGE_CALLBACK = "aigw_usage.usage_logger"
# aigw's Responses state keeper, the same way (src/aigw/gateway/files/aigw_responses.py): Azure's
# store-false rules, and encrypted reasoning kept to the upstream that made it (issue 24).
RESPONSES_FILE_NAME = "aigw_responses.py"
RESPONSES_CALLBACK = "aigw_responses.responses_state"
# The default limits of developer keys, where counts live, and each model's price (issue 26):
# read by the guard (aigw_guard.py LIMITS_FILE) and the usage logger (cost of a call).
LIMITS_FILE_NAME = "aigw_limits.json"
# The shared store of `limits.store: redis` (LiteLLM's Redis cache: its rate limiter's counters
# and aigw's monthly spend), named by variable: the password is a secret.
REDIS_HOST_VAR = "AIGW_REDIS_HOST"
REDIS_PORT_VAR = "AIGW_REDIS_PORT"
REDIS_PASSWORD_VAR = "AIGW_REDIS_PASSWORD"
# LiteLLM's own switches for what it serves without a key (proxy/utils.py `_get_docs_url`,
# `_get_redoc_url`; proxy_server.py DISABLE_ADMIN_UI). The guard removes those routes too.
SURFACE_OFF = {"NO_DOCS": "True", "NO_REDOC": "True", "DISABLE_ADMIN_UI": "True"}
# The guard's request body limit in bytes (gateway.max_request_mb).
BODY_LIMIT_VAR = "AIGW_MAX_BODY_BYTES"


class _Quoted(str):
    """A string always written single-quoted (api-versions must never read back as dates)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="'")
)


@dataclass(frozen=True)
class RenderedGateway:
    config_yaml: str
    sha256: str
    args: tuple[str, ...]
    env: dict[str, str]  # plain (non-secret) environment of the container
    # file name -> content, for each file of the config volume (mounted at CONFIG_MOUNT_DIR)
    files: dict[str, str]


def _model_entry(
    model: ModelConfig,
    endpoint: str,
    *,
    key: bool = True,
    route: _routes.Route | None = None,
) -> dict[str, Any]:
    deployment = route.deployment if route else model.deployment_name
    upstream = route.upstream_name if route else PRIMARY
    params: dict[str, Any] = {
        "model": f"azure/{deployment}",
        "api_base": endpoint,
        # auth: identity names no key at all: LiteLLM then gets Entra ID tokens itself
        # (litellm_settings.enable_azure_ad_token_refresh, below).
        **({"api_key": f"os.environ/{_routes.key_var(upstream)}"} if key else {}),
        "api_version": _Quoted(model.api_version),
        **({"weight": route.weight} if route and route.weight is not None else {}),
    }
    info: dict[str, Any]
    if model.kind is ModelKind.responses:
        info = {"mode": "responses"}
    elif model.kind is ModelKind.embeddings:
        info = {
            "mode": "embedding",
            "base_model": f"azure/{deployment}",
            "output_vector_size": model.dimensions,
        }
    else:
        # Without base_model LiteLLM logs "Could not identify azure model" on every call.
        info = {"mode": "chat", "base_model": f"azure/{deployment}"}
    name = route.group if route else model.alias
    return {"model_name": name, "litellm_params": params, "model_info": info}


def litellm_config(config: EnvConfig) -> dict[str, Any]:
    """The LiteLLM proxy config as data. It holds no secret values, only `os.environ/...`."""
    used = config.used_upstreams().values() if config.multi_upstream else [config.azure_openai]
    key = all(u.auth == "key" for u in used)  # any identity upstream: tokens (below)
    router = _routes.router_settings(config)
    return {
        "model_list": [
            _model_entry(r.model, r.upstream.endpoint, key=r.upstream.auth == "key", route=r)
            for r in _routes.routes(config)
        ],
        **({"router_settings": router} if router else {}),
        "litellm_settings": {
            "drop_params": True,
            "request_timeout": 600,
            # One JSON line per call on stdout, for `aigw usage` (issue 14).
            "callbacks": [USAGE_CALLBACK, RESPONSES_CALLBACK],
            # auth: identity. LiteLLM 1.81.15 (llms/azure/common_utils.py) then builds a token
            # provider with no api_key given; with AZURE_CLIENT_ID in the container's environment
            # (the app identity's client id, desired.py) it picks ManagedIdentityCredential
            # (secret_managers/get_azure_ad_token_provider.py), for the scope
            # https://cognitiveservices.azure.com/.default.
            **({} if key else {"enable_azure_ad_token_refresh": True}),
            **_shared_store(config),
        },
        "general_settings": {
            # Every authenticated request passes aigw's guard first (issue 17, S1); it checks
            # the gateway key from its mounted file (GATEWAY_KEY_FILE_NAME). No master_key:
            # LiteLLM 1.81.15 needs none with custom_auth. proxy/auth/user_api_key_auth.py
            # `_user_api_key_auth_builder` returns the custom auth's answer before any master
            # key check; proxy_server.py reads master_key otherwise only for the admin UI and
            # /login routes (closed by the guard's Gate and DISABLE_ADMIN_UI), models and
            # teams kept in a database (none here) and as a salt for encrypted DB values and
            # response ids (responses_id_security, disabled below); spend_tracking_utils
            # `_is_master_key` is False for None.
            "custom_auth": GUARD_HOOK,
            # LiteLLM 1.81.15 encrypts response ids with the caller's user and team
            # (proxy/hooks/responses_id_security.py), anew on every streamed event: the ids of
            # one response differ and the OpenAI SDK's responses.stream() fails. What it
            # protects is void here: every caller is the same principal (one gateway key, no
            # user or team), the guard closes GET/DELETE /v1/responses/{id}, and Azure's ids
            # are random. See docs/security.md before binding ids to per-developer keys.
            "disable_responses_id_security": True,
        },
    }


def _shared_store(config: EnvConfig) -> dict[str, Any]:
    """`limits.store: redis`: LiteLLM's Redis cache, which its rate limiter counts in (the proxy
    hands `litellm.cache`'s Redis to `internal_usage_cache`, proxy_server.py `_init_cache` and
    `ProxyStartupEvent._initialize_startup_logging`) and aigw's spend too. Never a response
    cache: `mode: default_off` caches only a call that asks for it, and the guard lets no
    field or header through that could (`cache`, `caching`, Cache-Control)."""
    from aigw.config.limits import LimitStore

    if config.limits.store is not LimitStore.redis:
        return {}
    return {
        "cache": True,
        "cache_params": {
            "type": "redis",
            "host": f"os.environ/{REDIS_HOST_VAR}",
            "port": f"os.environ/{REDIS_PORT_VAR}",
            "password": f"os.environ/{REDIS_PASSWORD_VAR}",
            "mode": "default_off",
            "supported_call_types": [],
        },
    }


def limits_file(config: EnvConfig) -> str:
    """The limits file's text (deterministic: a change rolls a new revision)."""
    limits = config.limits
    prices = {alias: p.model_dump(exclude_none=True) for alias, p in config.prices().items()}
    data = {
        "tpm": limits.tpm,
        "rpm": limits.rpm,
        "monthly_budget": limits.monthly_budget,
        "prices": prices,
    }
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def dump_yaml(data: Any) -> str:
    # sort_keys=False keeps the order written above; output is deterministic for equal input.
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


def container_args(config: EnvConfig) -> tuple[str, ...]:
    """`args` for the LiteLLM image (its entrypoint is `litellm`)."""
    args = ["--config", CONFIG_PATH, "--port", str(config.gateway.port)]
    if config.gateway.workers > 1:
        args += ["--num_workers", str(config.gateway.workers)]
    embed_version = config.embeddings_api_version
    if embed_version:
        # LiteLLM 1.81.15 ignores an embeddings model's api_version and uses this one.
        args += ["--api_version", embed_version]
    return tuple(args)


def guard_source(name: str = GUARD_FILE_NAME) -> str:
    """A shipped module's text (the guard unless named), as it goes into the config volume."""
    return (resources.files("aigw.gateway") / "files" / name).read_text()


def volume_digest(files: dict[str, str]) -> str:
    """One digest over every file of the volume: a change to any of them rolls a new revision."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{len(files[name])}\0".encode())
        h.update(files[name].encode())
    return h.hexdigest()


def render_gateway(config: EnvConfig) -> RenderedGateway:
    text = dump_yaml(litellm_config(config))
    files = {
        CONFIG_FILE_NAME: text,
        GUARD_FILE_NAME: guard_source(),
        USAGE_FILE_NAME: guard_source(USAGE_FILE_NAME),
        RESPONSES_FILE_NAME: guard_source(RESPONSES_FILE_NAME),
        LIMITS_FILE_NAME: limits_file(config),
    }
    digest = volume_digest(files)
    env = {
        CONFIG_HASH_VAR: digest,
        # Readable in Azure (the config itself is a secret): a plan shows which models changed.
        MODELS_VAR: ",".join(m.alias for m in config.models),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        **SURFACE_OFF,
        # the guard's body limit (aigw_guard.py MAX_BODY_BYTES)
        BODY_LIMIT_VAR: str(config.gateway.max_request_mb * 1024 * 1024),
    }
    return RenderedGateway(
        config_yaml=text,
        sha256=digest,
        args=container_args(config),
        env=env,
        files=files,
    )


def write_secret_file(target: Path, content: str) -> None:
    """Write `content` to `target`, readable by its owner only from the first byte on."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        f.write(content)


def write_files(
    rendered: RenderedGateway, root: Path, *, gateway_key: str | None = None
) -> list[str]:
    """Write the config volume's files under `root` (as the container would see them below
    CONFIG_MOUNT_DIR) and return the container args with the config path pointing there.
    `gateway_key`: also the mounted gateway key (GATEWAY_KEY_FILE_NAME), as the container gets
    it from Key Vault; without it the guard accepts no gateway key."""
    local_dir = root.joinpath(*Path(CONFIG_MOUNT_DIR).parts[1:])
    local_dir.mkdir(parents=True, exist_ok=True)
    files = dict(rendered.files)
    if gateway_key is not None:
        files[GATEWAY_KEY_FILE_NAME] = gateway_key
    else:  # none from an earlier run either
        (local_dir / GATEWAY_KEY_FILE_NAME).unlink(missing_ok=True)
    for name, content in files.items():
        write_secret_file(local_dir / name, content)
    return [str(local_dir / CONFIG_FILE_NAME) if a == CONFIG_PATH else a for a in rendered.args]
