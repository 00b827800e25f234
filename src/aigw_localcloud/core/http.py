"""Request/response values shared by the ARM and vault listeners (the router that maps them to
handlers is in engine.py, beside the Engine its handlers take)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import CloudError


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
