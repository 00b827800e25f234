"""Ownership by tags: a resource is this environment's only if it carries all three of aigw's
ownership tags with this environment's values (managed-by, aigw-env, aigw-project)."""

from __future__ import annotations

from collections.abc import Mapping

# aigw's ownership tags, defined here only (the local cloud keeps its own copy: it imports
# nothing of aigw).
MANAGED_BY = "managed-by"
MANAGER = "aigw"  # the value of managed-by
ENV_TAG = "aigw-env"
PROJECT_TAG = "aigw-project"
OWNERSHIP_TAGS = (MANAGED_BY, ENV_TAG, PROJECT_TAG)
# Which of a resource's tags aigw set from the YAML: their names, in this tag, joined by "/"
# (a character Azure refuses in tag names). A tag removed from the YAML is still listed on the
# resource, so the next plan knows to remove it; tags others added are never listed, so never
# touched by the plan. (Azure tag names are <= 512 characters, values <= 256:
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations)
TAG_LIST = "aigw-tags"
TAG_LIST_SEP = "/"


def ownership_tags(env: str, project: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, ENV_TAG: env, PROJECT_TAG: project}


def tag_list(yaml_tags: Mapping[str, str]) -> dict[str, str]:
    """The aigw-tags tag for these YAML tags ({} when there are none)."""
    return {TAG_LIST: TAG_LIST_SEP.join(sorted(yaml_tags))} if yaml_tags else {}


def removed_tags(want: Mapping[str, str], have: Mapping[str, str]) -> list[str]:
    """Tags on the resource that aigw set earlier (listed in its aigw-tags) and no longer wants."""
    listed = {n for n in (have.get(TAG_LIST) or "").split(TAG_LIST_SEP) if n}
    if TAG_LIST in have:
        listed.add(TAG_LIST)
    return sorted(k for k in have if k in listed and k not in want)


def is_owned(tags: Mapping[str, str] | None, ours: Mapping[str, str]) -> bool:
    """True when `tags` carry every ownership tag with the value in `ours` (desired tags)."""
    have = tags or {}
    return all(have.get(k) == ours.get(k) for k in OWNERSHIP_TAGS)


def foreign_names(
    items: list[tuple[str, Mapping[str, str] | None]], ours: Mapping[str, str]
) -> tuple[str, ...]:
    """Names of the (name, tags) items this environment does not own, sorted."""
    return tuple(sorted(str(name) for name, tags in items if not is_owned(tags, ours)))


def other_tags(want: Mapping[str, str], have: Mapping[str, str]) -> dict[str, str]:
    """Tags on the resource that aigw neither wants nor set earlier: somebody else's, kept."""
    gone = set(removed_tags(want, have))
    return {k: v for k, v in have.items() if k not in want and k not in gone}
