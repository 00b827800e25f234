"""aigw's guard inside the LiteLLM proxy.

aigw ships this file next to `config.yaml` in the container's config volume; LiteLLM loads it
as `general_settings.custom_auth: aigw_guard.user_api_key_auth` (LiteLLM 1.81.15,
`proxy/auth/user_api_key_auth.py`: a custom auth function is called for every authenticated
route, after LiteLLM has parsed the body, and its answer is final). It runs inside LiteLLM's own
Python, never inside aigw; aigw imports it only in tests, for `check_request` on plain data.

Why it exists (issue 17, S1): LiteLLM lets a request carry its own upstream. `user_config`
builds a router from the body, `api_base`/`base_url` with any `api_key` pass LiteLLM's own
`is_request_body_safe` check (a client bringing "complete credentials"), body-supplied
`fallbacks` name new deployments, and LiteLLM resolves `os.environ/NAME` strings in those
settings from the process environment. So any holder of the gateway key could have the Azure
OpenAI key (or the gateway key) sent to a URL of their choosing. LiteLLM has no setting that
turns all of this off, so the guard refuses, before routing:

- any route but the OpenAI-compatible ones coding clients use (models, chat completions,
  embeddings, responses); the admin routes the master key opens (`/model/new`, `/health`,
  `/key/*`, pass-through routes, ...) answer 404;
- any request whose `model` is not one of the configured aliases (no provider models such as
  `azure/x` or `openai/gpt-4o`, no comma-separated batches);
- any body or query key that sets an upstream, a credential, a router or logging setting
  (FORBIDDEN_KEYS, FORBIDDEN_PREFIXES), at the top level or inside `metadata`;
- any `os.environ/` reference where LiteLLM would resolve it (top-level values, `metadata`).

On load it also puts a gate in front of LiteLLM's app that answers 404 for every path but those
routes and the two probe paths (docs, the admin UI, `/routes`, `/debug/*`, `/sso/*`, ... are
served by LiteLLM without a key), see `PathGate`.

The key is compared in constant time with LiteLLM's master key (named ADMIN_NAME), else its
SHA-256 is looked up among the developer keys in KEYS_FILE, mounted beside this file from Key
Vault (issue 14; format and why plain SHA-256 suffices: aigw/gateway/team_keys.py). A wrong,
revoked, expired or missing key is a 401 with an OpenAI-style error body (LiteLLM alone
answers `400 No connected db.`); a model outside a developer key's list is a 403. Every refusal
above applies to every key. The key's name reaches LiteLLM's logging as `key_alias` and
`user_id` (standard logging metadata `user_api_key_alias`, `user_api_key_user_id`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

# (method, path) of the routes clients may call. Coding clients need nothing else:
# Codex CLI uses /v1/responses, Roo Code / Continue / Qoder chat completions and models.
ALLOWED_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/v1/models"),
        ("GET", "/models"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/chat/completions"),
        ("POST", "/v1/embeddings"),
        ("POST", "/embeddings"),
        ("POST", "/v1/responses"),
        ("POST", "/responses"),
    }
)
# The probes of the container app (startup, liveness, readiness); no key, no upstream call.
PROBE_PATHS: frozenset[str] = frozenset({"/health/liveliness", "/health/readiness"})

# Request keys through which LiteLLM 1.81.15 takes an upstream, a credential, routing or
# logging settings from the client (read from litellm/main.py, router.py,
# proxy/route_llm_request.py, litellm_core_utils/initialize_dynamic_callback_params.py).
FORBIDDEN_KEYS: frozenset[str] = frozenset(
    {
        "user_config",
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "api_type",
        "organization",
        "deployment_id",
        "custom_llm_provider",
        "model_list",
        "router_settings_override",
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "default_fallbacks",
        "model_group_retry_policy",
        "num_retries",
        "max_retries",
        "timeout",
        "stream_timeout",
        "extra_headers",
        "headers",
        "extra_body",
        "client_id",
        "client_secret",
        "tenant_id",
        "region_name",
        "callbacks",
        "success_callback",
        "failure_callback",
        "service_callback",
        "logger_fn",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "output_cost_per_second",
        "proxy_server_request",
        "secret_fields",
        "slack_webhook_url",
        "hf_model_name",
        "guardrails",
    }
)
FORBIDDEN_PREFIXES: tuple[str, ...] = (
    "azure_",  # azure_ad_token, azure_ad_token_provider, azure_username, azure_password, ...
    "aws_",
    "vertex_",
    "litellm_",  # litellm_params, litellm_metadata, litellm_credential_name, ...
    "mock_",  # mock_response, mock_testing_fallbacks, ...
    "langfuse_",
    "langsmith_",
    "gcs_",
    "humanloop_",
    "arize_",
    "posthog_",
    "braintrust_",
    "lunary_",
)
# Dicts in the body that LiteLLM reads settings from (callback params, credentials).
NESTED_SETTINGS: tuple[str, ...] = ("metadata",)
ENV_REFERENCE = "os.environ/"
# Fields that carry the user's text: LiteLLM never resolves `os.environ/` in them (it does only
# in the settings refused above), and a prompt may well mention the syntax.
CONTENT_KEYS: frozenset[str] = frozenset({"input", "instructions", "prompt", "messages", "user"})
# LiteLLM headers that change retries and timeouts per request (amplification on a failing
# upstream); the gateway's own settings apply.
FORBIDDEN_HEADERS: frozenset[str] = frozenset(
    {"x-litellm-num-retries", "x-litellm-timeout", "x-litellm-stream-timeout"}
)


ADMIN_NAME = "aigw-admin"
KEYS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aigw_keys.json")
# The gateway (master) key, mounted as a file beside this one (never in the environment, where
# an `os.environ/` reference could name it). Only its SHA-256 is kept in memory.
GATEWAY_KEY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aigw_gateway_key")


# A NamedTuple, not a dataclass: LiteLLM loads this file with spec_from_file_location without
# registering it in sys.modules, which dataclasses need.
class Refusal(NamedTuple):
    status: int
    message: str
    param: str | None = None
    type: str = "invalid_request_error"


def _forbidden(key: str) -> bool:
    lowered = key.lower()
    return lowered in FORBIDDEN_KEYS or lowered.startswith(FORBIDDEN_PREFIXES)


def _keys_and_values(data: Mapping[str, Any], where: str) -> Refusal | None:
    for key, value in data.items():
        # The client's own key names are echoed (and logged by LiteLLM): shortened.
        name = f"{where}{str(key)[:64]}"
        if not isinstance(key, str) or _forbidden(key):
            return Refusal(
                400,
                f"'{name}' is not accepted by this gateway: upstream, credential and "
                "routing settings are the gateway's own",
                param=name,
            )
        if key not in CONTENT_KEYS and isinstance(value, str) and ENV_REFERENCE in value:
            return Refusal(400, f"'{name}' may not reference the environment", name)
    return None


# A model's group of one upstream is named <alias>@<upstream> (aigw.gateway.routes.PIN): only
# the master key may call it, and no key sees it listed.
PIN = "@"


def check_request(
    method: str,
    path: str,
    body: Any,
    query: Mapping[str, str],
    headers: Iterable[str],
    models: Iterable[str],
) -> Refusal | None:
    """Why this request is refused, or None. Pure: plain data in, plain data out."""
    method = method.upper()
    if (method, path) not in ALLOWED_ROUTES:  # the gate refuses these first; twice is cheap
        return Refusal(404, f"{method} {path} is not served by this gateway", type="not_found")
    for header in headers:
        if header.lower() in FORBIDDEN_HEADERS:
            return Refusal(400, f"header '{header}' is not accepted by this gateway", header)
    refusal = _keys_and_values(query, "")
    if refusal:
        return refusal
    if method != "POST":
        return None
    if not isinstance(body, Mapping):
        return Refusal(400, "the request body must be a JSON object")
    refusal = _keys_and_values(body, "")
    if refusal:
        return refusal
    for name in NESTED_SETTINGS:
        nested = body.get(name)
        if nested is None:
            continue
        if not isinstance(nested, Mapping):
            return Refusal(400, f"'{name}' must be an object", name)
        refusal = _keys_and_values(nested, f"{name}.")
        if refusal:
            return refusal
    model = body.get("model")
    allowed = set(models)
    if model not in allowed:
        shown = model if isinstance(model, str) and len(model) <= 100 else "<model>"
        return Refusal(
            400,
            f"model '{shown}' is not served by this gateway; models: {', '.join(sorted(allowed))}",
            param="model",
        )
    return None


def key_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no configured key refuses everyone (fail closed)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class DevKey(NamedTuple):
    name: str
    expires: datetime | None
    models: frozenset[str] | None  # None: every model


def parse_keys(text: str) -> dict[str, DevKey]:
    """sha256 hex -> DevKey from the keys file's text. Unreadable entries are skipped (their
    key then gets 401: fail closed)."""
    out: dict[str, DevKey] = {}
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return out
    keys = data.get("keys") if isinstance(data, dict) else None
    for name, rec in (keys or {}).items():
        try:
            expires = rec.get("expires")
            when = datetime.fromisoformat(expires) if expires else None
            if when is not None and when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            models = rec.get("models")
            allowed = frozenset(str(m) for m in models) if models is not None else None
            out[str(rec["sha256"]).lower()] = DevKey(str(name), when, allowed)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return out


class KeysFile:
    """The mounted keys file, parsed again only when its mtime, size or inode changes (one stat
    per request). A missing file means no developer keys (the master key still works)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp: tuple[int, int, int] | None = None
        self.keys: dict[str, DevKey] = {}

    def current(self) -> dict[str, DevKey]:
        try:
            st = os.stat(self.path)
        except OSError:
            self.stamp, self.keys = None, {}
            return self.keys
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self.stamp:
            try:
                with open(self.path, encoding="utf-8") as f:
                    self.keys = parse_keys(f.read())
            except OSError:
                self.keys = {}
            self.stamp = stamp
        return self.keys


class GatewayKeyFile:
    """The mounted gateway key's SHA-256, read again only when the file changes. None: no file
    (then no key is the gateway key: fail closed)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp: tuple[int, int, int] | None = None
        self.digest: str | None = None

    def current(self) -> str | None:
        try:
            st = os.stat(self.path)
        except OSError:
            self.stamp, self.digest = None, None
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self.stamp:
            try:
                with open(self.path, encoding="utf-8") as f:
                    value = f.read().strip()
                self.digest = hashlib.sha256(value.encode()).hexdigest() if value else None
            except OSError:
                self.digest = None
            self.stamp = stamp
        return self.digest


def is_gateway_key(api_key: str | None, digest: str | None) -> bool:
    """Constant-time comparison of the key's SHA-256 with the gateway key's (None: refuse)."""
    if not api_key or not digest:
        return False
    given = hashlib.sha256(api_key.encode()).hexdigest()
    return hmac.compare_digest(given.encode(), digest.encode())


def find_key(api_key: str | None, keys: Mapping[str, DevKey]) -> tuple[str, DevKey] | None:
    """(digest, entry) of a developer key, or None: every stored digest compared in constant
    time (no early exit; a team has tens of keys)."""
    if not api_key:
        return None
    given = hashlib.sha256(api_key.encode()).hexdigest().encode()
    found = None
    for stored, entry in keys.items():
        if hmac.compare_digest(stored.encode(), given):
            found = (stored, entry)
    return found


def key_refusal(entry: DevKey | None, model: Any, method: str, now: datetime) -> Refusal | None:
    """Why a developer key may not make this request (None: it may)."""
    if entry is None:
        return Refusal(401, INVALID_KEY, type="authentication_error")
    if entry.expires is not None and entry.expires <= now:
        return Refusal(
            401,
            f"this gateway key ({entry.name}) has expired; ask for a new one",
            type="authentication_error",
        )
    if method.upper() == "POST" and entry.models is not None and model not in entry.models:
        shown = ", ".join(sorted(entry.models)) or "none"
        return Refusal(
            403,
            f"model '{model}' is not allowed for this key ({entry.name}); its models: {shown}",
            param="model",
            type="permission_error",
        )
    return None


INVALID_KEY = "missing or invalid gateway key (send it as 'Authorization: Bearer <key>')"
_KEYS = KeysFile(KEYS_FILE)
_GATEWAY_KEY = GatewayKeyFile(GATEWAY_KEY_FILE)


def path_allowed(method: str, path: str) -> bool:
    """What the gate in front of LiteLLM lets through: the allowed routes and the probes."""
    if path in PROBE_PATHS:
        return method.upper() in ("GET", "HEAD")
    return (method.upper(), path) in ALLOWED_ROUTES


class PathGate:
    """An ASGI wrapper in front of LiteLLM's app: anything but an allowed route or a probe path
    gets 404 before LiteLLM sees it (LiteLLM serves docs, its admin UI, `/routes`,
    `/debug/asyncio-tasks`, `/sso/*`, `/fallback/login`, ... without a key)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket") and not path_allowed(
            scope.get("method", "GET"), scope.get("path", "")
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            body = b'{"error":{"message":"not found","type":"not_found","param":null,"code":"404"}}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.inner(scope, receive, send)


def install_gate(app: Any) -> None:
    """Put PathGate in front of a Starlette app, before or after it has started.

    LiteLLM loads this module while the app starts (its lifespan runs `load_config`), after
    Starlette built `app.middleware_stack`; Starlette calls that attribute for every request, so
    wrapping it takes effect at once. Before the first call it is None: add a middleware.
    """
    stack = getattr(app, "middleware_stack", None)
    if isinstance(stack, PathGate):
        return
    if stack is None:
        app.add_middleware(PathGate)
    else:
        app.middleware_stack = PathGate(stack)


# -- inside LiteLLM ------------------------------------------------------------------------------


def _proxy_error(refusal: Refusal) -> Exception:
    from litellm.proxy._types import ProxyException

    return ProxyException(
        message=refusal.message, type=refusal.type, param=refusal.param, code=refusal.status
    )


async def user_api_key_auth(request: Any, api_key: str) -> Any:
    """LiteLLM's custom auth hook: authenticate, then refuse what must not reach the router."""
    from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
    from litellm.proxy.common_utils.http_parsing_utils import _read_request_body
    from litellm.proxy.proxy_server import llm_router, master_key

    if request.url.path in PROBE_PATHS and request.method in ("GET", "HEAD"):
        # LiteLLM runs /health/readiness through authentication, then lets it pass as a public
        # route; the platform's readiness probe has no key.
        return UserAPIKeyAuth(user_role=LitellmUserRoles.INTERNAL_USER_VIEW_ONLY)
    name, digest, entry = ADMIN_NAME, "", None
    # the mounted file; until every caller mounts it, LiteLLM's master key (its environment)
    admin = _GATEWAY_KEY.current()
    is_admin = (
        is_gateway_key(api_key, admin) if admin is not None else key_matches(api_key, master_key)
    )
    if not is_admin:
        found = find_key(api_key, _KEYS.current())
        if found is None:
            raise _proxy_error(Refusal(401, INVALID_KEY, type="authentication_error"))
        digest, entry = found
        name = entry.name
        refusal = key_refusal(entry, None, "GET", datetime.now(UTC))
        if refusal:  # expired: refused before the body is read
            raise _proxy_error(refusal)
    method = request.method
    body = await _read_request_body(request) if method == "POST" else {}
    names = llm_router.get_model_names() if llm_router is not None else []
    public = [m for m in names if PIN not in m]
    # <alias>@<upstream> (one upstream of a model, for the smoke test): the master key only
    models = names if entry is None else public
    refusal = check_request(
        method, request.url.path, body, dict(request.query_params), request.headers.keys(), models
    )
    if refusal:
        raise _proxy_error(refusal)
    if entry is not None:
        model = body.get("model") if isinstance(body, Mapping) else None
        refusal = key_refusal(entry, model, method, datetime.now(UTC))
        if refusal:
            raise _proxy_error(refusal)
    # api_key: the digest, never the key (LiteLLM logs it as user_api_key_hash); the name goes
    # to logging metadata as user_api_key_alias and user_api_key_user_id
    # (proxy/litellm_pre_call_utils.py get_sanitized_user_information_from_key).
    digest = digest or hashlib.sha256(api_key.encode()).hexdigest()
    return UserAPIKeyAuth(
        api_key=digest,
        token=digest,
        key_alias=name,
        user_id=name,
        user_role=LitellmUserRoles.INTERNAL_USER,
        # what GET /v1/models lists: the configured aliases, never the hidden groups
        **({"models": public} if method == "GET" and len(public) < len(names) else {}),
    )


def _on_load() -> None:
    server = sys.modules.get("litellm.proxy.proxy_server")
    app = getattr(server, "app", None)
    if app is not None:
        install_gate(app)


_on_load()
