"""`aigw doctor`: read-only readiness checks before a first deploy (see aigw.engine.doctor)."""

from __future__ import annotations

from typing import Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, OutputOpt, SubscriptionOpt
from aigw.output.formats import OutputFormat
from aigw.output.plain import plain


def doctor(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """Check sign-in, subscription, providers, role rights, vault name, location, the Container
    Apps environment quota and (prod) anonymous Docker Hub pulls. Writes nothing; exit 1 if a
    problem is found (a WARN does not count)."""
    from aigw.engine import doctor as checks

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        findings = checks.run(session)
    finally:
        session.close()
    problems = [f for f in findings if not f.ok]
    data = {"env": env, "ok": not problems, "checks": [f.to_json() for f in findings]}

    def text(c: Any) -> None:
        for f in findings:
            c.print(
                plain(f.line(), newlines=True),  # quotes Azure's answers
                style={"fail": "red", "warn": "yellow"}.get(f.level),
                soft_wrap=True,
            )
        c.print(f"{len(problems)} problem(s)" if problems else "ready", markup=False)

    ui.result(data, text)
    if problems:
        raise typer.Exit(1)
