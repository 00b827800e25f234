"""Safe rollouts from the CLI: deploy's last step (test the new revision on its label's URL,
then move the traffic or fail), and `aigw rollback` (engine/rollout.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, OutputOpt, SubscriptionOpt
from aigw.errors import AigwError
from aigw.output.formats import OutputFormat
from aigw.output.plain import plain

if TYPE_CHECKING:
    from aigw.engine.rollout import Rollout
    from aigw.output.ui import UI


def _show(ui: UI, session: Any, roll: Rollout, title: str) -> list[dict[str, Any]]:
    from aigw.output import report

    rows = [c.to_json() for c in roll.checks]
    if rows and not ui.is_json:
        ui.err.print(report.checks_table(rows, title))
    if rows:
        shared.summary(report.checks_markdown(rows, f"aigw {title}: {session.config.env}"))
    return rows


def finish_rollout(ui: UI, session: Any, *, test: bool) -> Rollout | None:
    """Deploy's last step when it rolled a new revision (None when it did not)."""
    from aigw.engine import rollout

    with ui.err.status("smoke-testing the new revision beside the live one"):
        roll = rollout.finish(session, test=test, on_wait=ui.info)
    if roll is None:
        return None
    _show(ui, session, roll, f"smoke test of revision {roll.candidate} ({roll.url})")
    if roll.promoted:
        ui.info(
            f"traffic: 100% to {roll.candidate}"
            + (f"; {roll.live_before} stays active as 'previous'" if roll.live_before else "")
            + (f"; deactivated {', '.join(roll.deactivated)}" if roll.deactivated else "")
        )
    elif roll.live_before:
        ui.info(
            f"traffic stays on {roll.live_before}: {roll.candidate} failed its smoke test "
            "and was deactivated"
        )
    return roll


def rollback(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Roll back without asking (CI).")
    ] = False,
) -> None:
    """Move the traffic back to the previous revision, once it passes the smoke test."""
    from aigw.engine import rollout

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    with shared.locked(ui, session):
        with ui.err.status(f"smoke-testing the previous revision of {env}"):
            roll, move = rollout.rollback(session, on_wait=ui.info)
        rows = _show(ui, session, roll, f"smoke test of revision {roll.candidate} ({roll.url})")
        if not all(r["ok"] for r in rows):
            raise AigwError(
                f"revision {roll.candidate} failed its smoke test: traffic stays on "
                f"{roll.live_before}"
            )
        shared.confirm(ui, f"Move all traffic of {env} to {roll.candidate}?", yes)
        move()
    data = {"env": env, "revision": roll.candidate, "from": roll.live_before, **roll.to_json()}
    ui.result(
        data,
        lambda c: c.print(
            plain(
                f"{env}: 100% of the traffic on {roll.candidate}; {roll.live_before} stays "
                "active as 'previous' (aigw rollback again returns to it)"
            )
        ),
    )


def register(app: typer.Typer) -> None:
    app.command("rollback")(rollback)
