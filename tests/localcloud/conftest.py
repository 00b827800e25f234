"""Fixtures: a LocalCloud per test and the real Azure SDK clients pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.keyvault.secrets import SecretClient
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.credential import LocalCredential

from .fake_runner import FakeRunner

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KV_ADMIN = "00482a5a-887f-4fb3-b363-3b7fe8e74483"


@dataclass
class Clients:
    cloud: LocalCloud
    resource: ResourceManagementClient
    loganalytics: LogAnalyticsManagementClient
    apps: ContainerAppsAPIClient
    keyvault: KeyVaultManagementClient
    msi: ManagedServiceIdentityClient
    auth: AuthorizationManagementClient

    def secrets(self, vault_url: str, credential: LocalCredential | None = None) -> SecretClient:
        return SecretClient(
            vault_url,
            credential or self.cloud.credential(),
            verify_challenge_resource=False,
            connection_verify=str(self.cloud.ca_file),
        )

    def role_definition_id(self, role: str) -> str:
        sub = self.cloud.subscription_id
        return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"

    def grant(
        self, scope: str, role: str, principal: str, principal_type: str = "ServicePrincipal"
    ) -> Any:
        return self.auth.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            {
                "role_definition_id": self.role_definition_id(role),
                "principal_id": principal,
                "principal_type": principal_type,
            },
        )


def make_clients(cloud: LocalCloud, polling_interval: float = 0.05, **extra: Any) -> Clients:
    kw: dict[str, Any] = {
        "base_url": cloud.arm_url,
        "connection_verify": str(cloud.ca_file),
        "polling_interval": polling_interval,
        **extra,
    }
    cred = cloud.credential()
    sub = cloud.subscription_id
    return Clients(
        cloud,
        ResourceManagementClient(cred, sub, **kw),
        LogAnalyticsManagementClient(cred, sub, **kw),
        ContainerAppsAPIClient(cred, sub, **kw),
        KeyVaultManagementClient(cred, sub, **kw),
        ManagedServiceIdentityClient(cred, sub, **kw),
        AuthorizationManagementClient(cred, sub, **kw),
    )


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def cloud(tmp_path: Path, runner: FakeRunner) -> Iterator[LocalCloud]:
    # retry_after=None: no Retry-After header, so the clients' polling_interval (0.05) rules.
    # propagation_delay 0: these tests pin other behaviours right after a grant; propagation
    # itself (on by default everywhere else): test_behaviours' RBAC tests with their own
    # cloud, tests/engine/test_identity_propagation.py and every e2e test.
    with LocalCloud(
        tmp_path / "cloud", app_runner=runner, retry_after=None, propagation_delay=0.0
    ) as c:
        yield c


@pytest.fixture
def clients(cloud: LocalCloud) -> Clients:
    return make_clients(cloud)
