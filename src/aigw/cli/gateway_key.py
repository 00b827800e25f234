"""`aigw gateway-key show`: read the gateway key from Key Vault (a fingerprint unless --reveal).

`aigw key` is its former name, kept as a hidden alias (a user may have scripted it); `aigw keys`
is the developer keys (cli/keys.py)."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer

from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, OutputOpt, SubscriptionOpt
from aigw.output.formats import OutputFormat
from aigw.output.help_format import WholeSummaryGroup
from aigw.output.plain import plain

gateway_key_app = typer.Typer(
    help="The gateway key in Key Vault: read it (rotate-key replaces it).",
    no_args_is_help=True,
    cls=WholeSummaryGroup,
)


@gateway_key_app.command("show")
def show(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Print the key itself (else only its fingerprint).")
    ] = False,
) -> None:
    """Show the gateway key's fingerprint (the key only with --reveal). Writes nothing."""
    from aigw.engine.gateway_key import read_gateway_key

    ui = shared.ui(output)
    session = shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)
    try:
        stored = read_gateway_key(session)
    finally:
        session.close()
    data = stored.to_json()
    if reveal:
        _reveal(stored.key.reveal(), data, ui.is_json)
        return

    def text(c: Any) -> None:
        c.print(
            plain(
                f"gateway key of {env}: {data['fingerprint']} "
                f"(Key Vault {stored.key_vault}/{stored.secret}, version {stored.version})"
            )
        )
        c.print(
            f"the key itself: aigw gateway-key show --env {env}"
            f"{' --cloud local' if cloud == 'local' else ''} --reveal",
            markup=False,
        )

    ui.result(data, text)


def _reveal(value: str, data: dict[str, Any], as_json: bool) -> None:
    """The key on stdout, alone (for `$(aigw gateway-key show ... --reveal)`), or in the JSON."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        sys.stdout.write(f"::add-mask::{value}\n")
    if as_json:
        sys.stdout.write(json.dumps({**data, "key": value}, indent=2) + "\n")
    else:
        sys.stdout.write(value + "\n")
    sys.stdout.flush()


# The group's name; FORMER_NAME still works, hidden from --help (tests/cli/test_cli_aliases.py).
NAME = "gateway-key"
FORMER_NAME = "key"


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_key_app, name=NAME)
    # its own group object: typer keeps one name per Typer instance
    former = typer.Typer(
        help=gateway_key_app.info.help, no_args_is_help=True, cls=WholeSummaryGroup
    )
    former.command("show")(show)
    app.add_typer(former, name=FORMER_NAME, hidden=True)
