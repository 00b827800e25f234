"""What every aigw command shares: option types, output, the Azure session, the plan, apply.

Light on purpose (typer only at import time): `aigw --help` must stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aigw.errors import UserError
from aigw.output.formats import OutputFormat

if TYPE_CHECKING:
    from aigw.output.ui import UI

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment: environments/<env>.yaml.")]
EnvDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-dir", help="Folder of environment files [default: $AIGW_ENV_DIR or ./environments]."
    ),
]
OutputOpt = Annotated[
    OutputFormat, typer.Option("--output", "-o", help="text for people, json for machines.")
]

CloudOpt = Annotated[
    str,
    typer.Option(
        "--cloud",
        envvar="AIGW_CLOUD",
        help="azure (DefaultAzureCredential) or local (the local cloud, started if needed).",
    ),
]
SubscriptionOpt = Annotated[
    str | None,
    typer.Option("--subscription", help="Subscription id [default: YAML, $AZURE_SUBSCRIPTION_ID]."),
]


class _State:
    debug = False


state = _State()


def ui(fmt: OutputFormat = OutputFormat.text) -> UI:
    from aigw.output.ui import UI

    return UI(fmt)


def summary(markdown: str) -> None:
    """Append to the GitHub job summary when running in Actions (secrets redacted)."""
    from aigw.output.github import append_step_summary
    from aigw.redact import known_secrets

    append_step_summary(markdown, secrets=known_secrets())


def open_session(
    env: str, env_dir: Path | None, cloud: str, subscription: str | None, *, need_secrets: bool
) -> Any:
    from aigw.config.load import load_env
    from aigw.engine import workflow
    from aigw.resources import names_of

    cfg = load_env(env, env_dir).config
    names_of(cfg)  # every kind's name valid, before any Azure call (ConfigError, exit 2)
    secrets = workflow.read_secrets(cfg, required=need_secrets)  # before any Azure call
    target = workflow.make_target(cfg, cloud=cloud, subscription=subscription, debug=state.debug)
    if target.local:
        cfg = workflow.use_local_openai(cfg)
    return workflow.open_session(cfg, target, secrets=secrets)


def read_plan(
    ui: UI, session: Any, *, show: bool = False, destroy: bool = False, purge: bool = False
) -> Any:
    """Observe and plan, with a spinner; `show`: print it on stderr and refuse unsafe plans."""
    from aigw.engine import workflow
    from aigw.output import report

    what = f"reading {len(session.desired.resources)} resources of {session.config.env}"
    told: set[str] = set()
    report_before = session.ctx.report

    def waiting(key: str, message: str) -> None:  # e.g. an app a crashed deploy left updating
        if message.startswith("waiting for") and key not in told:
            told.add(key)
            ui.info(message)

    session.ctx.report = waiting
    try:
        with ui.err.status(what):
            the_plan = workflow.make_plan(session, destroy=destroy, purge=purge)
    finally:
        session.ctx.report = report_before
    if show:
        if not ui.is_json:
            report.print_plan(ui.err, the_plan)
        the_plan.raise_if_unsafe()
    return the_plan


def confirm(ui: UI, question: str, yes: bool, *, typed: str | None = None) -> None:
    if yes:
        return
    if not ui.interactive:
        raise UserError("refusing to change Azure without confirmation", hint="pass --yes in CI")
    if typed is not None:
        answer = typer.prompt(f"{question} Type the environment name ({typed}) to confirm")
        if answer.strip() != typed:
            raise UserError("confirmation did not match: nothing changed")
        return
    if not typer.confirm(question, default=False):
        raise UserError("not confirmed: nothing changed")


def apply_with_view(ui: UI, session: Any, the_plan: Any, title: str) -> Any:
    from aigw.engine import workflow
    from aigw.output import report

    if ui.is_json or not ui.err.is_terminal:

        def listener(step: Any) -> None:
            if (
                step.state.value in ("working", "done", "failed", "skipped")
                and step.change.is_write
            ):
                extra = f" ({step.seconds:.1f}s)" if step.state.value != "working" else ""
                msg = f": {step.message}" if step.message else ""
                c = step.change
                line = f"{step.state.value:8} {c.action.value} {c.kind.value} {c.name}"
                ui.info(f"{line}{extra}{msg}")

        return workflow.apply(session, the_plan, listener)
    from rich.live import Live

    result_holder: dict[str, Any] = {}
    steps: dict[str, Any] = {}
    with Live(console=ui.err, refresh_per_second=4, transient=False) as live:

        def listener(step: Any) -> None:
            steps[f"{step.change.key}:{step.change.action.value}"] = step
            live.update(report.steps_table(steps.values(), title))

        result_holder["r"] = workflow.apply(session, the_plan, listener)
        live.update(report.steps_table(steps.values(), title))
    return result_holder["r"]


def locked(ui: UI, session: Any) -> Any:
    """Hold this environment's lock on this machine (aigw.engine.locks) around plan and apply."""
    from aigw.engine.locks import environment_lock

    scope = f"{session.target.subscription_id}/{session.desired.resource_group}"
    what = f"{session.config.env} ({session.desired.resource_group})"
    return environment_lock(scope, what=what, on_wait=ui.info)
