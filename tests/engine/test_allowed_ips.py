"""gateway.allowed_ips: Container Apps ingress IP restrictions planned, deployed on the local cloud
(real SDK), read back so a second plan is empty, removed again; the local cloud refuses rules
Azure refuses; bad CIDRs are one-line errors with exit 2 and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

import spec_check
from aigw.azure.session import Clients
from aigw.engine import workflow
from aigw.engine.plan import Action
from aigw.resources import names_of
from aigw_localcloud.core.capture import ENV_VAR
from helpers import FIXTURES, REPO

from .harness import Stack, close_stack, make_stack

ALLOWED = ["203.0.113.0/24", "198.51.100.7/32"]


def _plan_app(stack: Stack, allowed: list[str]) -> Any:
    cfg = stack.config()
    cfg = cfg.model_copy(
        update={"gateway": cfg.gateway.model_copy(update={"allowed_ips": allowed})}
    )
    session = stack.session(config=cfg)
    return session, workflow.make_plan(session), cfg


def _app_rules(stack: Stack, cfg: Any) -> list[dict[str, Any]]:
    names = names_of(cfg)
    app = (
        Clients(stack.target()).apps().container_apps.get(names.resource_group, names.container_app)
    )
    rules = app.as_dict()["properties"]["configuration"]["ingress"].get("ipSecurityRestrictions")
    return [dict(r) for r in rules or []]


def test_allowed_ips_plan_deploy_second_plan_empty_then_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = tmp_path / "captured"
    monkeypatch.setenv(ENV_VAR, str(captured))  # every exchange, for Microsoft's definitions
    stack = make_stack(tmp_path, with_gateway=False)
    try:
        _, first = stack.deploy()
        assert first.ok, [e.one_line() for e in first.errors]

        session, plan, cfg = _plan_app(stack, ALLOWED)
        writes = {c.key: c for c in plan.writes}
        assert set(writes) == {"container_app"}, plan.to_json()
        change = writes["container_app"]
        assert change.action is Action.update
        diff = {d.path: d for d in change.diffs}
        assert diff["ingress.ipSecurityRestrictions"].before == []
        assert [r["ipAddressRange"] for r in diff["ingress.ipSecurityRestrictions"].after] == (
            ALLOWED
        )
        result = workflow.apply(session, plan)
        session.close()
        assert result.ok, [e.one_line() for e in result.errors]

        rules = _app_rules(stack, cfg)
        assert [(r["ipAddressRange"], r["action"]) for r in rules] == [
            (c, "Allow") for c in ALLOWED
        ]
        mark = stack.mark()
        session, again, _ = _plan_app(stack, ALLOWED)
        session.close()
        assert not again.has_changes, again.to_json()
        assert stack.writes_since(mark) == []

        # Removing the list opens the gateway again: a change, then nothing.
        session, back, _ = _plan_app(stack, [])
        assert [c.key for c in back.writes] == ["container_app"]
        assert workflow.apply(session, back).ok
        session.close()
        assert _app_rules(stack, cfg) == []
        session, last, _ = _plan_app(stack, [])
        session.close()
        assert not last.has_changes
    finally:
        close_stack(stack)
    # The PUTs carrying the rules match the 2026-07-01 definitions (IpSecurityRestrictionRule).
    files = sorted(captured.glob("*.json"))
    assert [str(f) for f in spec_check.check_files(files)] == []
    sent = [json.loads(f.read_text())["liveRequest"] for f in files]
    bodies = [
        r["body"]["properties"]["configuration"]["ingress"]
        for r in sent
        if r["method"] == "PUT" and "/containerApps/" in r["url"] and r["body"]
    ]
    assert any(b.get("ipSecurityRestrictions") for b in bodies), bodies
    # Negative control: a rule without its required name is a finding.
    doc = next(
        json.loads(f.read_text())
        for f in files
        if "ipSecurityRestrictions" in f.read_text() and '"PUT"' in f.read_text()
    )
    del doc["liveRequest"]["body"]["properties"]["configuration"]["ingress"][
        "ipSecurityRestrictions"
    ][0]["name"]
    assert spec_check.check_exchange("control", doc), "the spec check missed a nameless rule"


@pytest.mark.parametrize(
    ("rules", "expect"),
    [
        (
            [
                {"name": "a", "ipAddressRange": "203.0.113.0/24", "action": "Allow"},
                {"name": "b", "ipAddressRange": "198.51.100.0/24", "action": "Deny"},
            ],
            "ALL Allow or ALL Deny",
        ),
        ([{"ipAddressRange": "203.0.113.0/24", "action": "Allow"}], "'name' is required"),
        ([{"name": "a", "ipAddressRange": "2001:db8::/32", "action": "Allow"}], "IPv4"),
        ([{"name": "a", "ipAddressRange": "203.0.113.0/24", "action": "Maybe"}], "Allow or Deny"),
    ],
)
def test_local_cloud_refuses_rules_azure_refuses(
    tmp_path: Path, rules: list[dict[str, str]], expect: str
) -> None:
    stack = make_stack(tmp_path, with_gateway=False)
    try:
        assert stack.deploy()[1].ok
        names = names_of(stack.config())
        ops = Clients(stack.target()).apps().container_apps
        body = ops.get(names.resource_group, names.container_app).as_dict()
        body["properties"]["configuration"]["ingress"]["ipSecurityRestrictions"] = rules
        mark = stack.mark()
        with pytest.raises(HttpResponseError) as info:
            ops.begin_create_or_update(names.resource_group, names.container_app, body).result()
        assert info.value.status_code == 400 and expect in str(info.value), str(info.value)
        assert [e.status for e in stack.writes_since(mark)] == [400]
        assert _app_rules(stack, stack.config()) == []
    finally:
        close_stack(stack)


@pytest.mark.parametrize(
    ("value", "expect"),
    [
        ("['10.0.0.0/33']", "not a valid IPv4 CIDR"),
        ("['10.0.0.1/24']", "host bits set"),
        ("['2001:db8::/32']", "IPv6"),
        ("['office']", "not an IPv4 address or CIDR"),
        ("['203.0.113.0/24', '203.0.113.0/24']", "listed twice"),
        ("[" + ", ".join(f"'10.0.{i // 256}.{i % 256}/32'" for i in range(101)) + "]", "100"),
    ],
)
def test_bad_allowed_ips_exit_2_one_line_nothing_written(
    tmp_path: Path, value: str, expect: str
) -> None:
    src = (FIXTURES / "bad_env" / "valid_minimal.yaml").read_text()
    (tmp_path / "x.yaml").write_text(src.replace("  image:", f"  allowed_ips: {value}\n  image:"))
    cloud_dir = tmp_path / "cloud"
    env = {
        **os.environ,
        "AIGW_ENV_DIR": str(tmp_path),
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "NO_COLOR": "1",
    }
    for args in (["validate"], ["deploy", "--yes", "--cloud", "local"]):
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *args, "--env", "x"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2, (args, r.stderr)
        assert len(lines) == 1 and "x.yaml" in lines[0], r.stderr
        assert "gateway.allowed_ips" in lines[0] and expect in lines[0], lines[0]
        assert "Traceback" not in r.stderr
    assert not cloud_dir.exists()  # the local cloud was never even started: nothing written
