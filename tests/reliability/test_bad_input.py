"""Bad input never escapes as anything but one line: broken environment files (a corpus and
hypothesis fuzzing of the loader), then the CLI as a subprocess: exit 2, one line on stderr,
no traceback and not one request to the cloud."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigw.config.load import load_env
from aigw.errors import UserError
from engine.harness import copy_envs
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

from .bad_inputs import KNOWN_GAPS, VALID, corpus
from .cli_support import aigw

CORPUS = corpus()
EXAMPLES = int(os.environ.get("AIGW_RELIABILITY_EXAMPLES", 150))
CANARIES = {"AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY, "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY}


def _cases() -> list[object]:
    out: list[object] = []
    for name in CORPUS:
        marks = (
            [pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True)] if name in KNOWN_GAPS else []
        )
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def _load(directory: Path, data: bytes) -> None:
    (directory / "broken.yaml").write_bytes(data)
    load_env("broken", directory)


def _refused_in_one_line(directory: Path, data: bytes) -> str:
    try:
        _load(directory, data)
    except UserError as e:
        line = e.one_line()
        assert line and "\n" not in line and len(line) < 600, line
        return line
    raise AssertionError("accepted")


@pytest.mark.parametrize("name", _cases())
def test_corpus_file_is_refused_in_one_line(name: str, tmp_path: Path) -> None:
    line = _refused_in_one_line(tmp_path, CORPUS[name])
    assert "broken.yaml" in line or "extends" in line or line.startswith("/"), line


def test_corpus_is_large_and_valid_control_loads(tmp_path: Path) -> None:
    assert len(CORPUS) >= 100
    _load(tmp_path, VALID.encode())


BAD_ENV_NAMES = {
    "nope": "",
    "../etc/passwd": "",
    "": "",
    "a" * 300: "",
    "x\x00y": "",
    "Prod": "",
}


@pytest.mark.parametrize(
    "env",
    [
        pytest.param(e, marks=[pytest.mark.xfail(reason=why, strict=True)] if why else [])
        for e, why in BAD_ENV_NAMES.items()
    ],
    ids=lambda e: repr(e)[:20],
)
def test_bad_env_names_are_user_errors(env: str, tmp_path: Path) -> None:
    with pytest.raises(UserError):
        load_env(env, tmp_path)


# --------------------------------------------------------------------------- hypothesis
def _loads_or_user_error(directory: Path, data: bytes) -> None:
    try:
        _load(directory, data)
    except UserError as e:
        assert "\n" not in e.one_line()


_FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(data=st.binary(max_size=2048))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes) -> None:
    _loads_or_user_error(tmp_path, data)


_KEYS = st.sampled_from(
    [
        "project",
        "location",
        "gateway",
        "models",
        "tags",
        "key_vault",
        "azure_openai",
        "image",
        "alias",
        "kind",
        "api_version",
        "dimensions",
        "port",
        "cpu",
        "memory",
        "min_replicas",
        "max_replicas",
        "extends",
        "env",
        "name_prefix",
        "endpoint",
        "x",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.dates()
    | st.sampled_from(["2025-04-01-preview", "https://x", "base.yaml", "prod"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=20,
)


@_FUZZ
@given(doc=st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_fuzz_random_documents(tmp_path: Path, doc: dict[str, object]) -> None:
    _loads_or_user_error(tmp_path, yaml.safe_dump(doc).encode())


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


_BASE = yaml.safe_load(VALID)
_ALL_PATHS = [p for p in _paths(_BASE) if p]


@_FUZZ
@given(path=st.sampled_from(_ALL_PATHS), value=_VALUES, delete=st.booleans())
def test_fuzz_one_field_of_a_valid_file(
    tmp_path: Path, path: tuple[object, ...], value: object, delete: bool
) -> None:
    import copy

    doc = copy.deepcopy(_BASE)
    node = doc
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    _loads_or_user_error(tmp_path, yaml.safe_dump(doc).encode())


@_FUZZ
@given(cut=st.integers(0, len(VALID)), junk=st.text(max_size=12))
def test_fuzz_text_splices(tmp_path: Path, cut: int, junk: str) -> None:
    _loads_or_user_error(tmp_path, (VALID[:cut] + junk + VALID[cut:]).encode())


# --------------------------------------------------------------------------- the CLI
CLI_FILES = [
    "wrong_type",
    "unknown_key",
    "yaml_syntax",
    "unquoted_date",
    "duplicate_alias",
    "image_no_digest",
    "huge_comment",
    "latin1",
    "project_uppercase",
    "extends_self",
]


def _journal(cloud_dir: Path) -> list[str]:
    path = cloud_dir / "journal.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def _assert_one_line_exit_2(ran: object) -> None:
    from .cli_support import Ran

    assert isinstance(ran, Ran)
    assert ran.code == 2, (ran.code, ran.stderr)
    assert len(ran.error_lines) == 1, ran.stderr
    assert ran.error_lines[0].startswith("error:"), ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout


@pytest.mark.parametrize("name", CLI_FILES)
def test_cli_refuses_bad_file_with_exit_2_and_no_request(name: str, tmp_path: Path) -> None:
    data = CORPUS.get(name) or CORPUS[f"fixture_{name}"]
    env_dir = tmp_path / "envs"
    env_dir.mkdir()
    (env_dir / "broken.yaml").write_bytes(data)
    cloud_dir = tmp_path / "cloud"
    for args in (
        ("validate", "--env", "broken", "--env-dir", str(env_dir)),
        ("deploy", "--env", "broken", "--env-dir", str(env_dir), "--cloud", "local", "--yes"),
    ):
        ran = aigw(*args, cloud_dir=cloud_dir, env=CANARIES)
        _assert_one_line_exit_2(ran)
    assert _journal(cloud_dir) == []
    assert not (cloud_dir / "endpoint.json").exists()  # the local cloud was not even started


@pytest.mark.parametrize("missing", ["AIGW_GATEWAY_KEY", "AIGW_AZURE_OPENAI_API_KEY"])
def test_cli_deploy_without_a_secret_refuses_before_any_request(
    missing: str, tmp_path: Path
) -> None:
    cloud_dir = tmp_path / "cloud"
    env = {k: v for k, v in CANARIES.items() if k != missing}
    # the Azure OpenAI key is read in key mode only (auth: identity reads none): a copy of the
    # environments in key mode
    env_dir = copy_envs(tmp_path / "environments")
    prod = env_dir / "prod.yaml"
    prod.write_text(
        prod.read_text()
        + "\nazure_openai:\n  auth: key\n  api_key_env: AIGW_AZURE_OPENAI_API_KEY\n"
    )
    env["AIGW_ENV_DIR"] = str(env_dir)
    ran = aigw("deploy", "--env", "prod", "--cloud", "local", "--yes", cloud_dir=cloud_dir, env=env)
    _assert_one_line_exit_2(ran)
    assert missing in ran.stderr
    assert _journal(cloud_dir) == []
    assert not (cloud_dir / "endpoint.json").exists()  # the local cloud was not even started


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--nope"),
        ("validate",),
        ("deploy", "--env", "prod", "--output", "yaml"),
        ("plan", "--env"),
        ("frobnicate",),
        ("destroy", "--env", "prod", "--cloud", "local", "--purge=maybe"),
        ("status", "--env", "prod", "extra-arg"),
    ],
    ids=lambda a: " ".join(a),
)
def test_cli_bad_arguments_exit_2_in_one_line(args: tuple[str, ...], tmp_path: Path) -> None:
    cloud_dir = tmp_path / "cloud"
    ran = aigw(*args, cloud_dir=cloud_dir, env=CANARIES)
    _assert_one_line_exit_2(ran)
    assert _journal(cloud_dir) == []
