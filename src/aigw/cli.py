"""aigw command line: a thin layer that wires config, engine and renderers together.

Exit codes: 0 ok, 1 failure, 2 bad input (and `plan --detailed-exitcode`: 2 = changes).
Nothing here imports the Azure SDKs at module level: `aigw --help` must stay fast.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aigw import __version__
from aigw.errors import EXIT_BAD_INPUT, EXIT_FAILURE, AigwError, UserError
from aigw.redact import redact

if TYPE_CHECKING:
    from aigw.ui import UI
from aigw.formats import OutputFormat
from aigw.localcloud.cli import app as localcloud_app

app = typer.Typer(
    name="aigw",
    help="Deploy and operate an AI gateway: LiteLLM on Azure Container Apps in front of "
    "Azure OpenAI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
litellm_app = typer.Typer(help="The local LiteLLM environment (used by serve and tests).")
app.add_typer(litellm_app, name="litellm")
app.add_typer(
    localcloud_app,
    name="localcloud",
    help="The local cloud: ARM, Key Vault and Azure OpenAI emulators on 127.0.0.1.",
)

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

_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aigw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Tracebacks and HTTP logging (secrets redacted).")
    ] = False,
) -> None:
    """aigw: deploy, check and operate the AI gateway."""
    global _debug
    _debug = debug or os.environ.get("AIGW_DEBUG") == "1"
    if _debug:
        from aigw.logs import enable_debug_logging

        enable_debug_logging()


@app.command()
def validate(env: EnvOpt, env_dir: EnvDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Check an environment file: types, values, names. Writes nothing."""
    from aigw.config_load import load_env

    ui = _ui(output)
    loaded = load_env(env, env_dir)
    cfg = loaded.config
    data = {
        "env": cfg.env,
        "file": str(loaded.path),
        "extends": [str(p) for p in loaded.chain[1:]],
        "valid": True,
        "models": [m.alias for m in cfg.models],
        "names": cfg.names().as_dict(),
    }

    def text(console: Any) -> None:
        chain = " extends ".join(str(p) for p in loaded.chain)
        console.print(f"[green]ok[/] {chain}: {len(cfg.models)} models, names valid")

    ui.result(data, text)


@app.command()
def render(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    json_: Annotated[
        bool, typer.Option("--json", help="The whole desired picture: names, tags, models, config.")
    ] = False,
) -> None:
    """Print the LiteLLM config the gateway will run (or --json: everything aigw derives)."""
    from aigw.config_load import load_env
    from aigw.render import render_gateway

    ui = _ui(OutputFormat.json if json_ else output)
    cfg = load_env(env, env_dir).config
    rendered = render_gateway(cfg)
    if ui.is_json:
        ui.result(
            {
                "env": cfg.env,
                "names": cfg.names().as_dict(),
                "tags": cfg.all_tags(),
                "models": [m.model_dump(mode="json") for m in cfg.models],
                "litellm": {
                    "config_yaml": rendered.config_yaml,
                    "sha256": rendered.sha256,
                    "args": list(rendered.args),
                    "image": cfg.gateway.image,
                },
            }
        )
    else:
        sys.stdout.write(rendered.config_yaml)


@app.command()
def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The configuration reference table instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of environment files (for editor completion and checks)."""
    from aigw.schema import env_file_schema, reference_markdown

    if markdown:
        sys.stdout.write(reference_markdown())
    else:
        sys.stdout.write(json.dumps(env_file_schema(), indent=2) + "\n")


@litellm_app.command("ensure")
def litellm_ensure(
    env: EnvOpt = "dev", env_dir: EnvDirOpt = None, output: OutputOpt = OutputFormat.text
) -> None:
    """Find or create the LiteLLM virtual environment matching the environment's image."""
    import aigw.litellm_env as litellm_env
    from aigw.config_load import load_env

    ui = _ui(output)
    cfg = load_env(env, env_dir).config
    version = litellm_env.litellm_version_from_image(cfg.gateway.image)
    found = litellm_env.ensure(version, reporter=ui.info)
    ui.result(
        {"version": found.version, "path": str(found.root)},
        lambda c: c.print(f"LiteLLM {found.version}: {found.root}"),
    )


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


def _summary(markdown: str) -> None:
    """Append to the GitHub job summary when running in Actions (secrets redacted)."""
    from aigw.github import append_step_summary
    from aigw.redact import known_secrets

    append_step_summary(markdown, secrets=known_secrets())


def _open(
    env: str, env_dir: Path | None, cloud: str, subscription: str | None, *, need_secrets: bool
) -> Any:
    from aigw import workflow
    from aigw.config_load import load_env

    cfg = load_env(env, env_dir).config
    secrets = workflow.read_secrets(cfg, required=need_secrets)  # before any Azure call
    target = workflow.make_target(cfg, cloud=cloud, subscription=subscription, debug=_debug)
    if target.local:
        cfg = workflow.use_local_openai(cfg, secrets)
    return workflow.open_session(cfg, target, secrets=secrets)


@app.command()
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
    from aigw import report

    ui = _ui(output)
    session = _open(env, env_dir, cloud, subscription, need_secrets=False)
    if any(v is None for v in session.ctx.secrets.values()):
        ui.info("note: a key's environment variable is not set: Key Vault values not compared")
    the_plan = _read_plan(ui, session)
    ui.result(the_plan.to_json(), lambda c: report.print_plan(c, the_plan))
    _summary(report.plan_markdown(the_plan))
    if detailed_exitcode and the_plan.has_changes:
        raise typer.Exit(2)


def _read_plan(
    ui: UI, session: Any, *, show: bool = False, destroy: bool = False, purge: bool = False
) -> Any:
    """Observe and plan, with a spinner; `show`: print it on stderr and refuse unsafe plans."""
    from aigw import report, workflow

    what = f"reading {len(session.desired.resources)} resources of {session.config.env}"
    with ui.err.status(what):
        the_plan = workflow.make_plan(session, destroy=destroy, purge=purge)
    if show:
        if not ui.is_json:
            report.print_plan(ui.err, the_plan)
        the_plan.raise_if_unsafe()
    return the_plan


def _confirm(ui: UI, question: str, yes: bool, *, typed: str | None = None) -> None:
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


def _apply(ui: UI, session: Any, the_plan: Any, title: str) -> Any:
    from aigw import report, workflow

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


@app.command()
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
) -> None:
    """Make Azure match the environment file, then smoke-test the gateway."""
    from aigw import apply as apply_mod
    from aigw import report, workflow
    from aigw.errors import AigwError

    ui = _ui(output)
    session = _open(env, env_dir, cloud, subscription, need_secrets=True)
    the_plan = _read_plan(ui, session, show=True)
    if plan_checksum and plan_checksum != the_plan.checksum:
        raise AigwError(
            f"the plan changed since it was reviewed: checksum {the_plan.checksum}, "
            f"expected {plan_checksum}",
            hint="run aigw plan again and review it",
        )
    result = None
    if the_plan.has_changes:
        _confirm(ui, f"Apply {len(the_plan.writes)} change(s) to {env}?", yes)
        result = _apply(ui, session, the_plan, f"deploying {env}")
        _summary(report.plan_markdown(the_plan))
        apply_mod.raise_on_failure(result)
    outputs = workflow.outputs(session)
    smoke_rows: list[dict[str, Any]] = []
    if not no_smoke:
        smoke_rows = _smoke(ui, session, outputs)
    data = {
        "env": env,
        "plan": the_plan.to_json(),
        "applied": bool(result),
        "outputs": outputs,
        "smoke": smoke_rows,
    }
    ui.result(data, lambda c: c.print(report.outputs_table(outputs, f"{env} outputs")))
    _summary(report.outputs_markdown(outputs, f"aigw deploy: {env}"))
    if smoke_rows and not all(r["ok"] for r in smoke_rows):
        raise AigwError("the smoke test failed: see the table above")


def _smoke(ui: UI, session: Any, outputs: dict[str, Any]) -> list[dict[str, Any]]:
    from aigw import report, smoke

    url = outputs.get("gateway_url")
    if not url:
        raise AigwError("the container app reports no FQDN: cannot smoke-test the gateway")
    key = session.ctx.secrets.get("gateway_key")
    checks = smoke.run_smoke(
        url,
        key.reveal() if key else None,
        session.config,
        verify=smoke.verify_for(session.target),
        on_wait=ui.info,
    )
    rows = [c.to_json() for c in checks]
    if not ui.is_json:
        ui.err.print(report.checks_table(rows, f"smoke test {url}"))
    _summary(report.checks_markdown(rows, f"aigw smoke-test: {session.config.env}"))
    return rows


@app.command("smoke-test")
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
) -> None:
    """Prove the live gateway works: auth on, every model answers. Exit 1 on any failure."""
    from aigw import report, smoke, workflow
    from aigw.config_load import Secret, load_env, read_secret

    ui = _ui(output)
    cfg = load_env(env, env_dir).config
    key: Secret | None
    if key_env:
        key = read_secret(key_env, what="the gateway key")
    else:
        key = workflow.read_secrets(cfg, required=False)["gateway_key"]
    verify: Any = True
    if url is None or key is None:
        session = _open(env, env_dir, cloud, subscription, need_secrets=False)
        cfg = session.config
        verify = smoke.verify_for(session.target)
        if url is None:
            workflow.observe(session)
            url = workflow.outputs(session)["gateway_url"]
            if not url:
                raise AigwError(
                    f"no gateway found for {env}: the container app does not exist",
                    hint=f"run aigw deploy --env {env}",
                )
        if key is None:
            key = session.ctx.secrets.get("gateway_key") or workflow.gateway_key_from_vault(session)
    checks = smoke.run_smoke(
        url, key.reveal() if key else None, cfg, verify=verify, timeout=timeout, on_wait=ui.info
    )
    rows = [c.to_json() for c in checks]
    ui.result(
        {"env": env, "url": url, "ok": all(r["ok"] for r in rows), "checks": rows},
        lambda c: c.print(report.checks_table(rows, f"smoke test {url}")),
    )
    _summary(report.checks_markdown(rows, f"aigw smoke-test: {env}"))
    if not all(r["ok"] for r in rows):
        failed = ", ".join(r["name"] for r in rows if not r["ok"])
        raise AigwError(f"smoke test failed: {failed}")


@app.command()
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
    from aigw import apply as apply_mod
    from aigw import report

    ui = _ui(output)
    session = _open(env, env_dir, cloud, subscription, need_secrets=False)
    the_plan = _read_plan(ui, session, show=True, destroy=True, purge=purge)
    if the_plan.has_changes:
        protected = env == "prod" or session.config.key_vault.purge_protection
        if yes and protected and confirm_env != env:
            raise UserError(f"destroying {env} needs --confirm-env {env} together with --yes")
        question = f"Delete {len(the_plan.writes)} resource(s) of {env}?"
        _confirm(ui, question, yes, typed=env if protected else None)
        result = _apply(ui, session, the_plan, f"destroying {env}")
        apply_mod.raise_on_failure(result)
    ui.result(the_plan.to_json(), lambda c: c.print(report.plan_summary_line(the_plan)))
    _summary(report.plan_markdown(the_plan))


@app.command()
def status(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
) -> None:
    """The gateway's outputs and the health of every resource. Writes nothing."""
    from aigw import report, workflow

    ui = _ui(output)
    session = _open(env, env_dir, cloud, subscription, need_secrets=False)
    observed = workflow.observe(session)
    outputs = workflow.outputs(session)
    health = workflow.health(session, observed)
    data = {"env": env, "outputs": outputs, "resources": health}

    def text(c: Any) -> None:
        c.print(report.outputs_table(outputs, f"{env} outputs"))
        c.print(report.health_table(health))

    ui.result(data, text)
    _summary(report.outputs_markdown(outputs, f"aigw status: {env}"))


def _ui(fmt: OutputFormat = OutputFormat.text) -> UI:
    from aigw.ui import UI

    return UI(fmt)


def _print_error(message: str) -> None:
    from aigw.github import annotation, in_github_actions

    message = redact(message)
    _ui().error(message)
    if in_github_actions():
        print(annotation("error", message, title="aigw"), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app and turns every error into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    try:
        rv = app(args=args, prog_name="aigw", standalone_mode=False)
    except AigwError as e:
        if _debug:
            traceback.print_exc()
        _print_error(e.one_line())
        sys.exit(e.exit_code)
    except typer.TyperException as e:  # usage errors: bad options, missing arguments
        ctx = getattr(e, "ctx", None)
        cmd = ctx.command_path if ctx is not None else "aigw"
        _print_error(f"{e.format_message()} (see: {cmd} --help)")
        sys.exit(EXIT_BAD_INPUT)
    except typer.Abort:
        _print_error("aborted")
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        _print_error("interrupted")
        sys.exit(130)
    except Exception as e:  # a bug: say so in one line, traceback only with --debug
        if _debug:
            sys.stderr.write(redact(traceback.format_exc()))
        first = redact(str(e)).splitlines()[0] if str(e) else ""
        _print_error(
            f"internal error: {type(e).__name__}: {first} (rerun with --debug for the traceback)"
        )
        sys.exit(EXIT_FAILURE)
    sys.exit(rv if isinstance(rv, int) else 0)


__all__ = ["UserError", "app", "main"]
