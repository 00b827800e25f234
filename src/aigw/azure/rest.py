"""Helpers shared by the adapters: SDK models as REST JSON, and 404 as None."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def to_rest(obj: Any) -> dict[str, Any]:
    """An SDK model (TypeSpec or autorest generation) as the REST JSON Azure sent."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping) and hasattr(obj, "as_dict"):
        return dict(obj.as_dict())  # TypeSpec models keep wire names
    if hasattr(obj, "serialize"):
        return dict(obj.serialize(keep_readonly=True))  # autorest models
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot read {type(obj).__name__} as REST JSON")


def get_or_none(call: Callable[[], T]) -> T | None:
    """Run a GET; None when Azure answers 404 (the resource does not exist)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return call()
    except ResourceNotFoundError:
        return None


def lower_id(value: Any) -> Any:
    """ARM ids are case-insensitive and Azure is not consistent about their case."""
    return value.lower() if isinstance(value, str) else value


def norm_location(value: Any) -> Any:
    """'South Africa North' (some APIs answer display names) as 'southafricanorth'."""
    return value.replace(" ", "").lower() if isinstance(value, str) else value
