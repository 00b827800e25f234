"""The managed identity endpoint Container Apps gives each app: `IDENTITY_ENDPOINT` and
`IDENTITY_HEADER` in its environment, a local http endpoint issuing tokens for the app's
identities (learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference:
GET {IDENTITY_ENDPOINT}?resource=<audience>&api-version=2019-08-01[&client_id=<id>], header
X-IDENTITY-HEADER; answer {access_token, expires_on, resource, token_type, client_id}).

azure-identity 1.27 (msal 1.39 `_obtain_token_on_app_service`) uses exactly this when both
variables are set; plain http, as on Azure, where the endpoint is local to the replica.

Tokens are the local cloud's unsigned JWT-shaped strings (credential.make_token's format) with
`aud` (the resource asked for), `appid` (the identity's client id) and `exp` added.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .engine import Engine
from .util import key

API_VERSION = "2019-08-01"
PATH = "/msi/token"
LIFETIME = 24 * 3600  # Entra ID managed identity tokens live ~24 h

_lock = threading.Lock()
_engines: list[Engine] = []
_headers: dict[str, str] = {}  # IDENTITY_HEADER -> app key (ARM id, lower case)
_server: ThreadingHTTPServer | None = None


def register(engine: Engine) -> None:
    """A cloud whose apps get identity endpoints (its state answers the token requests)."""
    with _lock:
        _engines.append(engine)


def unregister(engine: Engine) -> None:
    with _lock:
        if engine in _engines:
            _engines.remove(engine)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def issue(principal_id: str, tenant_id: str, audience: str, client_id: str) -> tuple[str, int]:
    exp = int(time.time()) + LIFETIME
    claims = {
        "oid": principal_id,
        "tid": tenant_id,
        "iss": "aigw-localcloud",
        "idtyp": "app",
        "aud": audience,
        "appid": client_id,
        "exp": exp,
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.localcloud", exp


def claims_of(token: str) -> dict[str, Any] | None:
    """The claims of a local cloud token (None: not one)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("iss") == "aigw-localcloud" else None


def platform_env(app: Mapping[str, Any]) -> dict[str, str]:
    """IDENTITY_ENDPOINT and IDENTITY_HEADER for an app with a user-assigned identity (none
    without one, or when no cloud registered)."""
    identities = (app.get("identity") or {}).get("userAssignedIdentities") or {}
    if not identities or not _engines:
        return {}
    url = _ensure_server()
    # A revision's own process (multiple-revision mode) carries "<app>/revisions/<name>" as
    # its id: the identity is the app's.
    app_key = key(str(app.get("id", "")).split("/revisions/", 1)[0])
    with _lock:
        header = next((h for h, k in _headers.items() if k == app_key), None)
        if header is None:
            header = secrets.token_hex(16)
            _headers[header] = app_key
    return {"IDENTITY_ENDPOINT": url, "IDENTITY_HEADER": header}


def _ensure_server() -> str:
    global _server
    with _lock:
        if _server is None:
            _server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, name="msi", daemon=True).start()
        return f"http://127.0.0.1:{_server.server_address[1]}{PATH}"


def _answer(query: Mapping[str, str], header: str | None) -> tuple[int, dict[str, Any]]:
    with _lock:
        app_key = _headers.get(header or "")
        engines = list(_engines)
    if app_key is None:
        return 401, {"statusCode": 401, "message": "Unauthorized: X-IDENTITY-HEADER is wrong"}
    if query.get("api-version") != API_VERSION:
        return 400, {"statusCode": 400, "message": f"api-version must be {API_VERSION}"}
    resource = query.get("resource") or ""
    if not resource:
        return 400, {"statusCode": 400, "message": "resource is required"}
    for eng in engines:
        with eng.store.read() as st:
            app = st["resources"].get(app_key)
            if app is None:
                continue
            assigned = (app.get("identity") or {}).get("userAssignedIdentities") or {}
            idents = [st["resources"].get(key(i)) for i in assigned]
            idents = [i for i in idents if i is not None]
            want = query.get("client_id")
            if not want:
                # The apps here have no system-assigned identity, so a request that names no
                # user-assigned one is refused even when the app has a single one: 400
                # "Unable to load the proper Managed Identity." (microsoft/azure-container-apps
                # #442, body as quoted in Azure/azure-sdk-for-net#43691; learn.microsoft.com/
                # azure/container-apps/managed-identity: "the user-assigned managed identity
                # client id must be specified"). Stricter than needed: `mi_res_id` and
                # `principal_id`, which the REST reference also accepts, are not read.
                return 400, _refusal("Unable to load the proper Managed Identity.")
            idents = [i for i in idents if i["properties"]["clientId"].lower() == want.lower()]
            if not idents:
                # a client id that is not one of the app's (azure-cli#20196 quotes this text)
                return 400, _refusal("Unable to load requested managed identity.")
            props = idents[0]["properties"]
            token, exp = issue(props["principalId"], st["tenant_id"], resource, props["clientId"])
            return 200, {
                "access_token": token,
                "expires_on": str(exp),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": props["clientId"],
            }
    return 404, {"statusCode": 404, "message": "the app no longer exists"}


def _refusal(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "message": message, "correlationId": str(uuid.uuid4())}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        if split.path != PATH:
            status, body = 404, {"statusCode": 404, "message": "not found"}
        else:
            status, body = _answer(query, self.headers.get("X-IDENTITY-HEADER"))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
