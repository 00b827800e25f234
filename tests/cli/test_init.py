"""`aigw init`: a new team's environments/ folder, ready for the editor and `aigw validate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.config.schema import env_file_schema
from aigw.resources import names_of

ENDPOINT = "https://contoso-ai-weu.openai.azure.com"


def aigw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("AIGW_ENV_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args], capture_output=True, text=True, env=env, cwd=cwd
    )


def init(cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return aigw(
        "init", "--project", "contoso-gw", "--location", "westeurope", "--endpoint", ENDPOINT,
        *extra, cwd=cwd,
    )  # fmt: skip


def test_init_writes_base_and_overlays_that_validate(tmp_path: Path) -> None:
    r = init(tmp_path)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "environments"
    assert sorted(p.name for p in folder.iterdir()) == [
        "aigw.schema.json", "base.yaml", "dev.yaml", "prod.yaml", "staging.yaml",
    ]  # fmt: skip
    assert json.loads((folder / "aigw.schema.json").read_text()) == json.loads(
        json.dumps(env_file_schema())
    )
    for path in folder.glob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=./aigw.schema.json", (path, first)
    for env in ("dev", "staging", "prod"):
        v = aigw("validate", "--env", env, cwd=tmp_path)  # ./environments is the default
        assert v.returncode == 0, (env, v.stderr)
        assert f"{env}.yaml extends" in v.stdout and "base.yaml" in v.stdout
    prod = load_env("prod", folder).config
    dev = load_env("dev", folder).config
    assert prod.project == "contoso-gw" and prod.location == "westeurope"
    assert prod.azure_openai.endpoint == ENDPOINT
    assert prod.gateway.min_replicas == 1 and prod.key_vault.purge_protection is True
    assert dev.gateway.min_replicas == 0 and dev.key_vault.purge_protection is False
    assert names_of(dev).resource_group == "pvc-dev-contoso-gw-rg-we"


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "envs"
    folder.mkdir()
    (folder / "dev.yaml").write_text("mine\n")
    r = init(tmp_path, "--envs", "dev,qa", "--dir", "envs")
    assert r.returncode == 2, r.stderr
    assert "dev.yaml" in r.stderr and "overwrite" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["dev.yaml"]  # nothing written
    assert (folder / "dev.yaml").read_text() == "mine\n"


def test_init_custom_envs_and_dir(tmp_path: Path) -> None:
    r = init(tmp_path, "--envs", "dev,qa", "--dir", "deploy/envs")
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "deploy" / "envs"
    assert sorted(p.name for p in folder.glob("*.yaml")) == ["base.yaml", "dev.yaml", "qa.yaml"]
    v = aigw("validate", "--env", "qa", "--env-dir", "deploy/envs", cwd=tmp_path)
    assert v.returncode == 0, v.stderr


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--project", "Contoso_GW"], "--project"),
        (["--location", "west-europe"], "--location"),
        (["--endpoint", "http://contoso.example/openai"], "--endpoint"),
        (["--envs", "dev,Prod!"], "--envs"),
        (["--envs", "dev,base"], "--envs"),
    ],
)
def test_init_bad_input_is_one_line_exit_2_nothing_written(
    args: list[str], names: str, tmp_path: Path
) -> None:
    given = dict(zip(args[::2], args[1::2], strict=True))
    base = {"--project": "contoso-gw", "--location": "westeurope", "--endpoint": ENDPOINT}
    argv = [x for k, v in {**base, **given}.items() for x in (k, v)]
    r = aigw("init", *argv, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "environments").exists()


def test_init_pins_the_image_this_repository_runs() -> None:
    from aigw.config.init_envs import DEFAULT_IMAGE
    from helpers import ENV_DIR

    assert load_env("dev", ENV_DIR).config.gateway.image == DEFAULT_IMAGE
