"""Checks between observe and plan (pure): what the environment file asks for that Azure cannot
do, found before any write and said in one line naming the file, the field and the fix."""

from __future__ import annotations

from collections.abc import Mapping

from aigw.desired import Desired, Kind
from aigw.errors import ConfigError
from aigw.plan import Observed


def problems(desired: Desired, observed: Mapping[str, Observed]) -> list[ConfigError]:
    """Every problem found, in resource order (empty: the plan can go ahead)."""
    file = f"{desired.env}.yaml"
    found: list[ConfigError] = []
    for res in desired.resources:
        obs = observed.get(res.key)
        if obs is None:
            continue
        if res.kind is Kind.key_vault and obs.exists:
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
