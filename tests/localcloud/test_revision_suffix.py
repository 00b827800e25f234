"""template.revisionSuffix is checked as Container Apps does: 400 ContainerAppInvalidRevisionName
(message as quoted in microsoft/azure-container-apps#1443 and #1460) unless the suffix is lower
case letters, digits and '-', starts and ends with a letter or digit, has no '--' (az CLI's
validate_revision_suffix, Azure/azure-cli-extensions src/containerapp/azext_containerapp/
_validators.py) and `<app>--<suffix>` is at most 54 characters."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from .conftest import Clients
from .stack import RG, app_body, deploy

APP = "ca-test"  # stack.deploy's app: 7 characters, so a 45-character suffix makes 54


@pytest.mark.parametrize(
    "suffix",
    ["Upper", "has_underscore", "two--dashes", "-lead", "trail-", "a" * 46, "dot.ted"],
)
def test_an_invalid_revision_suffix_is_refused(clients: Clients, suffix: str) -> None:
    stack = deploy(clients)
    body = app_body(stack.env.id, stack.identity.id, stack.vault.properties.vault_uri)
    body["properties"]["template"]["revisionSuffix"] = suffix
    with pytest.raises(HttpResponseError) as e:
        clients.apps.container_apps.begin_create_or_update(RG, APP, body).result()
    assert e.value.status_code == 400
    assert e.value.error.code == "ContainerAppInvalidRevisionName"
    assert e.value.error.message == (
        f"Revision name has an invalid value '{APP}--{suffix}'. A revision name must consist of "
        "lower case alphanumeric characters or '-', start with an alphabetic character, and end "
        "with an alphanumeric character. The length of the revision name must not be more than "
        "a combined 54 characters with the container app name."
    )


@pytest.mark.parametrize("suffix", ["v2", "0b699ef", "r260101120000-abc123", "a" * 45])
def test_a_valid_revision_suffix_names_the_revision(clients: Clients, suffix: str) -> None:
    stack = deploy(clients)
    body = app_body(stack.env.id, stack.identity.id, stack.vault.properties.vault_uri)
    body["properties"]["template"]["revisionSuffix"] = suffix
    app = clients.apps.container_apps.begin_create_or_update(RG, APP, body).result()
    assert app.latest_revision_name == f"{APP}--{suffix}"
