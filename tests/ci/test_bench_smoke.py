"""Small versions of the benchmarks in bench/, so they cannot rot. They check what the
benchmarks check that does not depend on a quiet machine (request counts, writes, imports);
timings are only sanity-checked. docs/performance.md is not touched."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from plan_support import clean_writes

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

pytestmark = pytest.mark.slow


def test_deploy_critical_path_small_scale() -> None:
    import deploy_critical_path as bench

    (r,) = bench.run(scales=(0.01,), write_doc=False)
    assert r["chain"] == ["resource_group", "log_analytics", "container_env", "container_app"]
    assert r["critical"] == pytest.approx(2.96, abs=0.01)
    assert r["wall"] >= r["critical"]
    # Retry-After: 1 bounds how late a poll notices; allow for a loaded machine.
    assert all(v <= 2.0 for v in r["notice"].values()), r["notice"]
    # every resource the registry's kinds desire (11 shipped: 10 + the developer keys' secret)
    assert r["writes"] == clean_writes("prod")[0]


def test_noop_deploy_writes_nothing_and_reads_once() -> None:
    import noop_deploy as bench

    (r,) = bench.run(reps=2, delays=(0.0,), write_doc=False)
    assert r["changes"] == 0 and r["writes"] == 0
    assert not r["read_twice"], r["read_twice"]
    assert r["arm_reads"] == r["arm_resources"]
    assert r["vault_reads"] <= 2 * r["secrets"]
    assert r["wall"] < 5.0


def test_requests_do_not_grow_with_models() -> None:
    import scale_models as bench

    results = bench.run(counts=(1, 5), reps=1, write_doc=False)
    assert len({bench._work(r) for r in results}) == 1, results


def test_help_imports_no_azure_module() -> None:
    import startup as bench

    imports = bench.help_imports()
    assert any(m == "typer" for m, _ in imports)  # the parse found the import list
    assert bench.heavy_modules(imports) == []
    assert bench.heavy_modules([("pydantic.main", 1), ("azure.core", 1), ("yaml", 1)]) == [
        "pydantic.main",
        "azure.core",
    ]
    r: dict[str, Any] = bench.run(reps=1, write_doc=False)
    assert r["heavy"] == []
    assert set(r["medians"]) == set(bench.COMMANDS) and all(v > 0 for v in r["medians"].values())
    # the time itself is the benchmark's to judge (docs/performance.md), not a test's: two
    # suites at once on 2 CPUs took 2.85 s here


@pytest.mark.litellm
def test_gateway_overhead_small() -> None:
    from aigw.gateway import venv as litellm_env

    if litellm_env.find("1.81.15") is None:
        pytest.skip("the LiteLLM 1.81.15 environment is not built (aigw litellm ensure)")
    import gateway_overhead as bench

    (r,) = bench.run(n=16, workers=(1,), write_doc=False, rounds=1)
    assert set(r["rows"]) == set(bench.Cases("http://g", "http://a").cases)
    assert 50 < r["rss_idle"] < 2000
    # the side-by-side comparison: each kind through aigw's hooks, bare LiteLLM and no key
    assert set(r["side"]) == set(bench.KINDS)
    for variants in r["side"].values():
        assert set(variants) == {bench.HOOKS, bench.BARE, bench.NO_KEY}
        assert all(v["seq_p50"] > 0 and v["par_rps"] > 0 for v in variants.values())
    figures, diff, _met = bench.side_section(r["side"])
    assert "bare, no key" in figures
    assert "hooks - bare" in diff and "<= 1 ms p50" in diff
    assert 0 < r["hooks_cpu_us"]["gate"] < 5000 and 0 < r["hooks_cpu_us"]["usage"] < 5000


@pytest.mark.litellm
def test_security_probes_small() -> None:
    import security as bench

    r = bench.run(rounds=1, calls=5)
    r["hostile"] = bench.hostile_inputs()
    assert all(row[1] == "yes" and row[2] < 5 and row[3] < 400 for row in r["hostile"]), r[
        "hostile"
    ]
    assert r["surface"].ok, r["surface"].details
    assert all(
        refused == tries and at_canary == 0 for _, refused, tries, at_canary, _ in r["attacks"]
    )
    assert "requests at the canary: 0." in bench.section(r)
