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
TpmOpt = Annotated[
    str | None,
    typer.Option("--tpm", help="Tokens per minute, or 'default' (the YAML's limits.tpm)."),
]
RpmOpt = Annotated[
    str | None,
    typer.Option("--rpm", help="Requests per minute, or 'default' (the YAML's limits.rpm)."),
]
BudgetOpt = Annotated[
    str | None,
    typer.Option(
        "--budget",
        help="USD per calendar month (UTC), or 'default' (the YAML's limits.monthly_budget).",
    ),
]


EXAMPLES = {"tpm": "20000", "rpm": "60", "budget": "50"}


def _limits(tpm: str | None, rpm: str | None, budget: str | None) -> dict[str, int | float | None]:
    """The limits given on the command line (None: back to the default); one line on a bad
    value, before any Azure call."""
    from aigw.errors import UserError

    out: dict[str, int | float | None] = {}
    for flag, text, kind in (("tpm", tpm, int), ("rpm", rpm, int), ("budget", budget, float)):
        if text is None:
            continue
        if text.strip().lower() == "default":
            out[flag] = None
            continue
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise UserError(
                f"--{flag} {text!r} is not a positive {'whole ' if kind is int else ''}number",
                hint=f"e.g. --{flag} {EXAMPLES[flag]}, or 'default' for the environment file's "
                "value",
            )
        out[flag] = value
    return out


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
    limits: dict[str, int | float | None] | None = None,
) -> None:
    from aigw.engine import developer_keys
    from aigw.gateway.developer_keys import check_name, parse_duration
    from aigw.output import report

    ui = shared.ui(output)
    check_name(name)  # bad input before any Azure call
    span = parse_duration(expires) if expires else None
    if action == "limit" and not limits:
        from aigw.errors import UserError

        raise UserError(
            "keys limit needs --tpm, --rpm or --budget",
            hint=f"e.g. aigw keys limit {name} --env {env} --budget 100",
        )
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        question = {
            "add": f"Add a key {name} to the gateway of {env}?",
            "rotate": f"Replace the key {name} of {env}? Its current key stops working.",
            "revoke": f"Revoke the key {name} of {env}? It stops working.",
            "limit": f"Change the limits of the key {name} of {env}?",
        }[action]
        shared.confirm(ui, question, yes)
        with shared.locked(ui, session):
            result = developer_keys.change_keys(
                session,
                action,
                name,
                expires=span,
                models=_models(models),
                limits=limits,
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

            done = "revoked: refused" if action == "revoke" else "limits served"
            c.print(
                plain(
                    f"key {name} of {env} {done} after "
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
    tpm: TpmOpt = None,
    rpm: RpmOpt = None,
    budget: BudgetOpt = None,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """A new key for NAME, printed once; the gateway accepts it when this returns."""
    limits = _limits(tpm, rpm, budget)
    _change(
        "add", name, env, env_dir, output, cloud, subscription, yes, timeout, expires, models,
        limits,
    )  # fmt: skip


@keys_app.command("rotate")
def rotate(
    name: NameArg,
    env: EnvOpt,
    expires: ExpiresOpt = None,
    models: ModelsOpt = None,
    tpm: TpmOpt = None,
    rpm: RpmOpt = None,
    budget: BudgetOpt = None,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """A new key for NAME (printed once), the old one refused when this returns."""
    limits = _limits(tpm, rpm, budget)
    _change(
        "rotate", name, env, env_dir, output, cloud, subscription, yes, timeout, expires, models,
        limits,
    )  # fmt: skip


@keys_app.command("limit")
def limit(
    name: NameArg,
    env: EnvOpt,
    tpm: TpmOpt = None,
    rpm: RpmOpt = None,
    budget: BudgetOpt = None,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """Set NAME's own limits (the key stays); returns once the gateway serves them."""
    limits = _limits(tpm, rpm, budget)
    _change(
        "limit", name, env, env_dir, output, cloud, subscription, yes, timeout, None, None, limits
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
    """Each key: name, created, expires, models, last 4 characters, its limits and what it
    spent this month (from the usage lines in Log Analytics). Writes nothing."""
    from aigw.engine.developer_keys import list_keys
    from aigw.output.plain import plain

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        rows = list_keys(session)
        spend, note = _month_spend(session) if rows else ({}, None)
        limits = session.config.limits
    finally:
        session.close()
    for r in rows:
        r["spend_usd"] = round(spend.get(r["name"], 0.0), 4) if spend is not None else None
    defaults = {"tpm": limits.tpm, "rpm": limits.rpm, "budget": limits.monthly_budget}

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
                    f"{flag}  {models}  {_limits_text(r, defaults)}"
                )
            )
        if note:
            c.print(note, markup=False)

    ui.result({"env": env, "keys": rows, "defaults": defaults, "spend_note": note}, text)


def _limits_text(row: dict[str, Any], defaults: dict[str, Any]) -> str:
    def one(name: str, unit: str) -> str:
        own, default = row.get(name), defaults.get(name)
        value = own if own is not None else default
        shown = "none" if value is None else (f"${value:,.2f}" if unit == "$" else f"{value:,}")
        return f"{name} {shown}{'' if own is not None or value is None else ' (default)'}"

    spent = row.get("spend_usd")
    budget = row.get("budget") if row.get("budget") is not None else defaults.get("budget")
    month = "spent ?" if spent is None else f"spent ${spent:,.2f} this month"
    if spent is not None and budget:
        month += f" ({100 * spent / budget:.0f}% of budget)"
    return f"{one('tpm', '')}  {one('rpm', '')}  {one('budget', '$')}  {month}"


def _month_spend(session: Any) -> tuple[dict[str, float] | None, str | None]:
    """USD per key this calendar month (UTC): the usage lines' cost (`aigw usage --cost`'s
    rule); None with a note when Log Analytics cannot be read (the keys are still listed)."""
    from datetime import UTC, datetime

    from aigw.engine.usage_query import INGESTION_NOTE, fetch
    from aigw.output import usage as report

    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    try:
        found = fetch(session, now - start)
    except AigwError as err:
        return None, f"spend unknown: {err.one_line()}"
    if not found.table_exists:
        return {}, "spend: no usage yet (Log Analytics has no console line of the gateway)"
    prices = session.config.prices()
    month = now.strftime("%Y-%m")
    records = [
        r
        for r in map(report.parse_line, found.lines)
        if r is not None and not r.get("refused") and str(r.get("time") or "").startswith(month)
    ]
    rows = report.aggregate(records, "key", prices)
    return {str(r["key"]): float(r["cost_usd"]) for r in rows}, f"spend: {INGESTION_NOTE}"


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
