"""`aigw localcloud start|stop|status|reset|seed|world` (aigw.cli.app mounts `app` under the
main CLI)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from aigw.output.help_format import WholeSummaryGroup

app = typer.Typer(
    help="Run the local emulator of Azure (ARM + Key Vault) on 127.0.0.1.",
    no_args_is_help=True,
    add_completion=False,
    cls=WholeSummaryGroup,
)


def default_state_dir() -> Path:
    """The same folder `--cloud local` uses ($AIGW_LOCALCLOUD_DIR, else the XDG cache)."""
    from aigw.engine.workflow import localcloud_dir

    return localcloud_dir()


StateDir = typer.Option(
    None,
    "--state-dir",
    help="State directory (default: $AIGW_LOCALCLOUD_DIR or ~/.cache/aigw/localcloud).",
)
Output = typer.Option("text", "--output", "-o", help="text or json.")


def _emit(output: str, data: dict[str, Any], text: str) -> None:
    if output == "json":
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(text)


def _check_output(output: str) -> None:
    if output not in ("text", "json"):
        typer.echo(f"error: --output must be text or json, not {output!r}", err=True)
        raise typer.Exit(2)


@app.command()
def start(
    state_dir: Path | None = StateDir,
    latency: str = typer.Option("instant", help="instant or realistic."),
    scale: float = typer.Option(1.0, help="Multiplier of realistic durations."),
    propagation_delay: float = typer.Option(
        2.0, help="Seconds before role assignments act (Azure: up to 10 minutes)."
    ),
    output: str = Output,
) -> None:
    """Start the local cloud in the background (no-op if it already runs)."""
    from aigw.engine.localcloud import LocalCloudError, ensure_running

    _check_output(output)
    if latency not in ("instant", "realistic"):
        typer.echo(f"error: --latency must be instant or realistic, not {latency!r}", err=True)
        raise typer.Exit(2)
    d = state_dir or default_state_dir()
    try:
        ep = ensure_running(d, latency=latency, scale=scale, propagation_delay=propagation_delay)
    except LocalCloudError as e:
        typer.echo(f"error: {e.one_line()}", err=True)
        raise typer.Exit(e.exit_code) from None
    _emit(
        output,
        {"running": True, **asdict(ep)},
        f"localcloud running: {ep.arm_url} (pid {ep.pid}, CA {ep.ca_file})",
    )


@app.command()
def stop(state_dir: Path | None = StateDir, output: str = Output) -> None:
    """Stop the background local cloud."""
    from aigw.engine.localcloud import LocalCloudError
    from aigw.engine.localcloud import stop as stop_cloud

    _check_output(output)
    try:
        stopped = stop_cloud(state_dir or default_state_dir())
    except LocalCloudError as e:
        typer.echo(f"error: {e.one_line()}", err=True)
        raise typer.Exit(e.exit_code) from None
    _emit(
        output,
        {"stopped": stopped},
        "localcloud stopped" if stopped else "localcloud was not running",
    )


@app.command()
def status(state_dir: Path | None = StateDir, output: str = Output) -> None:
    """Show whether the local cloud runs and where. Exit code 1 when it does not."""
    from aigw.engine.localcloud import status as cloud_status

    _check_output(output)
    ep = cloud_status(state_dir or default_state_dir())
    if ep is None:
        _emit(output, {"running": False}, "localcloud is not running")
        raise typer.Exit(1)
    _emit(
        output, {"running": True, **asdict(ep)}, f"localcloud running: {ep.arm_url} (pid {ep.pid})"
    )


@app.command("env")
def env_exports(state_dir: Path | None = StateDir, output: str = Output) -> None:
    """Print the shell exports that trust the local cloud's CA: eval "$(aigw localcloud env)"."""
    from aigw_localcloud.core.ca_bundle import exports, shell_lines

    _check_output(output)
    d = state_dir or default_state_dir()
    values = exports(d)
    if output == "json":
        typer.echo(json.dumps({"ca_bundle": values["SSL_CERT_FILE"], "exports": values}, indent=2))
        return
    typer.echo(
        "# the system CAs plus the local cloud's CA, for curl, Python and the OpenAI SDK\n"
        + shell_lines(values),
        nl=False,
    )


@app.command()
def reset(state_dir: Path | None = StateDir, output: str = Output) -> None:
    """Stop the local cloud and delete its state (resources, secrets, journal, CA)."""
    from aigw.engine.localcloud import LocalCloudError
    from aigw.engine.localcloud import reset as reset_cloud

    _check_output(output)
    d = state_dir or default_state_dir()
    try:
        reset_cloud(d)
    except LocalCloudError as e:
        typer.echo(f"error: {e.one_line()}", err=True)
        raise typer.Exit(e.exit_code) from None
    _emit(output, {"reset": True, "state_dir": str(d)}, f"localcloud state removed from {d}")


WorldFile = typer.Argument(
    ..., help="World file (YAML or JSON): the Azure OpenAI accounts your Azure has."
)


@app.command()
def seed(
    world_file: Path = WorldFile,
    state_dir: Path | None = StateDir,
    output: str = Output,
) -> None:
    """Give the local cloud the Azure OpenAI accounts and deployments your Azure already has
    (starting it if needed); an account of the same name is replaced. Keys come from the
    variables the file's key_env names. Reference: README, 'The local cloud's world'."""
    import os

    from aigw.engine.localcloud import LocalCloudError, seed_world
    from aigw_localcloud.openai.world import WorldError, load_file

    _check_output(output)
    try:
        accounts = load_file(world_file, os.environ)
    except WorldError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    d = state_dir or default_state_dir()
    try:
        world = seed_world(d, [a.to_dict() for a in accounts])
    except LocalCloudError as e:
        typer.echo(f"error: {e.one_line()}", err=True)
        raise typer.Exit(e.exit_code) from None
    _emit(output, {"openai_accounts": world}, _world_text(world))


@app.command()
def world(state_dir: Path | None = StateDir, output: str = Output) -> None:
    """Show the local cloud's Azure OpenAI accounts and their deployments (never their keys)."""
    from aigw.engine.localcloud import LocalCloudError, read_world

    _check_output(output)
    try:
        accounts = read_world(state_dir or default_state_dir())
    except LocalCloudError as e:
        typer.echo(f"error: {e.one_line()}", err=True)
        raise typer.Exit(e.exit_code) from None
    _emit(output, {"openai_accounts": accounts}, _world_text(accounts))


def _world_text(accounts: list[dict[str, Any]]) -> str:
    if not accounts:
        return (
            "the local cloud has no Azure OpenAI account: aigw localcloud seed "
            "localcloud/world.yaml"
        )
    lines = []
    for a in accounts:
        key = "key from " + a["key_from"] if a["key_from"] != "random" else "a random key"
        lines.append(f"{a['name']} ({a['location']}, {a['resource_group']}, {key}) at {a['url']}")
        for d in a["deployments"]:
            version = f" {d['version']}" if d.get("version") else ""
            lines.append(
                f"  {d['name']}: {d['model'] or d['kind']}{version}, capacity {d['capacity']}"
            )
    return "\n".join(lines)
