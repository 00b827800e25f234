"""The app's managed identity endpoint (IDENTITY_ENDPOINT) as Container Apps answers it: an app
with only user-assigned identities gets a token only when the request names one (`client_id`);
without it, 400 "Unable to load the proper Managed Identity." even with a single identity
(microsoft/azure-container-apps#442, Azure/azure-sdk-for-net#43691; learn.microsoft.com/azure/
container-apps/managed-identity: "the user-assigned managed identity client id must be
specified"). azure-identity's ManagedIdentityCredential is the client."""

from __future__ import annotations

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ManagedIdentityCredential

from aigw_localcloud.cloud import LocalCloud

from .conftest import Clients
from .fake_runner import FakeRunner
from .stack import deploy

AUDIENCE = "https://cognitiveservices.azure.com"


def test_a_user_assigned_identity_must_be_named(
    cloud: LocalCloud, clients: Clients, runner: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = deploy(clients)
    env = runner.started[-1].env
    url, header = env["IDENTITY_ENDPOINT"], env["IDENTITY_HEADER"]
    client_id = stack.identity.client_id
    base = {"api-version": "2019-08-01", "resource": AUDIENCE}

    r = httpx.get(url, params=base, headers={"X-IDENTITY-HEADER": header})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["statusCode"] == 400
    assert body["message"] == "Unable to load the proper Managed Identity."
    assert body["correlationId"]

    other = httpx.get(
        url,
        params={**base, "client_id": "00000000-0000-4000-8000-000000000001"},
        headers={"X-IDENTITY-HEADER": header},
    )
    assert other.status_code == 400, other.text
    assert other.json()["message"] == "Unable to load requested managed identity."

    named = httpx.get(
        url, params={**base, "client_id": client_id}, headers={"X-IDENTITY-HEADER": header}
    )
    assert named.status_code == 200 and named.json()["client_id"] == client_id

    # azure-identity, as the app runs it: the same two answers.
    monkeypatch.setenv("IDENTITY_ENDPOINT", url)
    monkeypatch.setenv("IDENTITY_HEADER", header)
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)
    with pytest.raises(ClientAuthenticationError) as e:
        ManagedIdentityCredential().get_token(f"{AUDIENCE}/.default")
    assert "Unable to load the proper Managed Identity." in str(e.value)
    token = ManagedIdentityCredential(client_id=client_id).get_token(f"{AUDIENCE}/.default")
    assert token.token.count(".") == 2
