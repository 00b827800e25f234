"""Request/response values and a small regex router shared by the ARM and vault listeners."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import CloudError

if TYPE_CHECKING:
    from .core import Engine


@dataclass
class Request:
    method: str
    path: str  # normalised: no query, no repeated slashes, no trailing slash
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    listener: str  # "arm" or the lower-cased vault name
    host: str
    principal: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise CloudError(
                400, "InvalidRequestContent", f"The request content was invalid: {e}"
            ) from e


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # A streamed body (log stream): written as it comes, then the connection closes.
    stream: Iterable[bytes] | None = None


Handler = Callable[["Engine", Request], Response]


class Router:
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
