"""Checks between observe and plan (pure): what the environment file asks for that Azure cannot
do, found before any write and said in one line naming the file, the field and the fix."""

from __future__ import annotations

from collections.abc import Mapping

from aigw.errors import ConfigError
from aigw.resources import adapter, located_types
from aigw.state import Desired, Observed


def location_problem(file: str, location: str, namespace: str, obs: Observed) -> ConfigError | None:
    known = obs.fields.get("locations") or {}
    # The resource types aigw creates there (each kind's `located`): each must be offered where
    # the YAML's location is (the provider GET's resourceTypes[].locations).
    for rtype in located_types().get(namespace, ()):
        regions = known.get(rtype.lower())
        if regions and location.lower() not in regions:
            return ConfigError(
                file,
                "location",
                f"{location} does not offer {namespace}/{rtype} (Azure would refuse with "
                "LocationNotAvailableForResourceType)",
                hint=f"choose a region that does: {', '.join(regions)}",
            )
    return None


def problems(desired: Desired, observed: Mapping[str, Observed]) -> list[ConfigError]:
    """Every problem found, in resource order (empty: the plan can go ahead)."""
    file = f"{desired.env}.yaml"
    found: list[ConfigError] = []
    for res in desired.resources:
        obs = observed.get(res.key)
        if obs is None:
            continue
        if adapter(res.kind).registration:
            problem = location_problem(file, desired.location, res.name, obs)
            if problem is not None:
                found.append(problem)
        if not obs.exists and obs.outputs.get("name_available") is False:
            found.append(
                ConfigError(
                    file,
                    "key_vault.name_suffix",
                    f"the vault name {res.name} is taken elsewhere (vault names are global): "
                    f"{obs.outputs.get('name_reason') or 'not available'}",
                    hint="set key_vault.name_suffix: auto (a stable suffix) or up to 6 lowercase "
                    "letters and digits of your own",
                )
            )
        if adapter(res.kind).soft_delete and obs.exists:
            have = obs.fields.get("softDeleteRetentionInDays")
            want = res.managed.get("softDeleteRetentionInDays")
            if have is not None and want is not None and have != want:
                found.append(
                    ConfigError(
                        file,
                        "key_vault.soft_delete_retention_days",
                        f"retention of an existing vault cannot change; vault {res.name} keeps "
                        f"{have} days (Azure fixes it when the vault is created)",
                        hint=f"set key_vault.soft_delete_retention_days: {have}",
                    )
                )
    return found


def raise_first(found: list[ConfigError]) -> None:
    """The first problem as the error, with how many more there are."""
    if not found:
        return
    first = found[0]
    if len(found) > 1:
        first.hint = f"{first.hint}; and {len(found) - 1} more problem(s)"
    raise first
