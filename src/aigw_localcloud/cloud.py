"""LocalCloud: the in-process entry point that runs the ARM and Key Vault emulators.

with LocalCloud(tmp_path) as cloud:
    client = KeyVaultManagementClient(cloud.credential(), cloud.subscription_id,
                                      base_url=cloud.arm_url,
                                      connection_verify=str(cloud.ca_file))
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .apps import console_logs
from .arm import (
    action_group,
    alert_rule,
    app_logs,
    cognitive,
    container_app,
    container_env,
    identity,
    ingress_rules,
    key_vault,
    log_analytics,
    redis_enterprise,
    registries,
    resources,
    revisions,
    role_assignment,
    usages,
)
from .arm.app_restart import restart_active_apps
from .arm.locations import namespaces
from .arm.traffic import close_engine as close_fronts
from .core import msi_endpoint
from .core.app_runner import AppRunner
from .core.credential import LocalCredential, token_kind
from .core.endpoint import LocalCloudEndpoint, predicted_vault_port, remove_endpoint, write_endpoint
from .core.engine import Engine
from .core.faults import Faults
from .core.journal import Journal
from .core.lro import Timing
from .core.rbac import DEFAULT_PROPAGATION_DELAY
from .core.server import Listener
from .core.state import empty_state
from .core.tls import TlsFiles, ensure_certificates
from .core.util import guid
from .vault import kv_secrets


class LocalCloud:
    def __init__(
        self,
        state_dir: Path,
        *,
        latency: str = "instant",
        scale: float = 1.0,
        propagation_delay: float = DEFAULT_PROPAGATION_DELAY,
        app_runner: AppRunner | None = None,
        retry_after: int | None = 1,
        arm_port: int = 0,
        caller_ip: str | None = None,
    ) -> None:
        """`retry_after`: whole seconds of Retry-After sent on LRO answers, like Azure (>= 1;
        azure-core treats 0 as absent and the SDKs parse it as int). `None` omits the header
        so a fast test suite can set the clients' `polling_interval` instead. `caller_ip`: the
        address the apps' ingress sees callers come from (default: $AIGW_LOCALCLOUD_CALLER_IP,
        else 192.0.2.10; arm/ingress_rules.py)."""
        if retry_after is not None and (int(retry_after) != retry_after or retry_after < 1):
            raise ValueError("retry_after must be a whole number of seconds >= 1, or None")
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.faults = Faults()
        self.journal = Journal(self.state_dir / "journal.jsonl")
        self.engine = Engine(
            self.state_dir,
            timing=Timing(latency, scale),
            propagation_delay=propagation_delay,
            retry_after=retry_after,
            runner=app_runner,
            faults=self.faults,
            journal=self.journal,
        )
        self.engine.caller_ip = ingress_rules.caller_address(caller_ip)
        self.engine.arm_routers = [
            role_assignment.router,
            resources.router,
            log_analytics.router,
            container_env.router,
            container_app.router,
            revisions.router,
            identity.router,
            key_vault.router,
            registries.router,
            usages.router,
            app_logs.router,
            action_group.router,
            alert_rule.router,
            redis_enterprise.router,
        ]
        self.engine.data_routers = [app_logs.data_router]
        self.engine.vault_router = kv_secrets.router
        self.engine.arm_routers.append(cognitive.router)
        msi_endpoint.register(self.engine)  # apps with an identity get IDENTITY_ENDPOINT
        self.engine.open_vault_listener = self._open_vault
        self.engine.close_vault_listener = self._close_vault
        self._arm_port = arm_port
        self.aoai_url = ""  # set by whoever runs an Azure OpenAI emulator beside this cloud
        self._tls: TlsFiles | None = None
        self._arm: Listener | None = None
        self._vaults: dict[str, Listener] = {}
        self._vault_lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.arm_url = ""
        store = self.engine.store
        if not store.exists():
            store.initialize(empty_state(guid(), guid(), guid(), namespaces()))
        with store.read() as st:
            self.subscription_id: str = st["subscription_id"]
            self.tenant_id: str = st["tenant_id"]
            self.deployer_principal_id: str = st["deployer_principal_id"]

    # ------------------------------------------------------------------------- lifecycle
    @property
    def ca_file(self) -> Path:
        return self.state_dir / "ca.pem"

    @property
    def cert_file(self) -> Path:
        return self.state_dir / "server.pem"

    @property
    def key_file(self) -> Path:
        return self.state_dir / "server.key"

    def start(self) -> LocalCloud:
        self._tls = ensure_certificates(self.state_dir)
        ctx = self._tls.server_context()
        self._arm = Listener(self._arm_port, ctx, self.engine, "arm")
        self.arm_url = f"https://127.0.0.1:{self._arm.port}"
        self.engine.arm_url = self.arm_url
        self._arm.start()
        with self.engine.store.write() as st:
            # Operations claimed by a process that died are re-run by this one.
            for op in st["operations"].values():
                if op["status"] == "InProgress":
                    op["claimed"] = False
            live_vaults = [
                r["name"].lower()
                for r in st["resources"].values()
                if r["type"] == "Microsoft.KeyVault/vaults"
            ] + list(st["deleted_vaults"])
            for name in live_vaults:
                port = self._open_vault(name, st["vault_ports"].get(name))
                if port != st["vault_ports"].get(name):
                    st["vault_ports"][name] = port
                    for r in st["resources"].values():
                        if r["type"] == "Microsoft.KeyVault/vaults" and r["name"].lower() == name:
                            r["properties"]["vaultUri"] = self.engine.vault_uri(port)
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, daemon=True, name="localcloud-lro")
        self._ticker.start()
        console_logs.start_ingest(self.engine, self._stop)
        redis_enterprise.resume(self.engine)  # its caches' servers, before the apps
        restart_active_apps(self.engine)  # their processes died with the previous cloud
        write_endpoint(self.state_dir, self.endpoint())
        return self

    def stop(self) -> None:
        self._stop.set()
        msi_endpoint.unregister(self.engine)
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        if self.engine.runner is not None:
            try:  # noqa: SIM105
                self.engine.runner.stop_all()
            except Exception:  # stopping must go on even if a runner misbehaves  # noqa: S110
                pass
        close_fronts(self.engine)  # multiple-revision apps' ingress (arm/traffic.py)
        redis_enterprise.stop_all(self.engine)  # the caches' redis-servers
        with self._vault_lock:
            vaults = list(self._vaults.values())
            self._vaults.clear()
        for listener in vaults:
            listener.stop()
        if self._arm is not None:
            self._arm.stop()
            self._arm = None
        remove_endpoint(self.state_dir, os.getpid())

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.engine.settle()
            except Exception:  # the ticker must survive a bad operation record  # noqa: S112
                continue

    def _open_vault(self, name: str, port: int | None) -> int:
        with self._vault_lock:
            if name in self._vaults:
                return self._vaults[name].port
            assert self._tls is not None, "cloud not started"
            ctx = self._tls.server_context()
            try:
                port = port or predicted_vault_port(name, self.subscription_id)
                listener = Listener(port, ctx, self.engine, name)
            except OSError:  # that port is taken now: the vault moves (clients read vaultUri)
                listener = Listener(0, ctx, self.engine, name)
            listener.start()
            self._vaults[name] = listener
            return listener.port

    def _close_vault(self, name: str) -> None:
        with self._vault_lock:
            listener = self._vaults.pop(name, None)
        if listener is not None:
            # Closing from inside a request on that listener would deadlock shutdown().
            threading.Thread(target=listener.stop, daemon=True).start()

    # ----------------------------------------------------------------------- public API
    def endpoint(self) -> LocalCloudEndpoint:
        return LocalCloudEndpoint(
            arm_url=self.arm_url,
            ca_file=str(self.ca_file),
            subscription_id=self.subscription_id,
            tenant_id=self.tenant_id,
            state_dir=str(self.state_dir),
            pid=os.getpid(),
            deployer_principal_id=self.deployer_principal_id,
            aoai_url=self.aoai_url,
            caller_ip=self.engine.caller_ip,
        )

    def credential(self, principal_id: str | None = None) -> LocalCredential:
        """A credential for the deployer (default) or any principal (e.g. an identity's), its
        token's `idtyp` claim from the principal's kind (users `user`, the others `app`)."""
        pid = principal_id or self.deployer_principal_id
        return LocalCredential(pid, self.tenant_id, idtyp=self.token_kind(pid))

    def token_kind(self, principal_id: str) -> str:
        """The `idtyp` claim Entra ID puts in this principal's tokens: user or app."""
        return token_kind(self.state_dir, principal_id)

    def add_principal(self, kind: str) -> str:
        """A new directory principal: `User` (a person, `az login`), `ServicePrincipal` (an app
        signing in with a secret or OIDC) or `ManagedIdentity`; returns its object id."""
        if kind not in ("User", "ServicePrincipal", "ManagedIdentity"):
            raise ValueError(f"unknown principal kind {kind!r}")
        pid = guid()
        with self.engine.store.write() as st:
            st["principals"][pid] = {"created": 0.0, "kind": kind}
        return pid

    def set_deployer_kind(self, kind: str) -> None:
        """What the deployer is: `User` (default, like `az login`) or `ServicePrincipal` (CI)."""
        if kind not in ("User", "ServicePrincipal"):
            raise ValueError(f"unknown deployer kind {kind!r}")
        with self.engine.store.write() as st:
            st["principals"][st["deployer_principal_id"].lower()] = {"created": 0.0, "kind": kind}

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every mgmt client needs to talk to this cloud."""
        return {
            "base_url": self.arm_url,
            "connection_verify": str(self.ca_file),
            "credential_scopes": ["https://management.azure.com/.default"],
        }

    def seed_taken_vault_name(self, name: str) -> None:
        with self.engine.store.write() as st:
            if name.lower() not in {n.lower() for n in st["taken_vault_names"]}:
                st["taken_vault_names"].append(name)

    def set_provider_state(self, namespace: str, state: str) -> None:
        if state not in ("Registered", "NotRegistered", "Registering", "Unregistered"):
            raise ValueError(f"unknown registration state {state!r}")
        with self.engine.store.write() as st:
            st["providers"][namespace.lower()] = {"namespace": namespace, "state": state}

    def set_propagation_delay(
        self, seconds: float, *, principal: str | None = None, identities: bool = False
    ) -> None:
        """Role propagation of one principal, or of every managed identity (see rbac.delay_for);
        kept in the state, so a daemon sharing the directory sees it too."""
        if (principal is None) == (not identities):
            raise ValueError("give exactly one of principal= or identities=True")
        with self.engine.store.write() as st:
            delays = st.setdefault("propagation_delays", {})
            delays["identities" if identities else str(principal).lower()] = float(seconds)

    def add_registry(self, resource_group: str, name: str, location: str = "eastus") -> str:
        """A private Azure Container Registry (in its own resource group, made if missing);
        returns its resource id. Pulls from it need AcrPull (see registries.py)."""
        with self.engine.store.write() as st:
            rg = st["resource_groups"].get(resource_group.lower())
            if rg is None:
                st["resource_groups"][resource_group.lower()] = {
                    "id": f"/subscriptions/{st['subscription_id']}/resourceGroups/{resource_group}",
                    "name": resource_group,
                    "type": "Microsoft.Resources/resourceGroups",
                    "location": location,
                    "tags": {},
                    "properties": {"provisioningState": "Succeeded"},
                }
            body = registries.registry_body(st, resource_group, name, location)
            body["_created"] = time.time()
            st["resources"][body["id"].lower()] = body
            return str(body["id"])

    def set_kv_refresh_seconds(self, seconds: float | None) -> None:
        """How old an app's copy of a versionless Key Vault reference may get before a replica
        start reads it again (Azure: 30 minutes; None: that, scaled; see kv_refs)."""
        with self.engine.store.write() as st:
            st["kv_refresh_seconds"] = seconds

    def set_kv_put_check(self, enabled: bool) -> None:
        """Whether a container app PUT reads its Key Vault references itself (the synchronous
        400, the default) or leaves them to the revision's provisioning (the operation fails
        late); see apps/kv_refs.py."""
        with self.engine.store.write() as st:
            st["kv_put_check"] = bool(enabled)

    def set_environment_quota(self, limit: int | None) -> None:
        """Container Apps environments allowed per region (None: Azure's default, 15; see
        arm/usages.py)."""
        with self.engine.store.write() as st:
            st[usages.QUOTA_KEY] = limit

    def deny_deployer_authorization(self, deny: bool = True) -> None:
        with self.engine.store.write() as st:
            st["deny_deployer"] = bool(deny)

    def operations(self) -> list[dict[str, Any]]:
        """Every LRO with its server-side `completed` and client-side `observed` timestamps."""
        with self.engine.store.read() as st:
            return [dict(op) for op in st["operations"].values()]

    def vault_url(self, name: str) -> str | None:
        with self.engine.store.read() as st:
            port = st["vault_ports"].get(name.lower())
        return self.engine.vault_uri(port) if port else None
