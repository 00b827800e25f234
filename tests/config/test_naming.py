"""Names: the scaffold scheme where it fits, always valid, deterministic, distinct."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from aigw.config.model import EnvConfig
from aigw.config.naming import Names, compose
from aigw.config.regions import REGIONS
from aigw.errors import ConfigError
from aigw.resources import adapters, names_of

# Each kind declares its name rule in its module (aigw/resources/<kind>.py).
RULES = {a.kind.value: a.name_rule for a in adapters() if a.name_rule is not None}

IMAGE = (
    "litellm/litellm:v1.81.15"
    "@sha256:d104dae60f1a0c8fc93f837ec30ec4e6430ee70b0d3636874c26bc9920ae34a7"
)


def test_scaffold_scheme_kept_where_it_fits() -> None:
    n = derive_names(
        prefix="pvc",
        env="dev",
        project="aigateway",
        location="southafricanorth",
        location_short="san",
    )
    assert n.resource_group == "pvc-dev-aigateway-rg-san"
    assert n.log_analytics == "pvc-dev-aigateway-law-san"
    assert n.container_env == "pvc-dev-aigateway-cae-san"
    assert n.container_app == "pvc-dev-aigateway-ca-san"
    assert n.key_vault == "pvc-dev-aigateway-kv-san"  # exactly 24 characters
    assert n.identity == "pvc-dev-aigateway-id-san"


def test_long_vault_name_is_shortened_with_a_hash_not_truncated_to_a_hyphen() -> None:
    n = derive_names(
        prefix="pvc",
        env="staging",
        project="aigateway",
        location="southafricanorth",
        location_short="san",
    )
    assert len(n.key_vault) <= 24 and not n.key_vault.endswith("-")
    assert n.key_vault.startswith("pvc-") and "-kv-san-" in n.key_vault
    other = derive_names(
        prefix="pvc",
        env="staging",
        project="aigatewax",
        location="southafricanorth",
        location_short="san",
    )
    assert other.key_vault != n.key_vault  # shortened names stay distinct


def test_vault_suffix_auto_is_stable_and_explicit_is_used() -> None:
    kw: dict[str, Any] = dict(
        prefix="pvc", env="dev", project="gw", location="westeurope", location_short="we"
    )
    a1 = derive_names(**kw, vault_name_suffix="auto").key_vault
    a2 = derive_names(**kw, vault_name_suffix="auto").key_vault
    assert a1 == a2 and a1 != derive_names(**kw).key_vault
    assert derive_names(**kw, vault_name_suffix="x1").key_vault == "pvc-dev-gw-kv-we-x1"


def derive_names(
    *,
    prefix: str,
    env: str,
    project: str,
    location: str,
    location_short: str,
    vault_name_suffix: str | None = None,
) -> Names:
    cfg = EnvConfig.model_validate(
        {
            "env": env,
            "project": project,
            "location": location,
            "location_short": location_short,
            "name_prefix": prefix,
            "azure_openai": {"endpoint": "https://x.openai.azure.com"},
            "gateway": {"image": IMAGE},
            "key_vault": {"name_suffix": vault_name_suffix},
            "models": [{"alias": "m", "kind": "chat", "api_version": "2024-10-21"}],
        }
    )
    return names_of(cfg)


def test_every_kind_with_a_rule_is_named() -> None:
    assert set(RULES) >= {  # the shipped kinds; a new kind's module adds its own
        "resource_group",
        "log_analytics",
        "container_env",
        "container_app",
        "key_vault",
        "identity",
    }
    names = derive_names(
        prefix="pvc", env="dev", project="gw", location="westeurope", location_short="we"
    )
    assert set(names) == set(RULES)


segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=0, max_size=40)


@settings(max_examples=400, deadline=None)
@given(
    env=segment,
    project=segment,
    location=st.sampled_from(sorted(REGIONS)),
    suffix=st.one_of(st.none(), st.just("auto"), st.text("abc123", min_size=1, max_size=6)),
)
def test_every_name_is_valid_or_the_config_is_refused(
    env: str, project: str, location: str, suffix: str | None
) -> None:
    data = {
        "env": env,
        "project": project,
        "location": location,
        "azure_openai": {"endpoint": "https://x.openai.azure.com"},
        "gateway": {"image": IMAGE},
        "key_vault": {"name_suffix": suffix},
        "models": [{"alias": "m", "kind": "chat", "api_version": "2024-10-21"}],
    }
    try:
        cfg = EnvConfig.model_validate(data)
    except ValidationError as e:
        assert e.errors()  # refused, with a reason (the CLI turns it into one line)
        return
    try:
        names = names_of(cfg)
    except ConfigError as e:
        assert e.problem  # refused, in one line naming the file
        return
    for kind, name in names.as_dict().items():
        assert RULES[kind].problem(name) is None, (kind, name)
    assert names_of(cfg) == names  # deterministic


@settings(max_examples=300, deadline=None)
@given(
    env=st.from_regex(r"[a-z][a-z0-9]{0,11}", fullmatch=True),
    project=st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6}){0,2}", fullmatch=True),
)
def test_valid_segments_always_make_valid_names(env: str, project: str) -> None:
    if len(project) < 2:
        return
    for kind in (
        "resource_group",
        "log_analytics",
        "container_env",
        "container_app",
        "key_vault",
        "identity",
    ):
        name = compose("pvc", env, project, RULES[kind], "eus2")
        assert RULES[kind].problem(name) is None, (kind, name)


@pytest.mark.parametrize(
    "kind,name,ok",
    [
        ("key_vault", "a-b", True),
        ("key_vault", "ab-", False),
        ("key_vault", "1ab", False),
        ("key_vault", "a--b", False),
        ("key_vault", "a" * 25, False),
        ("container_app", "Upper", False),
        ("container_app", "a" * 33, False),
        ("resource_group", "rg.", False),
        ("log_analytics", "abc", False),
    ],
)
def test_rules(kind: str, name: str, ok: bool) -> None:
    assert (RULES[kind].problem(name) is None) is ok
