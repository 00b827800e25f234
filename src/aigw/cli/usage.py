"""`aigw usage` (tokens by key, model or day from Log Analytics) and `aigw logs` (the gateway's
console, each running replica's log stream, or the app's system log stream). Both read only."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, SubscriptionOpt
from aigw.output.formats import OutputFormat


class UsageFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


class LogType(StrEnum):
    console = "console"
    system = "system"


class By(StrEnum):
    key = "key"
    model = "model"
    day = "day"


def usage(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    since: Annotated[
        str, typer.Option("--since", help="How far back: 7d, 12h, 30m [default: 7d].")
    ] = "7d",
    by: Annotated[By, typer.Option("--by", help="Group by key, model or day.")] = By.key,
    cost: Annotated[
        bool,
        typer.Option(
            "--cost",
            help="Add USD: what the gateway counted per call, else the tokens at models[].price.",
        ),
    ] = False,
    output: Annotated[
        UsageFormat,
        typer.Option("--output", "-o", help="text (table and chart), json or csv."),
    ] = UsageFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """Tokens and requests through the gateway, by developer key, model or day (read only);
    with --cost their price in USD. Log Analytics shows a line minutes after the gateway wrote
    it: the output says how old the newest usage row is; before the first line arrived there
    is no usage yet (exit 0)."""
    from aigw.engine.app_logs import parse_since
    from aigw.engine.usage_query import INGESTION_NOTE, NO_TABLE_NOTE, age_text, fetch
    from aigw.output import usage as report
    from aigw.output.plain import plain

    ui = shared.ui(OutputFormat.json if output is UsageFormat.json else OutputFormat.text)
    window = parse_since(since)  # bad input before any Azure call
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        with ui.err.status(f"querying Log Analytics for the last {since}"):
            found = fetch(session, window)
    finally:
        session.close()
    records = [r for r in (report.parse_line(line) for line in found.lines) if r is not None]
    prices = session.config.prices() if cost else None
    rows = report.aggregate(records, by.value, prices)
    age = found.newest_age()
    if output is UsageFormat.csv:
        sys.stdout.write(report.to_csv(rows, by.value))
        if not found.table_exists:
            ui.err.print(f"no usage yet for {env}: {NO_TABLE_NOTE}", markup=False)
        return
    total = report.totals(rows)
    data = {
        "env": env,
        "since": since,
        "by": by.value,
        "rows": rows,
        "total": total,
        # no ContainerAppConsoleLogs_CL table yet: nothing of the gateway's was ingested
        "no_usage_yet": not found.table_exists,
        "newest_row_time": found.newest.strftime("%Y-%m-%dT%H:%M:%SZ") if found.newest else None,
        "newest_row_age_seconds": int(age.total_seconds()) if age is not None else None,
        "ingestion_note": INGESTION_NOTE,
    }

    def text(c: Any) -> None:
        from rich.table import Table

        if not found.table_exists:
            c.print(f"no usage yet for {env}: {NO_TABLE_NOTE}", markup=False)
            return
        if not rows:
            c.print(f"no usage in the last {since} for {env} ({INGESTION_NOTE})", markup=False)
            return
        # key and model names come from the gateway's stdout: shown as plain text
        table = Table(title=plain(f"usage of {env}, last {since}, by {by.value}"))
        table.add_column(by.value)
        names = report.columns(rows)
        for name in names:
            table.add_column(name.replace("_", " "), justify="right")

        def cell(name: str, value: Any) -> str:
            return f"${value:,.4f}" if name == "cost_usd" else f"{value:,}"

        for row in [*rows, {by.value: "total", **total}]:
            table.add_row(plain(row[by.value]), *(cell(n, row[n]) for n in names))
        c.print(table)
        if cost and total.get("unpriced"):
            c.print(
                f"{total['unpriced']} calls of models without a price are not in the cost "
                "(models[].price in the environment file)",
                markup=False,
            )
        for line in report.bar_chart(rows, by.value):
            c.print(plain(line))
        if age is not None:
            c.print(f"newest usage row: {age_text(age)} old; {INGESTION_NOTE}", markup=False)

    ui.result(data, text)


def logs(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    tail: Annotated[int, typer.Option("--tail", help="Past lines to show (0-300).")] = 20,
    revision: Annotated[
        str | None,
        typer.Option("--revision", help="A revision [default: every active one]."),
    ] = None,
    log_type: Annotated[
        LogType,
        typer.Option(
            "--type",
            help="console: the gateway's output, per replica; system: the platform's events.",
        ),
    ] = LogType.console,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """The gateway's console log (each running replica's log stream, lines prefixed with
    revision/replica when there are several) or the app's system events (--type system), secrets
    masked. Ctrl-C ends --follow."""
    from aigw.engine.app_logs import MAX_TAIL, log_stream
    from aigw.errors import UserError
    from aigw.output.plain import clean

    if not 0 <= tail <= MAX_TAIL:  # bad input before any Azure call
        raise UserError(f"--tail {tail} is out of range", hint=f"use 0..{MAX_TAIL}")
    if log_type is LogType.system and revision:
        raise UserError(
            "--revision applies to console logs only", hint="drop --revision with --type system"
        )
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        lines = log_stream(
            session, tail=tail, follow=follow, revision=revision, kind=log_type.value
        )
        for line in lines:
            # partly written by clients: no control character reaches the terminal (or a pipe)
            sys.stdout.write(clean(line) + "\n")
            sys.stdout.flush()
    finally:
        session.close()


def register(app: typer.Typer) -> None:
    app.command("usage")(usage)
    app.command("logs")(logs)
