"""Probe the gateway as a hostile client and write the figures into docs/reliability.md.

    .venv/bin/python bench/security.py [--rounds 3] [--calls 200]

Runs the real LiteLLM with the rendered dev config (and aigw's guard) in front of the Azure
OpenAI emulator, with a canary server on 127.0.0.1 standing for an attacker's:

- every S1 variant of tests/attacks.py, `--rounds` times: refused (4xx) or not, requests the
  canary received, how many of them carried the Azure OpenAI key;
- the smoke test's surface scan: paths that answer anything but 404;
- hostile environment files (a FIFO, /dev/zero, 1 GiB, an alias bomb, a symlink out of the
  folder): refused, how fast, how much memory;
- the guard's cost: embeddings latency through the gateway with the guard and with LiteLLM's
  own master-key check only (`--calls` sequential calls each).

Rewrites only its own section of docs/reliability.md. Everything talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

sys.path.insert(0, str(common.REPO / "tests"))

DOC = common.REPO / "docs" / "reliability.md"


def _gateway(workdir: Path, aoai_url: str, *, guard: bool) -> Any:
    from aigw.config.load import load_env
    from aigw.gateway import venv as litellm_env
    from aigw.gateway.config import (
        AZURE_OPENAI_KEY_VAR,
        GATEWAY_KEY_VAR,
        GUARD_HOOK,
        render_gateway,
        write_files,
    )
    from aigw.gateway.process import start_gateway

    cfg = common.key_mode(load_env("dev", common.ENV_DIR).config).with_endpoint(aoai_url)
    rendered = render_gateway(cfg)
    args = write_files(rendered, workdir / "files")
    if not guard:
        config = Path(args[args.index("--config") + 1])
        config.write_text(config.read_text().replace(f"  custom_auth: {GUARD_HOOK}\n", ""))
    environ = {
        **rendered.env,
        GATEWAY_KEY_VAR: common.GATEWAY_KEY,
        AZURE_OPENAI_KEY_VAR: common.AOAI_KEY,
    }
    env = litellm_env.ensure(litellm_env.litellm_version_from_image(cfg.gateway.image))
    return cfg, start_gateway(env, args, environ, port=None, workdir=workdir, startup_timeout=120)


def _latencies(urls: dict[str, str], embed: str, calls: int) -> dict[str, list[float]]:
    """Sequential embeddings calls, alternating between the gateways so that both see the same
    machine load."""
    import httpx

    headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
    clients = {
        name: httpx.Client(base_url=url, headers=headers, timeout=60, trust_env=False)
        for name, url in urls.items()
    }
    out: dict[str, list[float]] = {name: [] for name in urls}
    try:
        for i in range(calls + 10):  # the first 10 of each warm up
            for name, c in clients.items():
                t = time.perf_counter()
                r = c.post("/v1/embeddings", json={"model": embed, "input": "aigw bench"})
                if i >= 10:
                    out[name].append(time.perf_counter() - t)
                r.raise_for_status()
    finally:
        for c in clients.values():
            c.close()
    return out


def _attacks(url: str, canary: Any, embed: str, codex: str, rounds: int) -> list[tuple]:
    import httpx

    import attacks

    rows = []
    headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30, trust_env=False) as c:
        for name, call in attacks.requests(embed, codex, canary.url).items():
            before = len(canary.received)
            statuses = [call(c).status_code for _ in range(rounds)]
            got = canary.received[before:]
            rows.append(
                (
                    name,
                    sum(400 <= s < 500 for s in statuses),
                    rounds,
                    len(got),
                    sum(common.AOAI_KEY.encode() in g for g in got),
                )
            )
    return rows


def run(rounds: int, calls: int) -> dict[str, Any]:
    import httpx

    import attacks
    from aigw.config.load import load_env
    from aigw.gateway import surface
    from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

    cfg = common.key_mode(load_env("dev", common.ENV_DIR).config)
    embed = next(m.alias for m in cfg.models if m.kind.value == "embeddings")
    codex = next(m.alias for m in cfg.models if m.kind.value == "responses")
    result: dict[str, Any] = {"rounds": rounds, "calls": calls}
    with tempfile.TemporaryDirectory(prefix="aigw-sec-") as tmp:
        aoai = AzureOpenAIEmulator(api_key=common.AOAI_KEY).start()
        aoai.set_deployments(
            [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in cfg.models]
        )
        canary = attacks.Canary().start()
        gateways = {}
        try:
            for guard in (True, False):
                gateways[guard] = _gateway(Path(tmp) / f"gw-{guard}", aoai.url, guard=guard)[1]
            url = gateways[True].url
            result["attacks"] = _attacks(url, canary, embed, codex, rounds)
            headers = {"Authorization": f"Bearer {common.GATEWAY_KEY}"}
            with (
                httpx.Client(base_url=url, timeout=30, trust_env=False) as anon,
                httpx.Client(base_url=url, headers=headers, timeout=30, trust_env=False) as c,
            ):
                result["surface"] = surface.surface_check(anon, c)
            lat = _latencies({"guard": url, "plain": gateways[False].url}, embed, calls)
            result["latency_guard"], result["latency_plain"] = lat["guard"], lat["plain"]
        finally:
            for gw in gateways.values():
                gw.stop()
            canary.close()
            aoai.stop()
    return result


def hostile_inputs() -> list[tuple[str, str, float, int, str]]:
    """Issue 17 R6 and S6: what the config loader does with hostile files, each in a child with
    2 GiB of address space: (case, refused?, seconds, max RSS MiB, the line it printed)."""
    import shutil

    from reliability.bad_inputs import VALID
    from reliability.hostile import hostile_folder, mapping_bomb, probe

    rows = []
    with tempfile.TemporaryDirectory(prefix="aigw-hostile-") as tmp:
        d = Path(tmp) / "environments"
        d.mkdir()
        for f in common.ENV_DIR.glob("*.yaml"):
            shutil.copy(f, d / f.name)
        hostile_folder(d)
        (d / "bombbase.yaml").write_text("abstract: true\n" + mapping_bomb(8) + VALID)
        (d / "bomb.yaml").write_text("extends: bombbase.yaml\n" + mapping_bomb(8))
        outside = Path(tmp) / "secret-base.yaml"
        outside.write_text("project: leaked-value-0d9e\n")
        (d / "outside-link.yaml").symlink_to(outside)
        (d / "outside.yaml").write_text("extends: outside-link.yaml\n")
        cases = [
            ("listing environments next to a FIFO, /dev/zero and a 1 GiB file", "nope"),
            ("a FIFO as the environment file", "fifo"),
            ("a symlink to /dev/zero as the environment file", "zero"),
            ("a 1 GiB environment file", "huge"),
            ("an alias bomb (9^8 values) merged through extends", "bomb"),
            ("extends through a symlink out of the folder", "outside"),
        ]
        for name, env in cases:
            seconds, rss, line = probe(env, d)
            refused = line != "ACCEPTED" and "leaked-value" not in line
            line = line.replace(f"{d}/", "environments/")
            rows.append((name, "yes" if refused else "NO", seconds, rss, line[:100]))
    return rows


def section(r: dict[str, Any]) -> str:
    rows = r["attacks"]
    surface = r["surface"]
    g, p = r["latency_guard"], r["latency_plain"]
    lat = [
        (
            name,
            common.percentile(v, 50) * 1000,
            common.percentile(v, 95) * 1000,
        )
        for name, v in (("guard + master key", g), ("master key only (LiteLLM)", p))
    ]
    refused = sum(x[1] for x in rows)
    total = sum(x[2] for x in rows)
    return "\n\n".join(
        [
            f"Generated by `python bench/security.py --rounds {r['rounds']} --calls {r['calls']}`"
            f" on {common.machine()} (do not edit by hand). Design: `docs/security.md`.",
            "A client holding the gateway key tries to make the gateway send a request (and the "
            "Azure OpenAI key, through `os.environ/...`) to a canary server on 127.0.0.1 "
            "(issue 17, S1). Before the guard, 8 of these requests reached the canary, each "
            "carrying the Azure OpenAI key.",
            common.table(
                ["variant", "refused (4xx)", "tries", "requests at the canary", "with the key"],
                rows,
            ),
            f"{refused} of {total} tries refused; requests at the canary: "
            f"{sum(x[3] for x in rows)}.",
            f"Surface scan (the smoke test's, issue 17 S2): {surface.details}"
            f" ({'pass' if surface.ok else 'FAIL'}).",
            "Hostile environment files (issue 17 R6, S6), each loaded in a child process with "
            "2 GiB of address space. Before the fix: a FIFO hung the listing, a symlink to "
            "/dev/zero grew the process to 22.7 GB, a 1 GiB sibling cost 2.1 GB, an alias bomb "
            "of depth 8 took 24 s and 3.1 GB.",
            common.table(
                ["input", "refused", "seconds", "max RSS (MiB)", "what aigw said"],
                r["hostile"],
            ),
            f"What the guard costs ({r['calls']} sequential embeddings calls each, alternating "
            "between the two gateways so that both see the same machine load; ms):",
            common.table(["gateway", "p50", "p95"], lat),
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    t = time.perf_counter()
    r = run(args.rounds, args.calls)
    r["hostile"] = hostile_inputs()
    common.write_section("security", "Security probes", section(r), doc=DOC)
    ok = r["surface"].ok and all(x[1] == x[2] and x[3] == 0 for x in r["attacks"])
    ok = ok and all(row[1] == "yes" for row in r["hostile"])
    print(f"wrote {DOC} in {time.perf_counter() - t:.0f} s; {'ok' if ok else 'FAILURES'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
