"""Ownership by tags: a resource is this environment's only if it carries all three of aigw's
ownership tags with this environment's values (managed-by, aigw-env, aigw-project)."""

from __future__ import annotations

from collections.abc import Mapping

OWNERSHIP_TAGS = ("managed-by", "aigw-env", "aigw-project")


def is_owned(tags: Mapping[str, str] | None, ours: Mapping[str, str]) -> bool:
    """True when `tags` carry every ownership tag with the value in `ours` (desired tags)."""
    have = tags or {}
    return all(have.get(k) == ours.get(k) for k in OWNERSHIP_TAGS)


def foreign_names(
    items: list[tuple[str, Mapping[str, str] | None]], ours: Mapping[str, str]
) -> tuple[str, ...]:
    """Names of the (name, tags) items this environment does not own, sorted."""
    return tuple(sorted(str(name) for name, tags in items if not is_owned(tags, ours)))
