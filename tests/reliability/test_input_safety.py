"""Issue 17 (S6, R6, R10/R11) and issue 12 (item 6): what aigw reads, and where from.

Abstract files, `extends` through symlinks, the lock folder: each is refused in one line that
names what to change, never an OSError or a value read from somewhere it should not be.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.engine.locks import environment_lock
from aigw.errors import AigwError, UserError
from helpers import ENV_DIR

from .bad_inputs import VALID
from .hostile import hostile_folder, mapping_bomb, probe


def _envs(tmp_path: Path) -> Path:
    d = tmp_path / "environments"
    d.mkdir()
    for p in ENV_DIR.glob("*.yaml"):
        (d / p.name).write_bytes(p.read_bytes())
    return d


# ----------------------------------------------------------------- issue 12 item 6: abstract
def test_abstract_base_is_not_an_environment(tmp_path: Path) -> None:
    d = _envs(tmp_path)
    with pytest.raises(UserError) as info:
        load_env("base", d)
    line = info.value.one_line()
    assert "abstract" in line and "base.yaml" in line, line
    assert "dev, prod, staging" in line, line


def test_abstract_is_not_inherited(tmp_path: Path) -> None:
    d = _envs(tmp_path)
    assert load_env("dev", d).config.env == "dev"


def test_abstract_must_be_a_real_bool(tmp_path: Path) -> None:
    d = _envs(tmp_path)
    (d / "odd.yaml").write_text("abstract: 1\n" + VALID)
    with pytest.raises(UserError, match="abstract"):
        load_env("odd", d)


# ----------------------------------------------------------------- S6: symlinks out of the folder
def test_extends_through_a_symlink_out_of_the_folder_is_refused_without_its_values(
    tmp_path: Path,
) -> None:
    d = _envs(tmp_path)
    outside = tmp_path / "private"
    outside.mkdir()
    secret_values = "project: leakedvalue\nlocation: Leakedregion\n"
    (outside / "secret.yaml").write_text(secret_values)
    (d / "link.yaml").symlink_to(outside / "secret.yaml")
    (d / "evil.yaml").write_text("extends: link.yaml\n" + VALID)
    with pytest.raises(UserError) as info:
        load_env("evil", d)
    line = info.value.one_line()
    assert "outside" in line and "link.yaml" in line, line
    assert "leaked" not in line.lower(), line


def test_an_environment_file_that_is_a_symlink_out_of_the_folder_is_refused(
    tmp_path: Path,
) -> None:
    d = _envs(tmp_path)
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(VALID.replace("project: aigateway", "project: leakedvalue"))
    (d / "other.yaml").symlink_to(outside)
    with pytest.raises(UserError) as info:
        load_env("other", d)
    assert "outside" in info.value.one_line() and "leaked" not in info.value.one_line()


def test_a_symlink_inside_the_folder_still_works(tmp_path: Path) -> None:
    d = _envs(tmp_path)
    (d / "common.yaml").symlink_to(d / "base.yaml")
    (d / "qa.yaml").write_text("extends: common.yaml\n")
    assert load_env("qa", d).config.project == "aigateway"


# ----------------------------------------------------------------- R11: the lock folder
def test_lock_folder_that_cannot_be_made_names_aigw_lock_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AIGW_LOCK_DIR", str(blocker / "locks"))
    with pytest.raises(AigwError) as info, environment_lock("sub/rg", what="dev"):
        pass
    line = info.value.one_line()
    assert "AIGW_LOCK_DIR" in line and "OSError" not in line, line
    assert info.value.exit_code in (1, 2)


def test_lock_folder_read_only_names_aigw_lock_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    # /proc refuses new files whoever we are (root ignores file modes, so chmod cannot test it)
    monkeypatch.setenv("AIGW_LOCK_DIR", "/proc")
    with pytest.raises(AigwError) as info, environment_lock("sub/rg", what="dev"):
        pass
    assert "AIGW_LOCK_DIR" in info.value.one_line(), info.value.one_line()


def test_lock_scope_is_case_insensitive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Azure resource group names and subscription ids are case-insensitive: one lock for both
    monkeypatch.setenv("AIGW_LOCK_DIR", str(tmp_path))
    with (
        environment_lock("SUB-1/RG-Dev", what="dev"),
        pytest.raises(AigwError, match="still holds"),
        environment_lock("sub-1/rg-dev", what="dev", timeout=0.3),
    ):
        pass
    assert len(list(tmp_path.glob("*.lock"))) == 1


# ----------------------------------------------------------------- R6: bounded reads
def test_listing_environments_reads_only_small_regular_files(tmp_path: Path) -> None:
    d = hostile_folder(_envs(tmp_path))
    seconds, rss, line = probe("nope", d)
    assert "unknown environment" in line and "dev, prod, staging" in line, line
    assert "fifo" not in line and "zero" not in line, line
    assert seconds < 5 and rss < 400, (seconds, rss)


def test_listing_leaves_out_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    from aigw.config.load import available_envs

    d = _envs(tmp_path)
    (tmp_path / "elsewhere.yaml").write_text("project: outside\n")
    (d / "outside.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    (d / "inside.yaml").symlink_to(d / "dev.yaml")
    assert available_envs(d) == ["dev", "inside", "prod", "staging"]


@pytest.mark.parametrize("env", ["fifo", "zero", "huge"])
def test_an_environment_that_is_not_a_small_regular_file_is_refused_quickly(
    env: str, tmp_path: Path
) -> None:
    d = hostile_folder(_envs(tmp_path))
    seconds, rss, line = probe(env, d)
    assert line != "ACCEPTED" and f"{env}.yaml" in line, line
    assert seconds < 5 and rss < 400, (seconds, rss)


def test_extending_a_huge_file_is_refused_before_reading_it(tmp_path: Path) -> None:
    d = hostile_folder(_envs(tmp_path))
    (d / "big.yaml").write_text("extends: huge.yaml\n")
    seconds, rss, line = probe("big", d)
    assert "huge.yaml" in line and "256 KiB" in line, line
    assert seconds < 5 and rss < 400, (seconds, rss)


def test_alias_bomb_merged_through_extends_is_refused_quickly(tmp_path: Path) -> None:
    d = tmp_path / "environments"
    d.mkdir()
    (d / "bombbase.yaml").write_text("abstract: true\n" + mapping_bomb(8) + VALID)
    (d / "bomb.yaml").write_text("extends: bombbase.yaml\n" + mapping_bomb(8))
    seconds, rss, line = probe("bomb", d)
    assert "alias" in line and "bomb" in line, line
    assert seconds < 5 and rss < 400, (seconds, rss)
