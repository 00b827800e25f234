"""Microsoft.App Usages_List on the local cloud through the real SDK (`usages.list`): one
ManagedEnvironmentCount per region, counting the subscription's environments there, its limit
set on LocalCloud (Azure's default 15)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from aigw_localcloud.core.journal import read_journal

from .conftest import Clients
from .stack import LOC, RG, deploy


def _usage(c: Clients, location: str) -> tuple[str, str, float, float]:
    (u,) = list(c.apps.usages.list(location))
    assert u.name is not None
    return u.name.value, u.unit, u.current_value, u.limit


def test_usages_count_environments_per_region(clients: Clients) -> None:
    assert _usage(clients, LOC) == ("ManagedEnvironmentCount", "Count", 0, 15)
    deploy(clients)  # one managed environment in LOC
    assert _usage(clients, LOC)[2:] == (1, 15)
    assert _usage(clients, "East US")[2:] == (1, 15)  # display names are normalised
    assert _usage(clients, "westeurope")[2:] == (0, 15)  # another region: its own count
    clients.cloud.set_environment_quota(1)
    assert _usage(clients, LOC)[2:] == (1, 1)
    clients.cloud.set_environment_quota(None)
    assert _usage(clients, LOC)[2:] == (1, 15)


def test_usages_refused_like_other_calls(clients: Clients) -> None:
    with pytest.raises(HttpResponseError) as err:
        list(clients.apps.usages.list("westindia"))  # no Container Apps there
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "LocationNotAvailableForResourceType"
    clients.cloud.set_provider_state("Microsoft.App", "NotRegistered")
    # The SDK's auto-registration policy answers the 409 by registering, then retries.
    assert _usage(clients, LOC)[0] == "ManagedEnvironmentCount"
    seen = [
        (e.method, e.path.rsplit("/", 1)[-1], e.status)
        for e in read_journal(clients.cloud.state_dir / "journal.jsonl")
    ]
    refused = seen.index(("GET", "usages", 409))
    assert ("POST", "register", 200) in seen[refused:]
    assert seen[-1] == ("GET", "usages", 200)


def test_a_new_environment_beyond_the_quota_is_refused_as_azure_does(clients: Clients) -> None:
    """MaxNumberOfRegionalEnvironmentsInSubExceeded at PUT, counted per region; an update of an
    existing environment is not a new one."""
    stack = deploy(clients)  # one managed environment in LOC
    clients.cloud.set_environment_quota(1)
    envs = clients.apps.managed_environments
    existing = envs.get(RG, stack.env.name)
    envs.begin_create_or_update(RG, stack.env.name, existing).result()  # an update: fine
    body = {"location": LOC, "properties": {}}
    with pytest.raises(HttpResponseError) as err:
        envs.begin_create_or_update(RG, "second-env", body).result()
    assert err.value.error is not None
    assert err.value.error.code == "MaxNumberOfRegionalEnvironmentsInSubExceeded"
    assert "cannot have more than 1 environments in" in str(err.value)
    envs.begin_create_or_update(RG, "elsewhere", {**body, "location": "westeurope"}).result()
