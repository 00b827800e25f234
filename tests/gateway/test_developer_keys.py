"""Developer keys on plain data (issue 14): the file aigw writes (aigw.gateway.developer_keys)
read by the guard (aigw_guard.parse_keys, DeveloperKeysFile, find_key, key_refusal). The guard
inside the real LiteLLM is tested in tests/engine/test_developer_keys_e2e.py."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aigw.engine.developer_keys import new_key
from aigw.errors import UserError
from aigw.gateway import developer_keys as fmt
from aigw.gateway.files import aigw_guard as guard
from aigw.gateway.key_strength import weakness
from aigw.output import usage

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _file(**records: fmt.KeyRecord) -> str:
    return fmt.dump(dict(records))


def test_generated_keys_are_strong_prefixed_and_hold_no_name() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    for k in keys:
        assert k.startswith("sk-aigw-") and len(k) >= 50 and weakness(k) is None


def test_the_file_holds_the_hash_never_the_key() -> None:
    key = new_key()
    text = _file(alice=fmt.new_record("alice", key, NOW, timedelta(days=90), ("gpt-5.3-codex",)))
    assert key not in text and key[:-4] not in text
    assert fmt.digest(key) in text
    back = fmt.parse(text, "secret x")["alice"]
    assert back.expires == "2026-04-01T00:00:00+00:00" and back.last4 == key[-4:]
    assert back.public(NOW) == {
        "name": "alice",
        "created": "2026-01-01T00:00:00+00:00",
        "expires": "2026-04-01T00:00:00+00:00",
        "expired": False,
        "models": ["gpt-5.3-codex"],
        "last4": key[-4:],
        "tpm": None,
        "rpm": None,
        "budget": None,
    }
    assert fmt.parse(fmt.EMPTY, "x") == {} and fmt.parse("", "x") == {}
    assert "tpm" not in text  # no limits set: the file reads as before limits existed


def test_a_keys_own_limits_round_trip_and_a_bad_one_names_the_secret() -> None:
    from dataclasses import replace

    rec = replace(fmt.new_record("bob", new_key(), NOW, None, None), tpm=300, rpm=6, budget=2.5)
    back = fmt.parse(_file(bob=rec), "secret x")["bob"]
    assert (back.tpm, back.rpm, back.budget) == (300, 6, 2.5)
    broken = _file(bob=rec).replace('"tpm": 300', '"tpm": -1')
    with pytest.raises(UserError, match="secret x is not an aigw keys file"):
        fmt.parse(broken, "secret x")


def test_a_broken_file_is_one_clear_error_naming_the_secret() -> None:
    with pytest.raises(UserError, match="secret kv/aigw-developer-keys is not an aigw keys file"):
        fmt.parse("{not json", "secret kv/aigw-developer-keys")


@pytest.mark.parametrize(
    "name", ["", "Alice", "a b", "-x", "x-", "aigw-gateway-key", "aigw-probe", "é"]
)
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(UserError, match="is invalid"):
        fmt.check_name(name)


@pytest.mark.parametrize("text", ["90", "0d", "1y", "-3d", "d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="is not a duration"):
        fmt.parse_duration(text)


def test_durations() -> None:
    assert fmt.parse_duration("90d") == timedelta(days=90)
    assert fmt.parse_duration("12h") == timedelta(hours=12)
    assert fmt.parse_duration("4w") == timedelta(weeks=4)


def test_guard_finds_a_known_key_and_refuses_an_unknown_one() -> None:
    alice, bob = new_key(), new_key()
    keys = guard.parse_keys(
        _file(
            alice=fmt.new_record("alice", alice, NOW, None, None),
            bob=fmt.new_record("bob", bob, NOW, None, ("text-embedding-3-large",)),
        )
    )
    found = guard.find_key(alice, keys)
    assert found is not None and found[1].name == "alice" and found[0] == fmt.digest(alice)
    assert guard.key_refusal(found[1], "gpt-5.3-codex", "POST", NOW) is None
    for wrong in (new_key(), "", None, fmt.digest(alice), alice + "x", alice[:-1]):
        assert guard.find_key(wrong, keys) is None
    refusal = guard.key_refusal(None, "gpt-5.3-codex", "POST", NOW)
    assert refusal is not None and refusal.status == 401
    assert refusal.type == "authentication_error"


def test_guard_refuses_a_model_outside_the_keys_list_with_403() -> None:
    bob = new_key()
    keys = guard.parse_keys(
        _file(bob=fmt.new_record("bob", bob, NOW, None, ("text-embedding-3-large",)))
    )
    found = guard.find_key(bob, keys)
    assert found is not None
    entry = found[1]
    assert guard.key_refusal(entry, "text-embedding-3-large", "POST", NOW) is None
    refusal = guard.key_refusal(entry, "gpt-5.3-codex", "POST", NOW)
    assert refusal is not None and refusal.status == 403 and refusal.param == "model"
    assert guard.key_refusal(entry, None, "GET", NOW) is None  # /v1/models
    probe = guard.parse_keys(_file(p=fmt.new_record("p", bob, NOW, None, ())))
    only = next(iter(probe.values()))
    assert guard.key_refusal(only, "text-embedding-3-large", "POST", NOW) is not None


def test_guard_refuses_an_expired_key_with_401() -> None:
    key = new_key()
    keys = guard.parse_keys(_file(c=fmt.new_record("c", key, NOW, timedelta(hours=1), None)))
    found = guard.find_key(key, keys)
    assert found is not None
    assert guard.key_refusal(found[1], "m", "POST", NOW + timedelta(minutes=59)) is None
    refusal = guard.key_refusal(found[1], "m", "POST", NOW + timedelta(hours=1))
    assert refusal is not None and refusal.status == 401 and "expired" in refusal.message


def test_guard_skips_broken_entries_and_files() -> None:
    assert guard.parse_keys("{oops") == {}
    assert guard.parse_keys("") == {}
    key = new_key()
    good = fmt.new_record("good", key, NOW, None, None).to_json()
    text = json.dumps({"version": 1, "keys": {"bad": {"expires": "x"}, "good": good}})
    assert [e.name for e in guard.parse_keys(text).values()] == ["good"]


def test_keys_file_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "aigw_developer_keys.json"
    kf = guard.DeveloperKeysFile(str(path))
    assert kf.current() == {}  # no file: no developer keys
    alice = new_key()
    path.write_text(_file(alice=fmt.new_record("alice", alice, NOW, None, None)))
    assert guard.find_key(alice, kf.current()) is not None
    first = kf.current()
    assert kf.current() is first  # unchanged: the parsed copy, no second read
    path.write_text(fmt.EMPTY)
    os.utime(path, ns=(1, 1))
    assert guard.find_key(alice, kf.current()) is None  # revoked


def test_guard_default_keys_file_sits_beside_it() -> None:
    from aigw.gateway.render import DEVELOPER_KEYS_FILE_NAME

    assert Path(guard.DEVELOPER_KEYS_FILE).name == DEVELOPER_KEYS_FILE_NAME
    assert guard.DEVELOPER_KEYS_FILE_NAME == DEVELOPER_KEYS_FILE_NAME
    assert Path(guard.DEVELOPER_KEYS_FILE).parent == Path(guard.__file__).resolve().parent
    assert guard.GATEWAY_KEY_NAME == fmt.GATEWAY_KEY_NAME
    assert usage.FORMER_KEY_NAMES["aigw-admin"] == fmt.GATEWAY_KEY_NAME  # aigw usage folds it


def test_the_guard_reads_the_former_file_name_only_where_the_new_one_is_absent(
    tmp_path: Path,
) -> None:
    """A revision the previous aigw made mounts the developer keys as `aigw_keys.json`, but runs
    the guard the app holds now once it restarts (the config volume's files are app-scoped
    secrets): that guard reads the file the revision has. Both there: the new name wins."""
    from aigw.gateway.render import DEVELOPER_KEYS_FILE_NAME

    new, former = tmp_path / DEVELOPER_KEYS_FILE_NAME, tmp_path / "aigw_keys.json"
    assert guard.developer_keys_path(str(tmp_path)) == str(new)  # none: the new name (no keys)
    former.write_text(fmt.EMPTY)
    assert guard.developer_keys_path(str(tmp_path)) == str(former)
    new.write_text(fmt.EMPTY)
    assert guard.developer_keys_path(str(tmp_path)) == str(new)
