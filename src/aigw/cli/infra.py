"""The infrastructure commands: plan, deploy, smoke-test, destroy, status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, OutputOpt, SubscriptionOpt
from aigw.errors import AigwError, UserError
from aigw.output.formats import OutputFormat
from aigw.output.plain import plain
from aigw.secrets import GATEWAY_KEY
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.output.ui import UI


def plan(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 0: no changes, 2: changes, 1: error."),
    ] = False,
) -> None:
    """Show what deploy would change. Writes nothing."""
    from aigw.output import report

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    secrets, keyed = session.ctx.secrets, session.config.azure_openai.key_env is not None
    cfg = session.config
    others = [u for u in cfg.used_upstreams().values() if u is not cfg.azure_openai and u.key_env]
    if (
        secrets.gateway_key is None
        or (keyed and secrets.azure_openai_key is None)
        or len(secrets.upstream_keys) < len(others)  # a named upstream's key (auth: key)
    ):
        ui.info("note: a key's environment variable is not set: Key Vault values not compared")
    the_plan = shared.read_plan(ui, session)
    ui.result(the_plan.to_json(), lambda c: report.print_plan(c, the_plan))
    shared.summary(report.plan_markdown(the_plan))
    if detailed_exitcode and the_plan.has_changes:
        raise typer.Exit(2)


def deploy(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking (CI).")] = False,
    plan_checksum: Annotated[
        str | None,
        typer.Option("--plan-checksum", help="Refuse unless the plan matches this reviewed one."),
    ] = None,
    no_smoke: Annotated[bool, typer.Option("--no-smoke", help="Skip the smoke test.")] = False,
    from_ip: Annotated[
        str | None,
        typer.Option(
            "--from-ip",
            envvar="AIGW_FROM_IP",
            help="This machine's public IPv4 address: checked against gateway.allowed_ips "
            "before anything is written (aigw cannot learn it itself).",
        ),
    ] = None,
) -> None:
    """Make Azure match the environment file, then smoke-test the gateway."""
    from aigw.cli import arg_checks
    from aigw.engine import apply as apply_mod
    from aigw.engine import workflow
    from aigw.errors import AigwError
    from aigw.output import report

    plan_checksum = arg_checks.plan_checksum(plan_checksum)  # before any read (issue 17 R4)
    from aigw.engine import rollout

    from_ip = rollout.from_ip_option(from_ip)
    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=True)
    if not no_smoke:  # a smoke test the gateway would refuse: said now, nothing written
        reach = rollout.check_smoke_reach(session.config, f"{env}.yaml", session.target, from_ip)
        if reach:
            ui.info(reach)
    result = None
    with shared.locked(ui, session):
        the_plan = shared.read_plan(ui, session, show=True)
        if plan_checksum is not None and plan_checksum != the_plan.checksum:
            raise AigwError(
                f"the plan changed since it was reviewed: checksum {the_plan.checksum}, "
                f"expected {plan_checksum}",
                hint="run aigw plan again and review it",
            )
        if the_plan.has_changes:
            shared.confirm(ui, f"Apply {len(the_plan.writes)} change(s) to {env}?", yes)
            result = shared.apply_with_view(ui, session, the_plan, f"deploying {env}")
            shared.summary(report.plan_markdown(the_plan))
            apply_mod.raise_on_failure(result)
    outputs = workflow.outputs(session)
    smoke_rows: list[dict[str, Any]] = []
    from aigw.cli.rollout import finish_rollout  # a new revision: tested before it serves

    roll = finish_rollout(ui, session, test=not no_smoke) if result else None
    if roll is not None:
        smoke_rows = [c.to_json() for c in roll.checks]
    elif not no_smoke:
        smoke_rows = _smoke(ui, session, outputs)
    data = {
        "env": env,
        "plan": the_plan.to_json(),
        "applied": bool(result),
        "outputs": outputs,
        "smoke": smoke_rows,
        "rollout": roll.to_json() if roll else None,
    }
    ui.result(data, lambda c: c.print(report.outputs_table(outputs, f"{env} outputs")))
    shared.summary(report.outputs_markdown(outputs, f"aigw deploy: {env}"))
    if roll is not None and roll.live_before and not roll.promoted:
        raise AigwError(
            f"revision {roll.candidate} failed its smoke test: the traffic stayed on "
            f"{roll.live_before}, {roll.candidate} is deactivated (see the table above)"
        )
    if smoke_rows and not all(r["ok"] for r in smoke_rows):
        raise AigwError("the smoke test failed: see the table above")


def _smoke(ui: UI, session: Any, outputs: dict[str, Any]) -> list[dict[str, Any]]:
    from aigw.gateway import smoke
    from aigw.output import report

    url = outputs.get("gateway_url")
    if not url:
        raise AigwError("the container app reports no FQDN: cannot smoke-test the gateway")
    key = session.ctx.secrets.gateway_key
    verify = smoke.verify_for(session.target)
    checks: list[smoke.Check] = []
    old = session.ctx.replaced.get(GATEWAY_KEY)  # this deploy changed the key
    if key and old:
        from aigw.engine.rotate import wait_for_switch
        from aigw.engine.serving_urls import serving_urls

        # Every URL that serves (main and each revision label): each active revision was
        # restarted with the new key (resources/container_app.restart_active).
        switched = wait_for_switch(
            serving_urls(session),
            key.reveal(),
            old.reveal(),
            verify=verify,
            timeout=300,
            on_wait=ui.info,
        )
        checks.append(switched)
    if all(c.ok for c in checks):
        checks += smoke.run_smoke(
            url, key.reveal() if key else None, session.config, verify=verify, on_wait=ui.info
        )
    rows = [c.to_json() for c in checks]
    if not ui.is_json:
        ui.err.print(report.checks_table(rows, f"smoke test {url}"))
    shared.summary(report.checks_markdown(rows, f"aigw smoke-test: {session.config.env}"))
    return rows


def smoke_test(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Gateway URL [default: read from Azure].")
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Env var with the gateway key [default: the YAML's]."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for a cold start.")
    ] = 180.0,
    all_models: Annotated[
        bool,
        typer.Option(
            "--all-models",
            help="Call every model (billable); by default at most 5, one of each kind first.",
        ),
    ] = False,
) -> None:
    """Prove the live gateway works: auth on, models answer. Exit 1 on any failure."""
    from aigw.cli import arg_checks
    from aigw.config.load import load_env
    from aigw.engine import workflow
    from aigw.gateway import smoke
    from aigw.output import report
    from aigw.secrets import Secret, read_secret

    if url is not None:
        url = arg_checks.gateway_url(url)  # no key in clear text (issue 17 S5)
    ui = shared.ui(output)
    cfg = load_env(env, env_dir).config
    if url is not None and cloud == "local":
        from aigw.gateway.url import is_loopback_url

        if not is_loopback_url(url):  # the local cloud's gateways listen on 127.0.0.1 only
            raise UserError(f"--url {url!r} is not on this machine (--cloud local): use 127.0.0.1")
    key: Secret | None
    if key_env:
        key = read_secret(key_env, what="the gateway key")
    else:
        key = workflow.read_secrets(cfg, required=False).gateway_key
    verify: Any = True
    if url is None or key is None:
        session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
        cfg = session.config
        verify = smoke.verify_for(session.target)
        if url is None:
            workflow.observe(session)
            url = workflow.outputs(session)["gateway_url"]
            if not url:
                raise AigwError(
                    f"no gateway found for {env}: the container app does not exist "
                    "or is still provisioning",
                    hint=f"run aigw deploy --env {env}",
                )
        if key is None:
            key = session.ctx.secrets.gateway_key or workflow.gateway_key_from_vault(session)
    checks = smoke.run_smoke(
        url,
        key.reveal() if key else None,
        cfg,
        verify=verify,
        timeout=timeout,
        on_wait=ui.info,
        max_models=None if all_models else smoke.DEFAULT_MAX_MODELS,
    )
    rows = [c.to_json() for c in checks]
    ui.result(
        {"env": env, "url": url, "ok": all(r["ok"] for r in rows), "checks": rows},
        lambda c: c.print(report.checks_table(rows, f"smoke test {url}")),
    )
    shared.summary(report.checks_markdown(rows, f"aigw smoke-test: {env}"))
    if not all(r["ok"] for r in rows):
        failed = ", ".join(r["name"] for r in rows if not r["ok"])
        raise AigwError(f"smoke test failed: {failed}")


def destroy(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (CI).")] = False,
    confirm_env: Annotated[
        str | None, typer.Option("--confirm-env", help="Required with --yes for prod.")
    ] = None,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also purge the soft-deleted vault (unrecoverable).")
    ] = False,
) -> None:
    """Delete what aigw made for this environment (tags checked), in reverse order."""
    from aigw.cli import arg_checks
    from aigw.engine import apply as apply_mod
    from aigw.output import report

    arg_checks.confirm_env(confirm_env, env)  # issue 17 R3
    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    with shared.locked(ui, session):
        the_plan = shared.read_plan(ui, session, show=True, destroy=True, purge=purge)
        if the_plan.has_changes:
            protected = env == "prod" or session.config.key_vault.purge_protection
            if yes and protected and confirm_env != env:
                raise UserError(f"destroying {env} needs --confirm-env {env} together with --yes")
            question = f"Delete {len(the_plan.writes)} resource(s) of {env}?"
            shared.confirm(ui, question, yes, typed=env if protected else None)
            result = shared.apply_with_view(ui, session, the_plan, f"destroying {env}")
            apply_mod.raise_on_failure(result)
    kept = session.ctx.outputs.get(Key.resource_group, {}).get("kept")
    if kept:  # something foreign appeared in the group after the plan was read
        ui.warn(kept)
    data = {**the_plan.to_json(), **({"kept": kept} if kept else {})}
    ui.result(data, lambda c: c.print(plain(report.plan_summary_line(the_plan))))
    shared.summary(report.plan_markdown(the_plan))


def status(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """The gateway's outputs and the health of every resource. Writes nothing."""
    from aigw.engine import workflow
    from aigw.output import report

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    observed = workflow.observe(session)
    outputs = workflow.outputs(session)
    health = workflow.health(session, observed)
    deployed = workflow.is_deployed(session, observed)
    if outputs["gateway_url"]:
        from aigw.gateway import smoke

        gateway = smoke.gateway_health(outputs["gateway_url"], smoke.verify_for(session.target))
        health = workflow.not_running_unless_answering(health, gateway)
        health.append(gateway)
    elif outputs["fqdn"]:  # --cloud local, not running yet: its placeholder is never looked up
        state = "not serving yet (provisioning; the local cloud gives it 127.0.0.1:<port>)"
        health.append({"kind": "gateway", "name": outputs["fqdn"], "ok": False, "state": state})
    data = {"env": env, "deployed": deployed, "outputs": outputs, "resources": health}

    def text(c: Any) -> None:
        if not deployed:
            c.print(plain(report.not_deployed_line(env, outputs, health)))
            return
        c.print(report.outputs_table(outputs, f"{env} outputs"))
        c.print(report.health_table(health))

    ui.result(data, text)
    shared.summary(report.outputs_markdown(outputs, f"aigw status: {env}"))


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(deploy)
    app.command("smoke-test")(smoke_test)
    app.command()(destroy)
    app.command()(status)
