"""Where aigw talks to: real Azure (DefaultAzureCredential) or the local cloud, and the SDK
clients built for it. SDK modules are imported here, lazily, never on the `--help` path."""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigw.errors import AzureError, UserError

ARM_SCOPE = "https://management.azure.com/.default"


@dataclass
class Target:
    subscription_id: str
    credential: Any
    tenant_id: str | None = None
    base_url: str | None = None  # None: real Azure
    ca_file: Path | None = None
    local: bool = False
    local_state_dir: Path | None = None  # the local cloud's state (its name table)
    polling_interval: float | None = None
    debug_http: bool = False
    # azure-core retry settings for every client (e.g. retry_backoff_factor), None: defaults
    retry_options: dict[str, Any] | None = None

    def predicted_vault_uri(self, name: str) -> str:
        """Where vault `name` usually answers, known before its ARM GET (public cloud naming;
        the local cloud's ports follow the name, salted by its subscription). Callers check it
        against vaultUri."""
        if self.local:
            from aigw_localcloud.core.endpoint import predicted_vault_port

            return f"https://127.0.0.1:{predicted_vault_port(name, self.subscription_id)}/"
        return f"https://{name.lower()}.vault.azure.net/"

    def local_label_port(self, resource_group: str, app: str, label: str) -> int | None:
        """Under the local cloud: the port label `label` of container app `app` is bound to
        now, from the cloud's name table (what DNS answers for `<app>---<label>.<domain>` on
        Azure); None when no label listens or this is not the local cloud."""
        if not self.local or self.local_state_dir is None:
            return None
        from aigw_localcloud.core.endpoint import lookup_label

        app_id = (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.App/containerApps/{app}"
        )
        return lookup_label(self.local_state_dir, app_id, label)

    def local_caller_ip(self) -> str | None:
        """Under the local cloud: the address its apps' ingress sees callers come from (its
        setting AIGW_LOCALCLOUD_CALLER_IP, taken when it started, read from its endpoint file);
        None when this is not the local cloud or it reports none."""
        if not self.local or self.local_state_dir is None:
            return None
        from aigw_localcloud.core.endpoint import read_endpoint

        ep = read_endpoint(self.local_state_dir)
        return (ep.caller_ip or None) if ep is not None else None

    def client_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if self.base_url:
            kw["base_url"] = self.base_url
            kw["credential_scopes"] = [ARM_SCOPE]
        if self.ca_file:
            kw["connection_verify"] = str(self.ca_file)
        if self.polling_interval is not None:
            kw["polling_interval"] = self.polling_interval
        if self.debug_http:
            kw["logging_enable"] = True
        if self.retry_options:
            kw.update(self.retry_options)
        return kw


@dataclass
class Clients:
    """SDK clients for one target, built on first use and shared across threads."""

    target: Target
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.target.debug_http:
            from aigw.logs import enable_debug_logging

            enable_debug_logging()

    def _get(self, key: str, build: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def _mgmt(self, cls: Any) -> Any:
        t = self.target
        return cls(credential=t.credential, subscription_id=t.subscription_id, **t.client_kwargs())

    def mgmt(self, module: str, cls: str) -> Any:
        """A management client by its SDK module and class (a kind's `sdk_client`), imported
        on first use like the others."""
        import importlib

        def build() -> Any:
            return self._mgmt(getattr(importlib.import_module(module), cls))

        return self._get(f"{module}.{cls}", build)

    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._get("resources", lambda: self._mgmt(ResourceManagementClient))

    def loganalytics(self) -> Any:
        from azure.mgmt.loganalytics import LogAnalyticsManagementClient

        return self._get("loganalytics", lambda: self._mgmt(LogAnalyticsManagementClient))

    def apps(self) -> Any:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        return self._get("apps", lambda: self._mgmt(ContainerAppsAPIClient))

    def keyvault(self) -> Any:
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return self._get("keyvault", lambda: self._mgmt(KeyVaultManagementClient))

    def msi(self) -> Any:
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return self._get("msi", lambda: self._mgmt(ManagedServiceIdentityClient))

    def authorization(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._get("authorization", lambda: self._mgmt(AuthorizationManagementClient))

    def cognitive(self) -> Any:
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        return self._get("cognitive", lambda: self._mgmt(CognitiveServicesManagementClient))

    def secrets(self, vault_url: str, *, probe: bool = False) -> Any:
        """A SecretClient for the vault; `probe`: no retries (a guess at a URI that may not
        answer must fail fast)."""
        from azure.keyvault.secrets import SecretClient

        def build() -> Any:
            kw: dict[str, Any] = {}
            if probe:
                kw.update(retry_total=0, connection_timeout=3, read_timeout=5)
            if self.target.ca_file:
                kw["connection_verify"] = str(self.target.ca_file)
            if self.target.local:
                kw["verify_challenge_resource"] = False
            if self.target.debug_http:
                kw["logging_enable"] = True
            if self.target.retry_options and not probe:
                kw.update(self.target.retry_options)
            return SecretClient(vault_url=vault_url, credential=self.target.credential, **kw)

        return self._get(f"secrets{':probe' if probe else ''}:{vault_url}", build)

    def close(self) -> None:
        with self._lock:
            for client in self._cache.values():
                close = getattr(client, "close", None)
                if close:
                    close()
            self._cache.clear()


def token_claims(credential: Any) -> dict[str, Any]:
    """Claims of an ARM access token (oid, tid) without verifying it: only to learn who we are."""
    token = credential.get_token(ARM_SCOPE).token
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return dict(json.loads(base64.urlsafe_b64decode(payload)))
    except (IndexError, ValueError):
        return {}


def azure_target(subscription: str | None, *, debug_http: bool = False) -> Target:
    """Real Azure: DefaultAzureCredential (az login locally, OIDC in GitHub Actions)."""
    sub = subscription or os.environ.get("AZURE_SUBSCRIPTION_ID")
    if not sub:
        raise UserError(
            "no Azure subscription given",
            hint="pass --subscription, set subscription_id in the YAML, or export "
            "AZURE_SUBSCRIPTION_ID",
        )
    from azure.identity import DefaultAzureCredential

    cred = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    return Target(subscription_id=sub, credential=cred, debug_http=debug_http)


def principal_type(claims: dict[str, Any]) -> str | None:
    """ARM's principalType of the token's principal: Entra ID access tokens carry `idtyp`
    (`app` for service principals and managed identities, `user` for people); without it a
    delegated token (one with `scp`) is a user's. None: unknown (leave principalType out)."""
    idtyp = str(claims.get("idtyp") or "").lower()
    if idtyp == "app":
        return "ServicePrincipal"
    if idtyp == "user" or claims.get("scp"):
        return "User"
    return None


def whoami_principal_type(target: Target) -> tuple[str, str, str | None]:
    """(object id, tenant id, principalType or None) of the deployer, from its token."""
    from azure.core.exceptions import ClientAuthenticationError

    try:
        claims = token_claims(target.credential)
    except ClientAuthenticationError as e:
        raise AzureError(
            "cannot sign in to Azure: " + str(e).splitlines()[0],
            hint="run 'az login' (locally) or configure azure/login with OIDC (CI)",
        ) from None
    oid, tid = claims.get("oid"), claims.get("tid") or target.tenant_id
    if not oid or not tid:
        raise AzureError("the Azure token carries no object id (oid) or tenant id (tid)")
    return str(oid), str(tid), principal_type(claims)
