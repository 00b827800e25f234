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
    output: Annotated[
        UsageFormat,
        typer.Option("--output", "-o", help="text (table and chart), json or csv."),
    ] = UsageFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """Tokens and requests through the gateway, by developer key, model or day (read only)."""
    from aigw.engine.app_logs import parse_since, usage_lines
    from aigw.output import usage as report
    from aigw.output.plain import plain

    ui = shared.ui(OutputFormat.json if output is UsageFormat.json else OutputFormat.text)
    window = parse_since(since)  # bad input before any Azure call
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        with ui.err.status(f"querying Log Analytics for the last {since}"):
            lines = usage_lines(session, window)
    finally:
        session.close()
    records = [r for r in (report.parse_line(line) for line in lines) if r is not None]
    rows = report.aggregate(records, by.value)
    if output is UsageFormat.csv:
        sys.stdout.write(report.to_csv(rows, by.value))
        return
    total = report.totals(rows)
    data = {"env": env, "since": since, "by": by.value, "rows": rows, "total": total}

    def text(c: Any) -> None:
        from rich.table import Table

        if not rows:
            c.print(f"no usage in the last {since} for {env}", markup=False)
            return
        # key and model names come from the gateway's stdout: shown as plain text
        table = Table(title=plain(f"usage of {env}, last {since}, by {by.value}"))
        table.add_column(by.value)
        for name in report.COUNTS:
            table.add_column(name.replace("_", " "), justify="right")
        for row in [*rows, {by.value: "total", **total}]:
            table.add_row(plain(row[by.value]), *(f"{row[n]:,}" for n in report.COUNTS))
        c.print(table)
        for line in report.bar_chart(rows, by.value):
            c.print(plain(line))

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
