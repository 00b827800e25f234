"""The CLI as a user meets it: exit codes, one-line errors, JSON output, a light --help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aigw.config.schema import env_file_schema, reference_markdown
from helpers import ENV_DIR, FIXTURES, REPO

CMD = [sys.executable, "-m", "aigw"]


def run(
    *args: str, env_dir: Path = ENV_DIR, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "NO_COLOR": "1", "AIGW_ENV_DIR": str(env_dir), **(extra_env or {})}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, env=env, timeout=60, cwd=REPO
    )


def test_validate_and_render_prod_work() -> None:
    r = run("validate", "--env", "prod")
    assert r.returncode == 0, r.stderr
    r = run("render", "--env", "prod")
    assert r.returncode == 0 and "custom_auth: aigw_guard.user_api_key_auth" in r.stdout
    assert "master_key" not in r.stdout and "LITELLM_GATEWAY_KEY" not in r.stdout
    data = json.loads(run("render", "--env", "prod", "--json").stdout)
    assert data["names"]["resource_group"] == "pvc-prod-aigateway-rg-san"
    assert data["litellm"]["args"][-2:] == ["--api_version", "2023-05-15"]


@pytest.mark.parametrize(
    "case",
    [
        "unknown_key",
        "wrong_type",
        "unquoted_date",
        "missing_models",
        "image_without_digest",
        "invalid_project_name",
        "yaml_syntax",
        "non_utf8",
    ],
)
def test_broken_file_is_one_line_exit_2_no_traceback(case: str, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_bytes((FIXTURES / "bad_env" / f"{case}.yaml").read_bytes())
    r = run("validate", "--env", "broken", env_dir=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "broken.yaml" in lines[0], (
        r.stderr
    )
    assert "Traceback" not in r.stderr + r.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "--env", "dev", "--bogus"],
        ["validate", "--env", "dev", "-o", "xml"],
        ["nosuchcommand"],
    ],
)
def test_bad_arguments_are_one_line_exit_2(args: list[str]) -> None:
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_deploy_without_secrets_is_refused_before_azure(tmp_path: Path) -> None:
    r = run(
        "deploy",
        "--env",
        "dev",
        "--cloud",
        "local",
        "--yes",
        extra_env={
            "AIGW_GATEWAY_KEY": "",
            "TF_VAR_gateway_key": "",
            "AIGW_LOCALCLOUD_DIR": str(tmp_path / "lc"),
        },
    )
    assert r.returncode == 2 and "AIGW_GATEWAY_KEY" in r.stderr, r.stderr
    assert not (tmp_path / "lc").exists()  # the local cloud was not even started


def test_help_imports_no_azure_sdk() -> None:
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aigw", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "deploy" in r.stdout
    imported = re.findall(r"\|\s+(azure[\w.]*)\s*$", r.stderr, re.MULTILINE)
    assert imported == [], imported[:5]


def test_schema_is_json_schema_of_the_file_format() -> None:
    r = run("schema")
    schema = json.loads(r.stdout)
    assert schema == json.loads(json.dumps(env_file_schema()))
    assert {"extends", "models", "gateway"} <= set(schema["properties"])
    assert schema["$defs"]["GatewayConfig"]["additionalProperties"] is False


def test_readme_configuration_reference_matches_the_schema() -> None:
    text = (REPO / "README.md").read_text()
    start = text.index("<!-- config-reference:start")
    start = text.index("\n", start) + 1
    end = text.index("<!-- config-reference:end -->")
    assert text[start:end] == reference_markdown(), (
        "run: aigw schema --markdown and paste it into README.md"
    )


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("aigw ")
