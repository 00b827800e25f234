"""`aigw doctor` on the local cloud: read-only, seconds, one line per problem with its fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aigw.config.load import load_env
from aigw.engine import localcloud as daemon
from aigw.resources import adapters, names_of
from aigw_localcloud.core.journal import read_journal
from aigw_localcloud.core.state import StateStore
from helpers import ENV_DIR, REPO


@pytest.fixture
def cloud_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cloud"
    try:
        yield directory
    finally:
        daemon.stop(directory)


def doctor(
    cloud_dir: Path, env_dir: Path, *args: str, env_name: str = "dev", capture: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "AIGW_ENV_DIR": str(env_dir),
        "NO_COLOR": "1",
        **({"AIGW_LOCALCLOUD_CAPTURE": str(capture)} if capture else {}),
    }
    for var in ("GITHUB_ACTIONS", "AIGW_GATEWAY_KEY", "AIGW_AZURE_OPENAI_API_KEY"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "aigw", "doctor", "--env", env_name, "--cloud", "local", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def writes(cloud_dir: Path) -> list[str]:
    return [f"{e.method} {e.path}" for e in read_journal(cloud_dir / "journal.jsonl") if e.is_write]


def test_doctor_on_a_ready_cloud(cloud_dir: Path) -> None:
    r = doctor(cloud_dir, ENV_DIR)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1] == "ready"
    assert lines[0].startswith("ok signed in: User ")
    assert any("role assignments: may create them" in x and "Owner" in x for x in lines)
    assert any("vault name:" in x and "is available" in x for x in lines)
    spaces = {a.namespace for a in adapters() if a.namespace}  # one line per provider (4 shipped)
    assert sum(x.startswith("ok provider: ") for x in lines) == len(spaces)
    assert "ok environment quota: 0 of 15 Container Apps environments used in" in r.stdout
    # dev pulls from Docker Hub too, but only prod is warned.
    assert not any(x.startswith("WARN") for x in lines)
    assert any("image pull:" in x and "a warning for prod only, not for dev" in x for x in lines)
    daemon = json.loads((cloud_dir / "endpoint.json").read_text())["pid"]
    again = doctor(cloud_dir, ENV_DIR, "-o", "json")  # the cloud is running now
    assert again.returncode == 0 and json.loads(again.stdout)["ok"] is True
    # reused, not started again (was a 10 s timing, which a loaded machine exceeded)
    assert json.loads((cloud_dir / "endpoint.json").read_text())["pid"] == daemon
    assert writes(cloud_dir) == []


def test_doctor_names_each_problem_with_its_fix(cloud_dir: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "environments"
    shutil.copytree(ENV_DIR, env_dir)
    dev = env_dir / "dev.yaml"
    dev.write_text(dev.read_text() + "location: westindia\nlocation_short: inw\n")
    doctor(cloud_dir, env_dir)  # starts the cloud (the location problem makes it exit 1)
    vault = names_of(load_env("dev", env_dir).config).key_vault
    with StateStore(cloud_dir).write() as st:
        st["deny_deployer"] = True  # a Contributor: no Microsoft.Authorization/*/Write
        st["taken_vault_names"].append(vault)
        st["providers"]["microsoft.app"]["state"] = "NotRegistered"
        # CI signs in as a service principal: its token says idtyp=app.
        st["principals"][st["deployer_principal_id"].lower()] = {
            "created": 0.0,
            "kind": "ServicePrincipal",
        }
    mark = len(writes(cloud_dir))
    r = doctor(cloud_dir, env_dir, "-o", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    checks = json.loads(r.stdout)["checks"]
    assert checks[0]["detail"].startswith("ServicePrincipal ")
    failed = {c["check"]: c for c in checks if not c["ok"]}
    assert set(failed) == {"role assignments", "location", "key_vault.name_suffix"}
    assert "User Access Administrator" in failed["role assignments"]["fix"]
    assert "southafricanorth" in failed["location"]["fix"]
    assert vault in failed["key_vault.name_suffix"]["detail"]
    assert "name_suffix: auto" in failed["key_vault.name_suffix"]["fix"]
    text = doctor(cloud_dir, env_dir)
    problems = [x for x in text.stdout.splitlines() if x.startswith("FAIL")]
    assert len(problems) == 3 and all("-> fix: " in x for x in problems)
    assert "Microsoft.App is NotRegistered (deploy registers it" in text.stdout
    assert "ok environment quota: not checked: the location is refused" in text.stdout
    assert writes(cloud_dir)[mark:] == []


def test_which_assignment_scopes_cover_the_vault() -> None:
    from aigw.engine.doctor import _in_scope

    vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
    assert _in_scope(vault, "/subscriptions/S")
    assert _in_scope(vault, "/subscriptions/s/resourcegroups/RG")
    assert _in_scope(vault, vault.upper())
    assert _in_scope(vault, "/providers/Microsoft.Management/managementGroups/root")
    assert not _in_scope(vault, "/subscriptions/s/resourceGroups/rg2")
    assert not _in_scope(vault, "/subscriptions/s/resourceGroups/r")
    assert not _in_scope(vault, "/subscriptions/other")


def test_docker_hub_pulls_are_a_warning_for_prod_only() -> None:
    from aigw.engine.doctor_pull import image_pull, is_docker_hub, registry_host

    digest = "@sha256:" + "a" * 64
    for image in (
        "litellm/litellm:v1.81.15" + digest,
        "litellm:v1" + digest,  # a library image: no host, the tag's ':' is not a port
        "docker.io/litellm/litellm:v1" + digest,
        "Index.Docker.IO/litellm/litellm:v1" + digest,
        "registry-1.docker.io/litellm/litellm:v1" + digest,
    ):
        assert is_docker_hub(image), image
    for image, host in (
        ("myacr.azurecr.io/litellm/litellm:v1" + digest, "myacr.azurecr.io"),
        ("ghcr.io/berriai/litellm:v1" + digest, "ghcr.io"),
        ("localhost/litellm:v1" + digest, "localhost"),
        ("mirror:5000/litellm:v1" + digest, "mirror:5000"),
    ):
        assert not is_docker_hub(image) and registry_host(image) == host, image
    hub = "litellm/litellm:v1.81.15" + digest
    prod = image_pull("prod", hub, None)
    assert prod.ok and prod.level == "warn"
    assert prod.line().startswith("WARN image pull: litellm/litellm:v1.81.15 is pulled anon")
    assert "a warning for prod only" in prod.detail
    assert "gateway.registry" in prod.fix and "az acr import" in prod.fix
    assert prod.to_json()["level"] == "warn" and prod.to_json()["ok"] is True
    dev = image_pull("dev", hub, None)
    assert dev.level == "ok" and not dev.fix and dev.detail.endswith("not for dev")
    acr = "myacr.azurecr.io/litellm/litellm:v1.81.15" + digest
    mirrored = image_pull("prod", acr, "myacr.azurecr.io")
    assert mirrored.level == "ok" and "myacr.azurecr.io (app identity)" in mirrored.detail
    assert image_pull("prod", "ghcr.io/x/y:1" + digest, None).level == "ok"


def test_doctor_warns_prod_about_anonymous_docker_hub_pulls(cloud_dir: Path) -> None:
    r = doctor(cloud_dir, ENV_DIR, env_name="prod")
    assert r.returncode == 0, r.stdout + r.stderr  # a warning does not change the exit code
    warned = [x for x in r.stdout.splitlines() if x.startswith("WARN")]
    print("\n".join(warned))
    assert len(warned) == 1 and warned[0].startswith("WARN image pull: litellm/litellm:")
    assert "a warning for prod only -> fix: " in warned[0] and "az acr import" in warned[0]
    assert r.stdout.strip().splitlines()[-1] == "ready"
    data = json.loads(doctor(cloud_dir, ENV_DIR, "-o", "json", env_name="prod").stdout)
    assert data["ok"] is True
    assert [c["check"] for c in data["checks"] if c["level"] == "warn"] == ["image pull"]
    assert writes(cloud_dir) == []


def test_doctor_environment_quota_full(cloud_dir: Path, tmp_path: Path) -> None:
    import spec_check

    env_type = "Microsoft.App/managedEnvironments"
    captured = tmp_path / "captured"
    first = doctor(cloud_dir, ENV_DIR, "-o", "json", capture=captured)  # starts the cloud
    quota = next(c for c in json.loads(first.stdout)["checks"] if c["check"] == "environment quota")
    location = load_env("dev", ENV_DIR).config.location
    assert (
        quota["ok"] and quota["detail"] == f"0 of 15 Container Apps environments used in {location}"
    )
    with StateStore(cloud_dir).write() as st:
        sub = st["subscription_id"]
        rid = f"/subscriptions/{sub}/resourceGroups/other-rg/providers/{env_type}/busy"
        st["resources"][rid.lower()] = {
            "id": rid,
            "name": "busy",
            "type": env_type,
            "location": location,
            "properties": {"provisioningState": "Succeeded"},
        }
        st["managed_environment_quota"] = 1
    mark = len(writes(cloud_dir))
    r = doctor(cloud_dir, ENV_DIR, "-o", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    failed = [c for c in json.loads(r.stdout)["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["environment quota"]
    assert failed[0]["detail"].startswith(f"1 of 1 Container Apps environments used in {location}")
    assert "delete an unused Container Apps environment" in failed[0]["fix"]
    assert "az quota update" in failed[0]["fix"] and "Quotas page" in failed[0]["fix"]
    text = doctor(cloud_dir, ENV_DIR).stdout
    print(next(x for x in text.splitlines() if "environment quota" in x))
    assert "FAIL environment quota: 1 of 1" in text and text.strip().endswith("1 problem(s)")
    assert writes(cloud_dir)[mark:] == []
    files = sorted(captured.glob("*.json"))
    paths = [urlsplit(json.loads(f.read_text())["liveRequest"]["url"]).path for f in files]
    assert sum(p.endswith("/usages") for p in paths) == 3, paths
    # Every exchange of three doctor runs against Microsoft's definitions, but the subscription
    # GET (Microsoft.Resources subscriptions 2022-12-01: no SDK models installed for it).
    findings = [str(f) for f in spec_check.check_files(files)]
    print(f"doctor traffic: {len(files)} exchanges, findings: {findings}")
    assert findings and all(
        f.endswith(f"no-definition: no operation for GET /subscriptions/{sub}") for f in findings
    ), findings
