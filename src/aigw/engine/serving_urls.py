"""Every URL on which the gateway answers: the app's main URL and one per revision label of its
traffic (`previous` after a rollout, `candidate` while one is tested or after an aborted one).

A key change (rotate-key, `aigw keys`, a deploy that changes the gateway key) is proven on
each of them: a label URL (`https://<app>---<label>.<environment domain>`) is as public as the
main one on Azure, and the revision behind it is the one `aigw rollback` returns to.

Azure also serves each active revision on its own FQDN (`<app>--<suffix>.<environment
domain>`); those are not called here: the local cloud does not serve per-revision FQDNs, and
every active revision is restarted by the key change (resources/container_app.restart_active),
the labelled ones included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigw.resources import names_of
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.engine.session import Session

MAIN = "main"


def serving_urls(session: Session) -> dict[str, str | None]:
    """{"main": URL, <label>: URL, ...} read from the app as Azure reports it now (a fresh GET:
    a rollout or rollback may have moved the labels since this session observed it). A value is
    None when the URL cannot be derived (no FQDN yet): the caller reports that as not proven."""
    from aigw.azure.rest import to_rest
    from aigw.gateway.url import gateway_url, label_url
    from aigw.resources import adapter
    from aigw.resources import revision_traffic as rt

    ctx = session.ctx
    app = names_of(session.config).container_app
    local = session.target.local
    body = ctx.retry(
        lambda: to_rest(ctx.clients.apps().container_apps.get(ctx.rg, app)),
        key=Key.container_app,
        what=f"read container_app {app}",
    )
    outputs = adapter(session.desired.by_key()[Key.container_app].kind).from_body(body).outputs
    fqdn = outputs.get("fqdn")
    urls: dict[str, str | None] = {MAIN: gateway_url(fqdn, local=local)}
    for entry in rt.entries(outputs):
        label = entry.get("label")
        if label:
            # Under the local cloud: the port the cloud bound for it (its name table).
            port = session.target.local_label_port(ctx.rg, app, str(label))
            urls[str(label)] = label_url(fqdn, app, str(label), local=local, local_port=port)
    return urls
