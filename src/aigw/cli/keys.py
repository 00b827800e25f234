"""`aigw keys add|list|revoke|rotate`: a key per developer, hashes in Key Vault (issue 14).

The key itself is printed once, by add and rotate, and never again (engine/developer_keys.py).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, OutputOpt, SubscriptionOpt
from aigw.errors import AigwError
from aigw.output.formats import OutputFormat
from aigw.output.help_format import WholeSummaryGroup

DEVELOPER_KEY_ENV = "AIGW_DEVELOPER_KEY"

keys_app = typer.Typer(
    help="Developer keys: one per person, revocable alone (hashes in Key Vault, no database).",
    no_args_is_help=True,
    cls=WholeSummaryGroup,
)

NameArg = Annotated[str, typer.Argument(help="The key's name, e.g. the developer: alice.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Change Azure without asking (CI).")]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait until the gateway serves the change.")
]
ExpiresOpt = Annotated[
    str | None, typer.Option("--expires", help="Lifetime: 90d, 12h, 4w [default: never].")
]
ModelsOpt = Annotated[
    str | None,
    typer.Option("--models", help="Comma-separated model aliases it may call [default: all]."),
]


def _models(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(m.strip() for m in text.split(",") if m.strip())


def _change(
    action: str,
    name: str,
    env: str,
    env_dir: Any,
    output: OutputFormat,
    cloud: str,
    subscription: str | None,
    yes: bool,
    timeout: float,
    expires: str | None = None,
    models: str | None = None,
) -> None:
    from aigw.engine import developer_keys
    from aigw.gateway.developer_keys import check_name, parse_duration
    from aigw.output import report

    ui = shared.ui(output)
    check_name(name)  # bad input before any Azure call
    span = parse_duration(expires) if expires else None
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        question = {
            "add": f"Add a key {name} to the gateway of {env}?",
            "rotate": f"Replace the key {name} of {env}? Its current key stops working.",
            "revoke": f"Revoke the key {name} of {env}? It stops working.",
        }[action]
        shared.confirm(ui, question, yes)
        with shared.locked(ui, session):
            result = developer_keys.change_keys(
                session,
                action,
                name,
                expires=span,
                models=_models(models),
                wait_timeout=timeout,
                on_step=ui.info,
            )
    finally:
        session.close()
    rows = [c.to_json() for c in result.checks]
    data = result.to_json()
    if not ui.is_json:
        ui.err.print(report.checks_table(rows, f"keys {action} {name} ({env}): verification"))
    if result.new_key is not None:
        _print_key_once(result.new_key.reveal(), name, env, data, ui.is_json)
    else:

        def text(c: Any) -> None:
            from aigw.output.plain import plain

            c.print(
                plain(
                    f"key {name} of {env} revoked: refused after "
                    f"{result.seconds.get('switch', 0):.1f}s (Key Vault {result.key_vault}/"
                    f"{result.secret} version {result.new_version})"
                )
            )

        ui.result(data, text)
    shared.summary(report.checks_markdown(rows, f"aigw keys {action} {name}: {env}"))
    if not result.ok:
        raise AigwError(
            f"keys {action} {name} is written but not proven: see the table above",
            hint=f"rerun with a longer --timeout, or check the gateway: aigw status --env {env}",
        )


def _print_key_once(value: str, name: str, env: str, data: dict[str, Any], as_json: bool) -> None:
    """The one place a developer key is printed: now, once; aigw keeps only its hash."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        sys.stdout.write(f"::add-mask::{value}\n")
    if as_json:
        sys.stdout.write(json.dumps({**data, "new_key": value}, indent=2) + "\n")
    else:
        sys.stdout.write(
            f"key {name} of {env} (shown once, never again; give it to {name} privately):\n"
            f"{value}\n"
            f"{name} sets it as ${DEVELOPER_KEY_ENV}, then: aigw client-config --env {env} "
            f"--client codex --key-env {DEVELOPER_KEY_ENV}\n"
        )
    sys.stdout.flush()


@keys_app.command("add")
def add(
    name: NameArg,
    env: EnvOpt,
    expires: ExpiresOpt = None,
    models: ModelsOpt = None,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """A new key for NAME, printed once; the gateway accepts it when this returns."""
    _change("add", name, env, env_dir, output, cloud, subscription, yes, timeout, expires, models)


@keys_app.command("rotate")
def rotate(
    name: NameArg,
    env: EnvOpt,
    expires: ExpiresOpt = None,
    models: ModelsOpt = None,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """A new key for NAME (printed once), the old one refused when this returns."""
    _change(
        "rotate", name, env, env_dir, output, cloud, subscription, yes, timeout, expires, models
    )


@keys_app.command("revoke")
def revoke(
    name: NameArg,
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """Remove NAME's key; returns once the gateway refuses it (seconds in -o json)."""
    _change("revoke", name, env, env_dir, output, cloud, subscription, yes, timeout)


@keys_app.command("list")
def list_(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """Name, created, expires, models and last 4 characters of each key. Writes nothing."""
    from aigw.engine.developer_keys import list_keys
    from aigw.output.plain import plain

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        rows = list_keys(session)
    finally:
        session.close()

    def text(c: Any) -> None:
        if not rows:
            c.print(f"no developer keys in {env}: aigw keys add NAME --env {env}", markup=False)
            return
        for r in rows:
            models = ",".join(r["models"]) if r["models"] is not None else "all models"
            expires = r["expires"] or "never"
            flag = " EXPIRED" if r["expired"] else ""
            # the names come from Key Vault: shown as plain text, one line each
            c.print(
                plain(
                    f"{r['name']:<20} …{r['last4']}  created {r['created']}  expires {expires}"
                    f"{flag}  {models}"
                )
            )

    ui.result({"env": env, "keys": rows}, text)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
