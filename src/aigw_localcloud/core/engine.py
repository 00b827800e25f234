"""The emulator engine: state, timing, operations, auth, dispatch to the route modules.

The HTTP server (server.py) turns sockets into `Request`s and hands them to `Engine.dispatch`;
everything Azure-like (status codes, bodies, LRO headers, RBAC) is decided here and in the
route modules (arm/, vault/), which register their handlers on a `Router` and their LRO
finishers with `finisher` (both defined here, beside the Engine they take).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import lro
from .app_runner import AppRunner
from .capture import Capture
from .errors import CloudError, group_not_found
from .faults import Faults
from .http import Request, Response
from .journal import Journal
from .lro import Timing
from .state import State, StateStore
from .util import key, now


def decode_token(token: str) -> dict[str, Any] | None:
    """LocalCredential tokens are unsigned JWT-shaped strings carrying oid and tid."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        pad = "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + pad))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) and "oid" in claims else None


# ------------------------------------------------------------- routes and LRO finishers
Handler = Callable[["Engine", Request], Response]


class Router:
    """A small regex router: (method, path pattern) -> handler, for the ARM and vault listeners."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile("^" + pattern + "$", re.I), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(method, pattern, fn)
            return fn

        return deco

    def find(self, req: Request) -> Handler | None:
        path_matched = False
        for method, rx, handler in self._routes:
            m = rx.match(req.path)
            if not m:
                continue
            path_matched = True
            if method == req.method:
                req.params = {k: v for k, v in m.groupdict().items() if v is not None}
                return handler
        if path_matched:
            raise CloudError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{req.method}'.",
            )
        return None


Finisher = Callable[["Engine", dict[str, Any]], None]
FINISHERS: dict[str, Finisher] = {}
# Finishers that may block (they start apps): run in their own thread, never under the lock.
SLOW_KINDS: set[str] = set()


def finisher(kind: str, *, slow: bool = False) -> Callable[[Finisher], Finisher]:
    def deco(fn: Finisher) -> Finisher:
        FINISHERS[kind] = fn
        if slow:
            SLOW_KINDS.add(kind)
        return fn

    return deco


class Engine:
    def __init__(
        self,
        directory: Path,
        *,
        timing: Timing,
        propagation_delay: float,
        retry_after: int | None,
        runner: AppRunner | None,
        faults: Faults,
        journal: Journal,
    ) -> None:
        self.directory = directory
        self.store = StateStore(directory)
        self.timing = timing
        self.propagation_delay = propagation_delay
        self.retry_after = retry_after
        self.runner = runner
        self.faults = faults
        self.journal = journal
        self.capture = Capture.from_env()  # traffic files for oav, when asked for
        self.arm_url = ""
        self.open_vault_listener: Callable[[str, int | None], int] = lambda name, port: 0
        self.close_vault_listener: Callable[[str], None] = lambda name: None
        self.arm_routers: list[Router] = []
        self.data_routers: list[Router] = []
        self.vault_router = Router()
        self._settle_lock = threading.Lock()
        self._fail_next: set[str] = set()  # resource ids whose next operation fails
        self.runner_lock = threading.RLock()
        # Azure OpenAI emulators standing for Microsoft.CognitiveServices accounts
        # (routes_cognitive; each an aoai.AzureOpenAIEmulator with its account settings).
        self.openai_accounts: list[Any] = []
        # The address the apps' ingress sees callers come from (arm/ingress_rules.py).
        self.caller_ip = ""

    # ----------------------------------------------------------------- identity of the caller
    @property
    def subscription_id(self) -> str:
        with self.store.read() as st:
            return str(st["subscription_id"])

    def lro_headers(self) -> dict[str, str]:
        """Retry-After for LRO answers. The SDKs parse it as an int, so it is whole seconds;
        None (test knob) omits it and the client falls back to its polling_interval."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}

    # ----------------------------------------------------------------------- operations
    def settle(self) -> None:
        """Run the finishers of due operations (fast ones inline, slow ones in threads)."""
        t = now()
        with self.store.read() as st:
            due = [
                op["id"]
                for op in st["operations"].values()
                if op["status"] == "InProgress" and not op["claimed"] and op["due"] <= t
            ]
        if not due:
            return
        claimed: list[dict[str, Any]] = []
        with self.store.write() as st:
            for op_id in due:
                op = st["operations"].get(op_id)
                if op and op["status"] == "InProgress" and not op["claimed"]:
                    op["claimed"] = True
                    claimed.append(dict(op))
        for op in claimed:
            fn = FINISHERS.get(op["kind"])
            if self._take_failure(op):
                self._fail(op)
            elif fn is None:
                self.complete(op["id"])
            elif op["kind"] in SLOW_KINDS:
                threading.Thread(
                    target=self._run_finisher, args=(fn, op), daemon=True, name=f"lro-{op['kind']}"
                ).start()
            else:
                self._run_finisher(fn, op)

    def _run_finisher(self, fn: Finisher, op: dict[str, Any]) -> None:
        try:
            fn(self, op)
        except CloudError as e:
            self.complete(op["id"], {"code": e.code, "message": e.message})
        except Exception as e:  # a bug in a finisher must not leave the operation hanging
            self.complete(op["id"], {"code": "InternalServerError", "message": str(e)})

    def fail_next_operation(self, resource_path: str) -> None:
        """The "failed" fault: the next operation on this resource will end Failed."""
        with self._settle_lock:
            self._fail_next.add(key(resource_path))

    def _take_failure(self, op: dict[str, Any]) -> bool:
        with self._settle_lock:
            rid = key(op["resource_id"])
            if rid in self._fail_next and not op["kind"].endswith(".delete"):
                self._fail_next.discard(rid)
                return True
            return False

    def _fail(self, op: dict[str, Any]) -> None:
        """End an operation Failed and leave its resource in provisioningState Failed (the
        terminal state ARM reports after a failed PUT; see faults.py)."""
        with self.store.write() as st:
            r = st["resources"].get(key(op["resource_id"]))
            if r is not None and r.get("_op") == op["id"]:
                r["properties"]["provisioningState"] = "Failed"
                for rev in r.get("_revisions") or []:
                    if rev.get("active"):
                        rev["state"] = "Failed"
            lro.finish(
                st["operations"][op["id"]],
                {"code": "InjectedFailure", "message": "The operation failed (injected fault)."},
            )

    def complete(self, op_id: str, error: dict[str, Any] | None = None) -> None:
        with self.store.write() as st:
            op = st["operations"].get(op_id)
            if op and op["status"] == "InProgress":
                lro.finish(op, error)

    def operation(self, op_id: str) -> dict[str, Any] | None:
        with self.store.write() as st:
            op = st["operations"].get(op_id)
            if op is None:
                return None
            lro.mark_observed(op)
            return dict(op)

    # ----------------------------------------------------------------- common ARM checks
    def require_provider(self, st: State, namespace: str) -> None:
        p = st["providers"].get(namespace.lower())
        if p is None or p["state"] != "Registered":
            raise CloudError(
                409,
                "MissingSubscriptionRegistration",
                f"The subscription is not registered to use namespace '{namespace}'. See "
                "https://aka.ms/rps-not-found for how to register subscriptions.",
                extra={
                    "details": [
                        {
                            "code": "MissingSubscriptionRegistration",
                            "target": namespace,
                            "message": f"The subscription is not registered to use namespace "
                            f"'{namespace}'. See https://aka.ms/rps-not-found for how to "
                            "register subscriptions.",
                        }
                    ]
                },
            )

    def require_subscription(self, st: State, sub: str) -> None:
        if sub.lower() != st["subscription_id"].lower():
            raise CloudError(
                404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
            )

    def require_group(self, st: State, sub: str, rg: str) -> dict[str, Any]:
        self.require_subscription(st, sub)
        g = st["resource_groups"].get(rg.lower())
        if g is None:
            raise group_not_found(rg)
        if g["properties"]["provisioningState"] == "Deleting":
            raise CloudError(
                409,
                "ResourceGroupBeingDeleted",
                f"The resource group '{g['name']}' is in deprovisioning state and cannot perform "
                "this operation.",
            )
        return dict(g)

    def op_url(self, path: str, api_version: str | None) -> str:
        return f"{self.arm_url}{path}?api-version={api_version or '2025-01-01'}"

    # ----------------------------------------------------------------------- dispatch
    def dispatch(self, req: Request) -> Response:
        self.settle()
        if req.listener == "arm":
            return self._dispatch_arm(req)
        return self._dispatch_vault(req)

    def _dispatch_arm(self, req: Request) -> Response:
        # Data-plane APIs served beside ARM (Logs query, log stream): no api-version, their
        # own tokens; each handler authenticates its caller.
        for router in self.data_routers:
            handler = router.find(req)
            if handler is not None:
                return handler(self, req)
        auth = req.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise CloudError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                    'error="invalid_token", error_description="The authentication failed '
                    "because of missing 'Authorization' header.\""
                },
            )
        claims = decode_token(auth[7:].strip())
        if claims is None:
            raise CloudError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            )
        req.principal = str(claims["oid"])
        if not req.api_version:
            raise CloudError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        for router in self.arm_routers:
            handler = router.find(req)
            if handler is not None:
                resp = handler(self, req)
                return self._hint_polling(req, resp)
        raise CloudError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found in the namespace for path '{req.path}' and "
            f"api version '{req.api_version}'.",
        )

    def _hint_polling(self, req: Request, resp: Response) -> Response:
        """Body-polled LROs (vault, workspace) poll the resource itself; without a Retry-After
        on that GET the SDK falls back to its 30 s default. Send one while provisioning."""
        if req.method == "GET" and isinstance(resp.body, dict):
            state = str((resp.body.get("properties") or {}).get("provisioningState", "Succeeded"))
            if state not in ("Succeeded", "Failed", "Canceled"):
                resp.headers.update(self.lro_headers())
        return resp

    def _dispatch_vault(self, req: Request) -> Response:
        handler = self.vault_router.find(req)
        if handler is None:
            raise CloudError(404, "NotFound", f"The requested path {req.path} was not found.")
        return handler(self, req)

    # ------------------------------------------------------------------ helpers for routes
    def vault_uri(self, port: int) -> str:
        return f"https://127.0.0.1:{port}/"

    def resource(self, st: State, resource_id: str) -> dict[str, Any] | None:
        r = st["resources"].get(key(resource_id))
        return r


def public(body: dict[str, Any]) -> dict[str, Any]:
    """A stored resource without the emulator's private fields (keys starting with '_')."""
    return {k: v for k, v in body.items() if not k.startswith("_")}


def finish_provisioning(eng: Engine, op: dict[str, Any]) -> None:
    """An LRO finisher: the resource the operation created is now Succeeded."""
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is not None and r.get("_op") == op["id"]:
            r["properties"]["provisioningState"] = "Succeeded"
        lro.finish(st["operations"][op["id"]])
