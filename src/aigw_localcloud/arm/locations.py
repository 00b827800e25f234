"""The resource types the route modules serve, and where each may live, as the provider GET
answers it
(GET /subscriptions/{id}/providers/{namespace}, Microsoft.Resources `Providers_Get`,
resourceTypes[].locations, display names), and ARM's refusal of any other location.

Source: the Container Apps FAQ (learn.microsoft.com/azure/container-apps/faq, "Regions")
documents the list as `az provider show --namespace Microsoft.App --query
"resourceTypes[?resourceType=='managedEnvironments'].locations"`; the same query per namespace
gives the others. This is a snapshot of public-cloud regions, not fetched here (no network):
where unsure a region is left out (access-restricted regions such as South Africa West or
Germany North, and the newest regions), so the local cloud is stricter than Azure, never looser.

Each route module declares its types where it is defined (`provides(...)` at import, beside its
`Router`): the provider GET's resourceTypes (arm/resources.py), their regions (the snapshots
below), and the namespaces a new subscription starts with registered (cloud.py passes them to
core/state.py's `empty_state`). A new kind's route module declares its types; nothing else of
the cloud lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import CloudError
from ..core.util import norm_location

# Region snapshots the route modules declare their types with (`provides`, below).
# Regions Key Vault, managed identities and Log Analytics workspaces all serve.
GENERAL = (
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
CONTAINER_APPS = tuple(r for r in GENERAL if r not in ("West India", "Australia Central"))


@dataclass(frozen=True)
class ProviderType:
    namespace: str  # e.g. Microsoft.KeyVault
    resource_type: str  # e.g. vaults, locations/operationResults
    # Display names of the regions serving it; None: not a located type (operation results).
    locations: tuple[str, ...] | None = None


_DECLARED: list[ProviderType] = []


def provides(namespace: str, resource_type: str, locations: tuple[str, ...] | None = None) -> None:
    """Declare a resource type a route module serves (once per type; a repeat is a bug)."""
    t = ProviderType(namespace, resource_type, locations)
    if any(_same(d, namespace, resource_type) for d in _DECLARED):
        raise RuntimeError(f"{namespace}/{resource_type} is declared twice")
    _DECLARED.append(t)


def _same(t: ProviderType, namespace: str, resource_type: str) -> bool:
    return (t.namespace.lower(), t.resource_type.lower()) == (
        namespace.lower(),
        resource_type.lower(),
    )


def namespaces() -> tuple[str, ...]:
    """Every namespace declared, in declaration order."""
    return tuple(dict.fromkeys(t.namespace for t in _DECLARED))


def types_of(namespace: str) -> list[ProviderType]:
    """The types of one namespace (any case), in declaration order."""
    return [t for t in _DECLARED if t.namespace.lower() == namespace.lower()]


def locations_of(namespace: str, resource_type: str) -> tuple[str, ...] | None:
    """Display names of the regions serving this type; None: not a located type here."""
    for t in _DECLARED:
        if _same(t, namespace, resource_type):
            return t.locations
    return None


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
    names = [norm_location(x) for x in GENERAL]
    loc = norm_location(location)
    if loc not in names:
        raise CloudError(
            400,
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{loc}' is not available for resource group. List of "
            f"available regions is '{','.join(names)}'.",
        )
