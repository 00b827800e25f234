"""Safe rollouts of the container app: which revision serves, which one is new, and the
`ingress.traffic` list that keeps the live one serving while the new one is tested.

The app runs in multiple-revision mode (`configuration.activeRevisionsMode: Multiple`,
ContainerApp in azure-rest-api-specs specification/app/resource-manager/Microsoft.App/
ContainerApps/stable/2026-07-01/openapi.json, the api-version azure-mgmt-appcontainers 5.1.0
sends). A change of the template (config, image, resources) makes a new revision; aigw names it
with `template.revisionSuffix` and PUTs it beside the live one with weight 0 and the label
`candidate` (TrafficWeight: revisionName, weight, label). The weights always add up to 100
(learn.microsoft.com/azure/container-apps/traffic-splitting); a label names one revision
(learn.microsoft.com/azure/container-apps/revisions#labels) and is reachable on its own URL
`<app>---<label>.<environment domain>` (learn.microsoft.com/azure/container-apps/
blue-green-deployment). engine/rollout.py then smoke-tests it there and moves the traffic.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aigw.errors import AigwError
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.azure.context import Ctx

CANDIDATE_LABEL = "candidate"  # the new revision, 0% of the traffic, while it is tested
PREVIOUS_LABEL = "previous"  # the one it replaced: active, 0%, until the next rollout

# The managed fields that live in the template: a change to any of them makes a new revision
# (revision-scope changes: learn.microsoft.com/azure/container-apps/revisions).
TEMPLATE_FIELDS = (
    "image",
    "args",
    "env",
    "cpu",
    "memory",
    "minReplicas",
    "maxReplicas",
    "probes",
    "configMount",
    "configFiles",
)


def template_sha(fields: Mapping[str, Any]) -> str:
    subset = {k: fields.get(k) for k in TEMPLATE_FIELDS}
    return hashlib.sha256(json.dumps(subset, sort_keys=True, default=str).encode()).hexdigest()


def new_suffix(sha: str) -> str:
    """A revision suffix never used before (a name is never reused, even for a template seen
    before): the time, then the template's hash. Lower-case letters, digits and '-'."""
    return f"r{time.strftime('%y%m%d%H%M%S', time.gmtime())}-{sha[:6]}"


def entries(outputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The app's traffic list, each entry with its revision name resolved."""
    latest = outputs.get("latest_ready_revision") or outputs.get("latest_revision")
    out = []
    for e in outputs.get("traffic") or []:
        name = e.get("revisionName") or (latest if e.get("latestRevision") else None)
        if name:
            out.append({"revisionName": name, "weight": int(e.get("weight") or 0), **_label(e)})
    return out


def _label(e: Mapping[str, Any]) -> dict[str, Any]:
    return {"label": e["label"]} if e.get("label") else {}


def live_revision(outputs: Mapping[str, Any]) -> str | None:
    """The revision with the largest share of the traffic (None: nothing serves yet)."""
    if str(outputs.get("revisions_mode") or "Single").lower() != "multiple":
        return outputs.get("latest_ready_revision") or None
    served = [e for e in entries(outputs) if e["weight"] > 0]
    return max(served, key=lambda e: e["weight"])["revisionName"] if served else None


def labelled(outputs: Mapping[str, Any], label: str) -> str | None:
    return next((e["revisionName"] for e in entries(outputs) if e.get("label") == label), None)


def for_put(app: str, desired_sha: str, before: Mapping[str, Any]) -> dict[str, Any]:
    """What the PUT carries: `traffic` always; `suffix`, `candidate` and `live` when the
    template changes (a new revision). The first revision (nothing serves yet) takes 100%
    at once; it is still smoke-tested on its label's URL before deploy reports success."""
    live = live_revision(before) if before.get("id") else None
    if before.get("id") and desired_sha == before.get("template_sha"):
        kept = [
            {k: v for k, v in e.items() if k != "label" or v != CANDIDATE_LABEL}
            for e in entries(before)
        ]
        if str(before.get("revisions_mode") or "").lower() != "multiple" or not kept:
            kept = [{"latestRevision": True, "weight": 100}]
        return {"traffic": kept}
    suffix = new_suffix(desired_sha)
    candidate = f"{app}--{suffix}"
    if live is None:
        traffic = [{"revisionName": candidate, "weight": 100, "label": CANDIDATE_LABEL}]
        return {"traffic": traffic, "suffix": suffix, "candidate": candidate, "live": None}
    previous = labelled(before, PREVIOUS_LABEL)
    traffic = [{"revisionName": live, "weight": 100}]
    if previous and previous != live:
        traffic.append({"revisionName": previous, "weight": 0, "label": PREVIOUS_LABEL})
    traffic.append({"revisionName": candidate, "weight": 0, "label": CANDIDATE_LABEL})
    return {"traffic": traffic, "suffix": suffix, "candidate": candidate, "live": live}


def promoted(candidate: str, live: str | None) -> list[dict[str, Any]]:
    """All traffic to the tested revision; the one it replaces stays reachable as previous."""
    traffic: list[dict[str, Any]] = [{"revisionName": candidate, "weight": 100}]
    if live and live != candidate:
        traffic.append({"revisionName": live, "weight": 0, "label": PREVIOUS_LABEL})
    return traffic


def restored(live: str, previous: str | None) -> list[dict[str, Any]]:
    """After a failed test: the traffic as it was before the rollout, without the candidate."""
    traffic: list[dict[str, Any]] = [{"revisionName": live, "weight": 100}]
    if previous and previous != live:
        traffic.append({"revisionName": previous, "weight": 0, "label": PREVIOUS_LABEL})
    return traffic


# aigw's own invariant: traffic goes only to active revisions. Azure does not enforce it: it
# accepts a traffic list that gives a deactivated revision a share, and deactivating a revision
# that still has one (microsoft/azure-container-apps#1345; the ContainerAppsRevisions_
# DeactivateRevision operation of specification/app/resource-manager/Microsoft.App/
# ContainerApps/stable/2026-07-01/openapi.json states no precondition); that share then fails,
# answered "Error 403 - This Container App is stopped or does not exist"
# (microsoft/azure-container-apps#755, #301). So aigw checks before every traffic write and
# every deactivation, and refuses instead of black-holing the gateway's traffic.


def stranded(
    traffic: list[dict[str, Any]], active: set[str], latest: str | None = None
) -> list[tuple[str, int]]:
    """(revision, weight) of each share of `traffic` that lands on a revision not in `active`
    (names compared case-insensitively; latestRevision is `latest`). Pure."""
    live = {a.lower() for a in active}
    out: list[tuple[str, int]] = []
    for e in traffic:
        weight = int(e.get("weight") or 0)
        name = e.get("revisionName") or (latest if e.get("latestRevision") else None)
        if weight > 0 and name and str(name).lower() not in live:
            out.append((str(name), weight))
    return out


class StrandedTraffic(AigwError):
    """aigw refused a write that would leave traffic on a revision that is not active."""


def _refuse(app: str, shares: list[tuple[str, int]], doing: str) -> StrandedTraffic:
    what = ", ".join(f"{rev} ({weight}%)" for rev, weight in shares)
    first = shares[0][0]
    return StrandedTraffic(
        f"container app {app}: {doing} would leave traffic on revision(s) that are not active: "
        f"{what}; Azure accepts that and those requests fail (403), so aigw does not",
        hint=f"activate it (az containerapp revision activate -n {app} -g <resource group> "
        f"--revision {first}) or move its traffic to an active revision, then rerun",
    )


def _active(ctx: Ctx, app: str) -> set[str]:
    from aigw.azure.rest import to_rest

    ops = ctx.clients.apps().container_apps_revisions
    bodies = [to_rest(r) for r in ops.list_revisions(ctx.rg, app)]
    return {str(b["name"]) for b in bodies if (b.get("properties") or {}).get("active")}


def check_traffic(
    ctx: Ctx,
    app: str,
    traffic: list[dict[str, Any]],
    *,
    latest: str | None = None,
    new: str | None = None,
    doing: str = "this traffic change",
) -> None:
    """Refuse (StrandedTraffic) to write `traffic` if a share would land on a revision that is not
    active. `new`: a revision the same write creates (active once it exists)."""
    active = _active(ctx, app) | ({new} if new else set())
    shares = stranded(traffic, active, latest)
    if shares:
        raise _refuse(app, shares, doing)


def deactivate(ctx: Ctx, app: str, revision: str) -> None:
    """POST .../revisions/{revision}/deactivate, once the app's traffic, read now, puts no share
    on it nor on any other revision that is not active (StrandedTraffic otherwise)."""
    from aigw.azure.rest import to_rest

    body = to_rest(ctx.clients.apps().container_apps.get(ctx.rg, app))
    props = body.get("properties") or {}
    traffic = ((props.get("configuration") or {}).get("ingress") or {}).get("traffic") or []
    latest = props.get("latestReadyRevisionName") or props.get("latestRevisionName")
    active = {a for a in _active(ctx, app) if a.lower() != revision.lower()}
    shares = stranded(traffic, active, latest)
    if shares:
        raise _refuse(app, shares, f"deactivating revision {revision}")
    ctx.retry(
        lambda: ctx.clients.apps().container_apps_revisions.deactivate_revision(
            ctx.rg, app, revision
        ),
        key="container_app",
        what=f"deactivate revision {revision}",
    )


def set_traffic(ctx: Ctx, name: str, location: str, traffic: list[dict[str, Any]]) -> None:
    """PATCH the app's traffic list only (an application-scope change: no new revision), once
    every share of it is on an active revision (check_traffic).
    Retried like every write (Ctx.retry): azure-core does not resend a PATCH whose connection
    dropped, and the same traffic list PATCHed twice is the same state."""
    check_traffic(ctx, name, traffic, doing="moving the traffic")
    body = {
        "location": location,
        "properties": {"configuration": {"ingress": {"traffic": traffic}}},
    }
    ctx.retry(
        lambda: ctx.clients.apps().container_apps.begin_update(ctx.rg, name, body).result(),
        key="container_app",
        what=f"set the traffic of container_app {name}",
    )


def drop_candidate(
    ctx: Ctx, name: str, location: str, candidate: str, before: Mapping[str, Any]
) -> bool:
    """The traffic back as before the rollout, then the candidate deactivated (POST
    .../revisions/{name}/deactivate); True when it was. Best effort: the live revision never
    stopped serving; a failure is reported (what brought us here is raised after), and an
    invariant refused (traffic onto an inactive revision) is raised."""
    live = live_revision(before)
    try:
        if live:
            set_traffic(ctx, name, location, restored(live, labelled(before, PREVIOUS_LABEL)))
        deactivate(ctx, name, candidate)
        return True
    except StrandedTraffic:
        raise
    except Exception as err:
        ctx.report(Key.container_app, f"could not deactivate revision {candidate}: {err}")
        return False
