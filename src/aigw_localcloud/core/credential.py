"""A static-token credential for the local cloud (azure-core TokenCredential protocol).

The token is an unsigned JWT-shaped string whose payload names the calling principal (`oid`),
its tenant (`tid`) and its kind (`idtyp`: `user` for a person, `app` for a service principal or
a managed identity, as Entra ID access tokens carry it: learn.microsoft.com/entra/identity-platform
/access-token-claims-reference, "idtyp"); the emulator reads it to decide who calls. Never valid
against real Azure.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

# Defaults used when no cloud is at hand; a LocalCloud has its own generated ids.
DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000aigw"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_token(principal_id: str, tenant_id: str, idtyp: str = "user") -> str:
    if idtyp not in ("user", "app"):
        raise ValueError(f"idtyp must be 'user' or 'app', not {idtyp!r}")
    header = _b64({"alg": "none", "typ": "JWT"})
    claims = {"oid": principal_id, "tid": tenant_id, "iss": "aigw-localcloud", "idtyp": idtyp}
    payload = _b64(claims)
    return f"{header}.{payload}.localcloud"


class LocalCredential:
    """`LocalCredential(principal_id, tenant_id, idtyp)`; `cloud.credential()` for the deployer
    (it knows each principal's kind)."""

    def __init__(
        self, principal_id: str, tenant_id: str = DEFAULT_TENANT, idtyp: str = "user"
    ) -> None:
        self.principal_id = principal_id
        self.tenant_id = tenant_id
        self.idtyp = idtyp
        self._token = make_token(principal_id, tenant_id, idtyp)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        return None

    def __enter__(self) -> LocalCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def token_kind(state_dir: Path, principal_id: str) -> str:
    """The `idtyp` the local cloud in `state_dir` issues to this principal (user or app): the
    cloud is the token issuer, so its directory decides."""
    from .rbac import directory_principal_type
    from .state import StateStore

    with StateStore(state_dir).read() as st:
        kind = directory_principal_type(st, principal_id) if st else None
    return "user" if kind in (None, "User") else "app"
