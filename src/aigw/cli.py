"""aigw command line: a thin layer that wires config, engine and renderers together."""

from __future__ import annotations

import typer

from aigw import __version__

app = typer.Typer(
    name="aigw",
    help="Deploy and operate an AI gateway (LiteLLM on Azure Container Apps).",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aigw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """aigw: deploy, check and operate the AI gateway."""


def main() -> None:
    app()
