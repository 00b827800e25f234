"""aigw command line: a thin layer that wires config, engine and renderers together.

Exit codes: 0 ok, 1 failure, 2 bad input (and `plan --detailed-exitcode`: 2 = changes).
Nothing here imports the Azure SDKs at module level: `aigw --help` must stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aigw import __version__
from aigw.errors import EXIT_BAD_INPUT, EXIT_FAILURE, AigwError
from aigw.redact import redact

if TYPE_CHECKING:
    pass
from aigw.cli import doctor as cli_doctor
from aigw.cli import gateway as cli_gateway
from aigw.cli import gateway_key as cli_gateway_key
from aigw.cli import infra as cli_infra
from aigw.cli import init as cli_init
from aigw.cli import keys as cli_keys
from aigw.cli import options as shared
from aigw.cli import rollout as cli_rollout
from aigw.cli import usage as cli_usage
from aigw.cli.localcloud import app as localcloud_app
from aigw.cli.options import EnvDirOpt, EnvOpt, OutputOpt, state
from aigw.output.formats import OutputFormat
from aigw.output.help_format import WholeSummaryGroup

app = typer.Typer(
    name="aigw",
    help="Deploy and operate an AI gateway: LiteLLM on Azure Container Apps in front of "
    "Azure OpenAI.",
    no_args_is_help=True,
    cls=WholeSummaryGroup,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
litellm_app = typer.Typer(
    help="The local LiteLLM environment (used by serve and tests).", cls=WholeSummaryGroup
)
app.add_typer(litellm_app, name="litellm")
app.add_typer(
    localcloud_app,
    name="localcloud",
    help="The local cloud: ARM, Key Vault and Azure OpenAI emulators on 127.0.0.1.",
)


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
    state.debug = debug or os.environ.get("AIGW_DEBUG") == "1"
    if state.debug:
        from aigw.logs import enable_debug_logging

        enable_debug_logging()
    else:
        from aigw.logs import quiet_sdk_logging

        quiet_sdk_logging()


@app.command()
def validate(env: EnvOpt, env_dir: EnvDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Check an environment file: types, values, names. Writes nothing."""
    from aigw.config import limits
    from aigw.config.load import load_env
    from aigw.resources import names_of

    ui = shared.ui(output)
    loaded = load_env(env, env_dir)
    cfg = loaded.config
    notes = limits.notes(cfg.limits, cfg.gateway.max_replicas * cfg.gateway.workers)
    data = {
        "env": cfg.env,
        "file": str(loaded.path),
        "extends": [str(p) for p in loaded.chain[1:]],
        "valid": True,
        "models": [m.alias for m in cfg.models],
        "names": names_of(cfg).as_dict(),
        "notes": notes,
    }

    def text(console: Any) -> None:
        chain = " extends ".join(str(p) for p in loaded.chain)
        console.print(f"[green]ok[/] {chain}: {len(cfg.models)} models, names valid")
        for note in notes:
            console.print(f"note: {note}", markup=False)

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
    from aigw.config.load import load_env
    from aigw.gateway.render import render_gateway
    from aigw.resources import names_of

    ui = shared.ui(OutputFormat.json if json_ else output)
    cfg = load_env(env, env_dir).config
    rendered = render_gateway(cfg)
    if ui.is_json:
        ui.result(
            {
                "env": cfg.env,
                "names": names_of(cfg).as_dict(),
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
    from aigw.config.schema import env_file_schema, reference_markdown

    if markdown:
        sys.stdout.write(reference_markdown())
    else:
        import json

        sys.stdout.write(json.dumps(env_file_schema(), indent=2) + "\n")


@litellm_app.command("ensure")
def litellm_ensure(
    env: EnvOpt = "dev", env_dir: EnvDirOpt = None, output: OutputOpt = OutputFormat.text
) -> None:
    """Find or create the LiteLLM virtual environment matching the environment's image."""
    import aigw.gateway.venv as litellm_env
    from aigw.config.load import load_env

    ui = shared.ui(output)
    cfg = load_env(env, env_dir).config
    version = litellm_env.litellm_version_from_image(cfg.gateway.image)
    found = litellm_env.ensure(version, reporter=ui.info)
    ui.result(
        {"version": found.version, "path": str(found.root)},
        lambda c: c.print(f"LiteLLM {found.version}: {found.root}"),
    )


cli_infra.register(app)
cli_gateway.register(app)
cli_gateway_key.register(app)
cli_keys.register(app)
cli_rollout.register(app)
cli_init.register(app)
cli_usage.register(app)
app.command()(cli_doctor.doctor)


def _print_error(message: str, *, code: int = EXIT_FAILURE, error: Any = None) -> None:
    from aigw.output.github import annotation, in_github_actions

    message = redact(message)
    shared.ui().error(message)
    if in_github_actions():
        print(annotation("error", message, title="aigw"), flush=True)
    from aigw.output import ui

    if _json_errors and not ui.results_printed:  # -o json: JSON on stdout too (issue 12 #7)
        data = {
            "error": message,
            "file": getattr(error, "file", None),
            "field": getattr(error, "field", None) or None,
            "exit_code": code,
        }
        import json

        sys.stdout.write(redact(json.dumps(data)) + "\n")
        sys.stdout.flush()


_json_errors = False


def _wants_json(args: list[str]) -> bool:
    for i, arg in enumerate(args):
        if arg in ("-o", "--output") and args[i + 1 : i + 2] == ["json"]:
            return True
        if arg in ("--output=json", "-ojson", "-o=json"):
            return True
    return False


_INTERRUPTED = "interrupted (rerun the same command to resume: it reads what is there first)"


def _exit(code: int) -> None:
    """sys.exit, except after Ctrl-C with worker threads still in an SDK call: the interpreter
    would wait for them at exit, so leave at once (locks are already released, output flushed)."""
    import threading

    if code == 130 and any(
        t.is_alive() and not t.daemon and t is not threading.main_thread()
        for t in threading.enumerate()
    ):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app and turns every error into one line and an exit code."""
    global _json_errors
    from aigw import interrupt

    args = sys.argv[1:] if argv is None else argv
    _json_errors = _wants_json(args)
    interrupt.install()
    try:
        rv = app(args=args, prog_name="aigw", standalone_mode=False)
    except AigwError as e:
        if state.debug:
            import traceback

            traceback.print_exc()
        _print_error(e.one_line(), code=e.exit_code, error=e)
        _exit(e.exit_code)
    except typer.TyperException as e:  # usage errors: bad options, missing arguments
        ctx = getattr(e, "ctx", None)
        cmd = ctx.command_path if ctx is not None else "aigw"
        _print_error(f"{e.format_message()} (see: {cmd} --help)", code=EXIT_BAD_INPUT)
        sys.exit(EXIT_BAD_INPUT)
    except typer.Abort:
        _print_error("aborted")
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        _print_error(_INTERRUPTED, code=130)
        _exit(130)
    except Exception as e:  # a bug: say so in one line, traceback only with --debug
        if state.debug:
            import traceback

            sys.stderr.write(redact(traceback.format_exc()))
        first = redact(str(e)).splitlines()[0] if str(e) else ""
        _print_error(
            f"internal error: {type(e).__name__}: {first} (rerun with --debug for the traceback)"
        )
        sys.exit(EXIT_FAILURE)
    if rv == 130 and interrupt.CANCELLED.is_set():  # typer turns Ctrl-C into Exit(130)
        _print_error(_INTERRUPTED, code=130)
        _exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


__all__ = ["app", "main"]
