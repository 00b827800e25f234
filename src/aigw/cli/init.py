"""`aigw init`: start an environments/ folder for a new project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import OutputOpt
from aigw.config import DEFAULT_ENVS
from aigw.output.formats import OutputFormat


def init(
    project: Annotated[str, typer.Option("--project", help="Project name used in resource names.")],
    location: Annotated[str, typer.Option("--location", help="Azure region, e.g. westeurope.")],
    endpoint: Annotated[
        str, typer.Option("--endpoint", help="Azure OpenAI endpoint, https://<resource>.<domain>.")
    ],
    envs: Annotated[
        str, typer.Option("--envs", help="Comma-separated environments, one overlay each.")
    ] = DEFAULT_ENVS,
    folder: Annotated[Path, typer.Option("--dir", help="Folder to create the files in.")] = Path(
        "environments"
    ),
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Write base.yaml and one overlay per environment (with the JSON Schema for editors)."""
    from aigw.config.init_envs import prepare, write

    ui = shared.ui(output)
    prepared = prepare(folder, project=project, location=location, endpoint=endpoint, envs=envs)
    written = write(prepared)
    env_dir = "" if folder == Path("environments") else f" --env-dir {folder}"
    data = {
        "dir": str(folder),
        "envs": list(prepared.envs),
        "files": [str(p) for p in written],
        "next": f"aigw validate --env {prepared.envs[0]}{env_dir}",
    }

    def text(c: Any) -> None:
        for path in written:
            c.print(f"wrote {path}", markup=False)
        c.print(f"next: {data['next']}", markup=False)

    ui.result(data, text)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
