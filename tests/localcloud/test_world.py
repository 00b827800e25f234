"""The local cloud's own Azure OpenAI world (issue 23 #1): accounts and deployments seeded
from a world file, kept across restarts, one emulator per account, each listed by ARM; never
derived from an environment YAML. A world file's mistakes are one line naming the field."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from aigw_localcloud.arm.openai_pool import enable
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from aigw_localcloud.openai.world import WorldError, kind_of, load_file, parse
from helpers import AOAI_KEY_CANARY, world_accounts


def _world(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[object]:
    f = tmp_path / "world.yaml"
    f.write_text(text)
    return list(load_file(f, environ or {}))


def test_the_repository_world_holds_what_the_example_environments_name() -> None:
    (acc,) = world_accounts()
    assert acc.name == "mys-shared-ai-swc" and acc.api_key == AOAI_KEY_CANARY
    kinds = {d.name: (d.kind, d.dimensions) for d in acc.deployments}
    assert kinds == {
        "gpt-5.3-codex": ("responses", None),
        "text-embedding-3-large": ("embeddings", 3072),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openai_accounts: {}", "world.yaml: openai_accounts: expected a list"),
        ("openai_accounts: [{name: Bad_Name}]", "openai_accounts[0].name: 'Bad_Name'"),
        ("openai_accounts: [{name: a1, region: x}]", "openai_accounts[0].region: unknown field"),
        (
            "openai_accounts: [{name: a1, deployments: [{name: d, model: llama-3}]}]",
            "openai_accounts[0].deployments[0].model: 'llama-3' is not a model",
        ),
        ("openai_accounts: [{name: a1, key_env: ''}]", "openai_accounts[0].key_env: name an"),
        (
            "openai_accounts: [{name: a1, deployments: [{name: o3}, {name: o3}]}]",
            "deployment 'o3' appears twice",
        ),
        ("openai_accounts: [{name: a1}, {name: a1}]", "account 'a1' appears twice"),
        (
            "openai_accounts: [{name: a1, deployments: [{name: gpt-4o, capacity: -1}]}]",
            "deployments[0].capacity: expected thousands of tokens per minute",
        ),
    ],
)
def test_a_bad_world_file_is_one_line_naming_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(WorldError) as err:
        _world(tmp_path, text)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_models_follow_azures_catalog() -> None:
    assert kind_of("gpt-5.3-codex") == ("responses", None)
    assert kind_of("gpt-5-codex") == ("responses", None)
    assert kind_of("gpt-4o") == ("chat", None)
    assert kind_of("gpt-5-mini") == ("chat", None)
    assert kind_of("text-embedding-3-small") == ("embeddings", 1536)
    with pytest.raises(ValueError):
        kind_of("mistral-large")
    # a world with no key_env: a key nobody is told (identity only), never empty
    (acc,) = parse({"openai_accounts": [{"name": "a1"}]}, "w.yaml", {})
    assert len(acc.api_key) >= 32 and acc.key_from == "random"
    # key_env naming a variable that is not set: the same (seed says so), not an error
    (acc,) = parse({"openai_accounts": [{"name": "a1", "key_env": "UNSET_X"}]}, "w.yaml", {})
    assert len(acc.api_key) >= 32 and acc.key_from == "random"
    (acc,) = parse({"openai_accounts": [{"name": "a1", "key_env": "K"}]}, "w.yaml", {"K": "v"})
    assert acc.api_key == "v" and acc.key_from == "K"


def test_each_account_gets_its_own_emulator_kept_across_restarts(tmp_path: Path) -> None:
    cloud = LocalCloud(tmp_path)
    first = AzureOpenAIEmulator(deployments={}).start()
    w = enable(cloud.engine, first, tmp_path)
    try:
        with httpx.Client(base_url=first.url, trust_env=False) as c:
            assert c.get("/_aigw/world").json() == {"openai_accounts": []}
            assert c.get("/_aigw/accounts/payg-east").status_code == 404  # nothing unseeded
            assert cloud.engine.openai_accounts == []  # ARM lists no account before a seed
            accounts = [
                {"name": "shared-swc", "api_key": "k1", "deployments": []},
                {
                    "name": "payg-east",
                    "location": "eastus2",
                    "api_key": "k2",
                    "deployments": [{"name": "gpt-4o", "kind": "chat", "model": "gpt-4o"}],
                },
            ]
            world = c.put("/_aigw/world", json={"openai_accounts": accounts}).json()
            assert "k1" not in str(world) and "k2" not in str(world)  # never the keys
            urls = {a["name"]: a["url"] for a in world["openai_accounts"]}
            assert urls["shared-swc"] == first.url and urls["payg-east"] != first.url
            assert c.get("/_aigw/accounts/PAYG-EAST").json()["url"] == urls["payg-east"]
        assert [em.account.name for em in cloud.engine.openai_accounts] == [
            "shared-swc",
            "payg-east",
        ]
        with httpx.Client(base_url=urls["payg-east"], trust_env=False) as p:
            r = p.post(
                "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
                headers={"api-key": "k1"},  # the other account's key
                json={"messages": [{"role": "user", "content": "hi"}]},
            )
            assert r.status_code == 401
            r = p.post(
                "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
                headers={"api-key": "k2"},
                json={"messages": [{"role": "user", "content": "hi"}]},
            )
            assert r.status_code == 200
        assert (tmp_path / "openai-world.json").stat().st_mode & 0o077 == 0  # holds the keys
        w.stop()
        w = enable(cloud.engine, first, tmp_path)  # a restarted cloud: same world, same URLs
        assert {a["name"]: a["url"] for a in w.describe()} == urls
        # a second seed replaces an account by name and keeps the others
        w.seed(parse({"openai_accounts": [{"name": "payg-east"}]}, "w.yaml", {}))
        assert [a.name for a in w.accounts] == ["shared-swc", "payg-east"]
        assert w.accounts[1].deployments == []
    finally:
        w.stop()
        first.stop()
