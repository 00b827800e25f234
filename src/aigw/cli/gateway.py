"""Gateway operations: `aigw client-config`, `aigw serve`, `aigw rotate-key`.

`register(app)` adds them to the main typer app (cli.py calls it once). Like cli.py, nothing
here imports the Azure SDKs, rich or LiteLLM helpers at module level: `aigw --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from aigw import clients
from aigw.cli import options as shared
from aigw.cli.options import CloudOpt, EnvDirOpt, EnvOpt, OutputOpt, SubscriptionOpt
from aigw.errors import AigwError, GatewayError, UserError
from aigw.output.formats import OutputFormat
from aigw.output.plain import plain
from aigw.state import Key


def _open(env: str, env_dir: Path | None, cloud: str, subscription: str | None) -> Any:
    return shared.open_session(env, env_dir, cloud, subscription, need_secrets=False)


def _known_client(value: str) -> str:
    if value not in clients.names():
        raise typer.BadParameter(
            f"{value!r} is not a coding client aigw knows: {clients.choices(', ')}"
        )
    return value


def client_config(
    env: EnvOpt,
    client: Annotated[
        str,
        typer.Option(
            "--client",
            "-c",
            callback=_known_client,
            metavar=f"[{clients.choices()}]",
            autocompletion=clients.names,
            help=", ".join(f"{c.name} ({c.title})" for c in clients.all_clients()) + ".",
        ),
    ],
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The gateway URL (else read from the deployed container app)."),
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option(
            "--key-env",
            help="Variable holding the developer's own key (aigw keys add), e.g. "
            "AIGW_DEVELOPER_KEY [default: gateway.key_env].",
        ),
    ] = None,
) -> None:
    """Print the settings a coding client needs to use the gateway (the key by name only)."""
    import re

    from aigw.config.load import load_env

    ui = shared.ui(output)
    cfg = load_env(env, env_dir).config
    if key_env is not None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", key_env):
            raise UserError(
                f"--key-env {key_env!r} is not a variable name", hint="e.g. AIGW_DEVELOPER_KEY"
            )
        gateway = cfg.gateway.model_copy(update={"key_env": key_env})
        cfg = cfg.model_copy(update={"gateway": gateway})
    source = "--url"
    if url is None:
        url = _deployed_url(env, env_dir, cloud, subscription)
        source = f"container app of {env} ({cloud})"
    elif not url.startswith(("https://", "http://")):
        raise UserError(f"--url {url!r} must start with https:// (or http:// for aigw serve)")
    rendered = clients.render_client(client, cfg, url)
    data = {"env": env, "gateway_url": url, "url_from": source, **rendered.to_json()}
    notes = list(rendered.notes)
    if cloud == "local":  # the local gateway's certificate comes from the local cloud's CA
        from aigw.engine.workflow import localcloud_dir
        from aigw_localcloud.core.ca_bundle import BUNDLE

        data["ca_bundle"] = str(localcloud_dir() / BUNDLE)
        notes.append(
            f'The local cloud signs the gateway\'s certificate: run eval "$(aigw localcloud env)" '
            f"in the client's shell first (CA bundle {data['ca_bundle']})."
        )

    def text(console: Any) -> None:
        sys.stdout.write(rendered.text)
        sys.stdout.flush()
        ui.info(f"# {client}: {rendered.path}")
        for note in notes:
            ui.info(f"# {note}")

    ui.result(data, text)


def _deployed_url(env: str, env_dir: Path | None, cloud: str, subscription: str | None) -> str:
    from aigw.gateway.url import gateway_url
    from aigw.resources import adapter

    session = _open(env, env_dir, cloud, subscription)
    try:
        res = session.desired.by_key()[Key.container_app]
        obs = adapter(res.kind).observe(session.ctx, res)
    finally:
        session.close()
    fqdn = obs.outputs.get("fqdn") if obs.exists else None
    url = gateway_url(fqdn, local=session.target.local)
    if not url:
        raise AigwError(
            f"the container app {res.name} of {env} is not deployed, has no FQDN or is still "
            "provisioning",
            hint=f"aigw deploy --env {env}, or pass --url",
        )
    return url


def serve(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    port: Annotated[
        int | None,
        typer.Option(
            "--port", help="Port on 127.0.0.1 [default: the YAML's gateway.port; 0: free]."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Start, run the smoke test, stop; exit 0 or 1.")
    ] = False,
) -> None:
    """Run the gateway here with the config deploy would ship, on the real LiteLLM."""
    from aigw.config.load import load_env
    from aigw.engine import workflow
    from aigw.gateway import serve as serve_mod

    ui = shared.ui(output)
    if port is not None and not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port number")
    cfg = load_env(env, env_dir).config
    secrets = workflow.read_secrets(cfg, required=True)
    if cloud == "local":
        if cfg.azure_openai.auth == "identity":
            # No managed identity outside a container app: here the local account is called
            # with its own key (on Azure, `serve` with auth: identity uses your own sign-in
            # through DefaultAzureCredential: you need the role on the account).
            cfg, secrets = workflow.with_local_key(cfg, secrets)
        cfg = workflow.use_local_openai(cfg)
    elif cloud != "azure":
        raise UserError(f"unknown --cloud {cloud!r}", hint="use azure or local")
    gateway_key = serve_mod.gateway_key(cfg, secrets)
    environ = serve_mod.gateway_environ(cfg, secrets)
    with serve_mod.shared_store(cfg, cloud, ui.info) as store:
        _serve(ui, env, cfg, secrets, {**environ, **store}, gateway_key, port, check)


def _serve(
    ui: Any,
    env: str,
    cfg: Any,
    secrets: Any,
    environ: dict[str, str],
    gateway_key: str,
    port: int | None,
    check: bool,
) -> None:
    from aigw.gateway import serve as serve_mod

    served = serve_mod.start(cfg, environ, gateway_key=gateway_key, port=port, reporter=ui.info)
    try:
        base = {
            "env": env,
            "url": served.url,
            "litellm_version": served.litellm_version,
            "azure_openai_endpoint": cfg.azure_openai.endpoint,
            "startup_s": round(served.startup_s, 2),
            "log": str(served.gateway.log_path),
        }
        hint = f"aigw client-config --env {env} --client {clients.choices()} --url {served.url}"
        if check:
            key = secrets.gateway_key
            checks = serve_mod.check(served, cfg, key.reveal() if key else None)
            rows = [c.to_json() for c in checks]
            ok = all(r["ok"] for r in rows)
            if not ui.is_json:
                from aigw.output import report

                ui.err.print(report.checks_table(rows, f"smoke test {served.url}"))
            ui.result(
                {**base, "checks": rows, "ok": ok},
                lambda c: c.print(f"gateway {served.url}: {'pass' if ok else 'FAIL'}"),
            )
            if not ok:
                raise GatewayError("the smoke test failed: see the table above")
            return
        ui.result(
            {**base, "client_config": hint},
            lambda c: c.print(
                f"gateway {served.url} (LiteLLM {served.litellm_version}, ready in "
                f"{served.startup_s:.1f}s)\nclients: {hint}\nstop: Ctrl-C"
            ),
        )
        signum = serve_mod.run_until_stopped(served)
        ui.info(f"stopped (signal {signum})" if signum else "stopped")
    finally:
        served.gateway.stop()
        serve_mod.remove_files(served)


def rotate_key(
    env: EnvOpt,
    env_dir: EnvDirOpt = None,
    output: OutputOpt = OutputFormat.text,
    cloud: CloudOpt = "azure",
    subscription: SubscriptionOpt = None,
    new_key_env: Annotated[
        str | None,
        typer.Option(
            "--new-key-env", help="Take the new key from this environment variable (else generate)."
        ),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Print the new key (once). Otherwise it is never shown.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Rotate without asking (CI).")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the restarted revision.")
    ] = 300.0,
) -> None:
    """New gateway key in Key Vault, revision restarted, new key proven, old key refused."""
    from aigw.engine import rotate
    from aigw.output import report
    from aigw.secrets import Secret

    ui = shared.ui(output)
    if new_key_env:
        value = os.environ.get(new_key_env, "")
        if not value.strip():
            raise UserError(f"--new-key-env {new_key_env}: the variable is empty or not set")
        new_key = Secret(new_key_env, rotate.check_new_key(value))
    else:
        new_key = Secret("generated", rotate.generate_key())
    session = _open(env, env_dir, cloud, subscription)
    try:
        shared.confirm(
            ui,
            f"Rotate the gateway key of {env}? Clients using the current key stop working.",
            yes,
        )
        with shared.locked(ui, session):
            result = rotate.rotate_gateway_key(
                session, new_key, wait_timeout=timeout, on_step=ui.info
            )
    finally:
        session.close()
    rows = [c.to_json() for c in result.checks]
    data = result.to_json()
    if not ui.is_json:
        ui.err.print(report.checks_table(rows, f"rotate-key {env}: verification"))
    if show:
        _show_key(new_key.reveal(), data, ui.is_json)
    else:

        def text(c: Any) -> None:
            c.print(
                plain(
                    f"gateway key of {env} rotated: Key Vault {result.key_vault}/{result.secret} "
                    f"version {result.new_version}, revision(s) "
                    f"{', '.join(result.restarted_revisions) or 'none'} restarted "
                    f"({result.seconds.get('total', 0):.1f}s). The new key is not shown "
                    "(--show prints it once; it is in Key Vault)."
                )
            )
            c.print("update it in:")
            for line in data["update"]:
                c.print(plain(f"  - {line}"))

        ui.result(data, text)
    shared.summary(report.checks_markdown(rows, f"aigw rotate-key: {env}"))
    if not result.ok:
        raise AigwError(
            "the rotation is written but not proven: see the table above",
            hint="the new key is in Key Vault; rerun the checks with aigw smoke-test",
        )


def _show_key(value: str, data: dict[str, Any], as_json: bool) -> None:
    """Print the new key: the one place aigw prints a secret, and only when asked (--show)."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        sys.stdout.write(f"::add-mask::{value}\n")
    if as_json:
        import json

        sys.stdout.write(json.dumps({**data, "new_key": value}, indent=2) + "\n")
    else:
        sys.stdout.write(f"new gateway key: {value}\n")
        for line in data["update"]:
            sys.stdout.write(f"  update: {line}\n")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add client-config, serve and rotate-key to `app`."""
    app.command("client-config")(client_config)
    app.command("serve")(serve)
    app.command("rotate-key")(rotate_key)
