"""Resource providers: registered before anything of their namespace is created."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from aigw import interrupt
from aigw.azure.context import Ctx
from aigw.azure.rest import norm_location, to_rest
from aigw.errors import AzureError
from aigw.resources import adapters, registered
from aigw.resources.base import Base, Inputs
from aigw.state import Kind, Observed, Resource


def resource_type_locations(body: dict[str, Any]) -> dict[str, list[str]]:
    """resourceType (lowercase) -> its regions (normalised), from a provider GET body."""
    out: dict[str, list[str]] = {}
    for t in body.get("resourceTypes") or []:
        name = str(t.get("resourceType") or "").lower()
        if name:
            out[name] = [norm_location(x) for x in t.get("locations") or []]
    return out


def observe(ctx: Ctx, res: Resource) -> Observed:
    return from_body(to_rest(ctx.clients.resources().providers.get(res.name)))


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of a provider's GET body (tests/fixtures/observe/)."""
    return Observed(
        exists=True,
        fields={
            "registrationState": body.get("registrationState"),
            "locations": resource_type_locations(body),
        },
    )


def register(ctx: Ctx, res: Resource, *, timeout: float = 600.0) -> dict[str, str]:
    client = ctx.clients.resources().providers
    client.register(res.name)
    deadline = time.monotonic() + timeout
    while True:
        state = to_rest(client.get(res.name)).get("registrationState")
        if state == "Registered":
            return {"state": state}
        if time.monotonic() > deadline:
            raise AzureError(
                f"provider {res.name} still {state} after {timeout:.0f}s",
                hint=f"check 'az provider show --namespace {res.name}'",
            )
        ctx.report(res.key, f"waiting for {res.name} registration ({state})")
        interrupt.sleep(ctx.poll_interval)  # Ctrl-C ends the wait at once


@registered
class ProviderAdapter(Base):
    kind = Kind.provider
    order = 10

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        """Every namespace a registered kind declares: registered, never created or deleted."""
        spaces = sorted({a.namespace for a in adapters() if a.namespace})
        return [
            Resource(
                f"provider:{ns}",
                Kind.provider,
                ns,
                managed={"registrationState": "Registered"},
                owned=False,
            )
            for ns in spaces
        ]

    registration = True

    def status(self, obs: Observed) -> tuple[bool, str] | None:
        state = str(obs.fields.get("registrationState"))
        return state == "Registered", state

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def register(self, ctx: Ctx, res: Resource) -> Mapping[str, Any]:
        return register(ctx, res)
