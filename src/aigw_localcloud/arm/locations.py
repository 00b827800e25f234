"""Where each resource type may live, as the provider GET answers it
(GET /subscriptions/{id}/providers/{namespace}, Microsoft.Resources `Providers_Get`,
resourceTypes[].locations, display names), and ARM's refusal of any other location.

Source: the Container Apps FAQ (learn.microsoft.com/azure/container-apps/faq, "Regions")
documents the list as `az provider show --namespace Microsoft.App --query
"resourceTypes[?resourceType=='managedEnvironments'].locations"`; the same query per namespace
gives the others. This is a snapshot of public-cloud regions, not fetched here (no network):
where unsure a region is left out (access-restricted regions such as South Africa West or
Germany North, and the newest regions), so the local cloud is stricter than Azure, never looser.
"""

from __future__ import annotations

from ..core.errors import CloudError
from ..core.util import norm_location

# Regions Key Vault, managed identities and Log Analytics workspaces all serve.
_GENERAL = (
    "Australia Central",
    "Australia East",
    "Australia Southeast",
    "Brazil South",
    "Canada Central",
    "Canada East",
    "Central India",
    "Central US",
    "East Asia",
    "East US",
    "East US 2",
    "France Central",
    "Germany West Central",
    "Israel Central",
    "Italy North",
    "Japan East",
    "Japan West",
    "Korea Central",
    "Korea South",
    "Mexico Central",
    "North Central US",
    "North Europe",
    "Norway East",
    "Poland Central",
    "Qatar Central",
    "South Africa North",
    "South Central US",
    "South India",
    "Southeast Asia",
    "Spain Central",
    "Sweden Central",
    "Switzerland North",
    "UAE North",
    "UK South",
    "UK West",
    "West Central US",
    "West Europe",
    "West India",
    "West US",
    "West US 2",
    "West US 3",
)
# Container Apps is in fewer regions (not in West India, Australia Central...).
_CONTAINER_APPS = tuple(r for r in _GENERAL if r not in ("West India", "Australia Central"))

# namespace (lowercase) -> resource type (lowercase) -> display names
LOCATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "microsoft.app": {"managedenvironments": _CONTAINER_APPS, "containerapps": _CONTAINER_APPS},
    "microsoft.keyvault": {"vaults": _GENERAL, "deletedvaults": _GENERAL},
    "microsoft.managedidentity": {"userassignedidentities": _GENERAL},
    "microsoft.operationalinsights": {"workspaces": _GENERAL},
}


def locations_of(namespace: str, resource_type: str) -> tuple[str, ...] | None:
    """Display names of the regions serving this type; None: not a located type here."""
    return LOCATIONS.get(namespace.lower(), {}).get(resource_type.lower())


def require_location(type_name: str, location: str) -> None:
    """ARM's answer to a PUT elsewhere: 400 LocationNotAvailableForResourceType, message as
    Azure words it (quoted in public issues, e.g. Azure/azure-rest-api-specs#8577 and
    Azure/azure-cli#2396)."""
    namespace, _, rtype = type_name.partition("/")
    allowed = locations_of(namespace, rtype)
    if allowed is None:
        return
    names = [norm_location(x) for x in allowed]
    loc = norm_location(location)
    if loc not in names:
        raise CloudError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{loc}' is not available for resource type '{type_name}'. "
            f"List of available regions for the resource type is '{','.join(names)}'.",
        )


def require_group_location(location: str) -> None:
    """Resource groups: 400 LocationNotAvailableForResourceGroup outside the regions this
    cloud knows (Azure's message as quoted in public issue cloud-barista/cb-spider#527)."""
    names = [norm_location(x) for x in _GENERAL]
    loc = norm_location(location)
    if loc not in names:
        raise CloudError(
            400,
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{loc}' is not available for resource group. List of "
            f"available regions is '{','.join(names)}'.",
        )
