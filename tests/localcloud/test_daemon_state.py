"""The daemon across processes, the CLI sub-app, and state surviving a restart."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from aigw.cli.localcloud import app as cli_app
from aigw.engine import localcloud as daemon
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.endpoint import read_endpoint

from .conftest import SECRETS_OFFICER, make_clients
from .stack import LOC, RG


def test_daemon_start_status_stop(tmp_path) -> None:
    d = tmp_path / "lc"
    ep = daemon.ensure_running(d)
    try:
        assert ep.arm_url.startswith("https://127.0.0.1:")
        assert daemon.ensure_running(d).pid == ep.pid  # already running: same process
        # Another process sees it and can use it through the SDK.
        code = (
            "import sys; from pathlib import Path; from aigw_localcloud.core.endpoint import read_endpoint;"  # noqa: E501
            "from aigw_localcloud.core.credential import LocalCredential;"
            "from azure.mgmt.resource.resources import ResourceManagementClient;"
            f"ep = read_endpoint(Path({str(d)!r}));"
            "c = ResourceManagementClient(LocalCredential('x', ep.tenant_id), ep.subscription_id, base_url=ep.arm_url, connection_verify=ep.ca_file);"  # noqa: E501
            "print(c.resource_groups.create_or_update('rg-x', {'location': 'eastus'}).name)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        assert out.stdout.strip() == "rg-x"
        res = CliRunner().invoke(cli_app, ["status", "--state-dir", str(d), "--output", "json"])
        assert res.exit_code == 0 and json.loads(res.stdout)["pid"] == ep.pid
    finally:
        assert daemon.stop(d) is True
    assert read_endpoint(d) is None
    res = CliRunner().invoke(cli_app, ["status", "--state-dir", str(d)])
    assert res.exit_code == 1 and "not running" in res.stdout
    res = CliRunner().invoke(cli_app, ["reset", "--state-dir", str(d), "--output", "json"])
    assert res.exit_code == 0 and not (d / "state.json").exists()
    res = CliRunner().invoke(cli_app, ["status", "--output", "yaml", "--state-dir", str(d)])
    assert res.exit_code == 2


def test_state_survives_restart(tmp_path) -> None:
    d = tmp_path / "lc"
    with LocalCloud(d, retry_after=None, propagation_delay=0.0) as cloud:
        c = make_clients(cloud)
        c.resource.resource_groups.create_or_update(RG, {"location": LOC})
        v = c.keyvault.vaults.begin_create_or_update(
            RG,
            "kv-persist",
            {
                "location": LOC,
                "properties": {
                    "tenantId": cloud.tenant_id,
                    "sku": {"family": "A", "name": "standard"},
                    "accessPolicies": [],
                },
            },
        ).result()
        c.grant(v.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
        c.secrets(v.properties.vault_uri).set_secret("s", "kept")
        sub, url = cloud.subscription_id, v.properties.vault_uri
    with LocalCloud(d, retry_after=None, propagation_delay=0.0) as cloud:
        assert cloud.subscription_id == sub
        c = make_clients(cloud)
        v2 = c.keyvault.vaults.get(RG, "kv-persist")
        assert v2.properties.vault_uri == url  # vault listener re-opened on its recorded port
        assert c.secrets(url).get_secret("s").value == "kept"
