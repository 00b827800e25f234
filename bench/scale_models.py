"""Benchmark 3: deploy cost as the number of configured models grows (1, 10, 50).

For each count an environment folder is generated in a temporary directory: the repository's
base.yaml and a prod.yaml extending it with N models. Prod is deployed fresh, then planned again
(no-op), on a local cloud (instant latency, its own process). The request count must not grow
with the number of models (the models are one LiteLLM config, one container-app secret) and
plan time must stay flat.

    python bench/scale_models.py [--counts 1 10 50] [--reps 5] [--no-doc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common


def env_dir(root: Path, n: int) -> Path:
    """base.yaml (the repository's, its model list dropped) and prod.yaml with N models: the
    codex model, the embeddings model, then chat models."""
    d = root / f"envs-{n}"
    d.mkdir(parents=True)
    base = (common.ENV_DIR / "base.yaml").read_text()
    (d / "base.yaml").write_text(base[: base.index("\nmodels:")] + "\n")
    models = [
        "  - alias: gpt-5.3-codex",
        "    kind: responses",
        "    deployment: gpt-5.3-codex",
        "    api_version: '2025-04-01-preview'",
        "  - alias: text-embedding-3-large",
        "    kind: embeddings",
        "    deployment: text-embedding-3-large",
        "    api_version: '2023-05-15'",
        "    dimensions: 3072",
    ]
    for i in range(2, n):
        models += [
            f"  - alias: chat-model-{i:02d}",
            "    kind: chat",
            f"    deployment: gpt-4-1-mini-{i:02d}",
            "    api_version: '2024-10-21'",
        ]
    head = ["extends: base.yaml", "tags:", "  env: prod", "gateway:", "  min_replicas: 1"]
    head += ["key_vault:", "  purge_protection: true", "models:"]
    (d / "prod.yaml").write_text("\n".join(head + models[: 4 if n == 1 else None]) + "\n")
    return d


def _is_poll(entry: Any) -> bool:
    """A GET of a long-running operation's status (how many depends on timing, not on work)."""
    path = entry.path.lower()
    return entry.method == "GET" and ("operationstatuses" in path or "operationresults" in path)


def _polls(entries: list[Any]) -> int:
    """Reads whose count depends on timing, not on work: operation-status GETs, and a GET of a
    path this deploy already read (a wait reading a revision or a role until it is ready; under
    load one more such read was measured, 36 requests against 35)."""
    seen: set[str] = set()
    n = 0
    for e in entries:
        if e.method == "GET" and (_is_poll(e) or e.path.lower() in seen):
            n += 1
        elif e.method == "GET":
            seen.add(e.path.lower())
    return n


def _work(r: dict[str, Any]) -> tuple[int, int, int]:
    return (r["deploy_requests"] - r["deploy_polls"], r["deploy_writes"], r["noop_requests"])


def measure(root: Path, n: int, reps: int) -> dict[str, Any]:
    from aigw.engine import workflow
    from aigw.gateway.render import render_gateway

    with common.local_stack(root / f"cloud-{n}") as stack:
        stack.env_dir = env_dir(root, n)
        cfg = stack.config("prod")
        assert len(cfg.models) == n, len(cfg.models)
        t = time.perf_counter()
        rendered = render_gateway(cfg)
        render_s = time.perf_counter() - t
        session = stack.session(config=cfg)
        mark = stack.mark()
        t = time.perf_counter()
        plan = workflow.make_plan(session)
        fresh_plan = time.perf_counter() - t
        t = time.perf_counter()
        result = workflow.apply(session, plan)
        apply_s = time.perf_counter() - t
        session.close()
        assert result.ok, [e.one_line() for e in result.errors]
        deploy_entries = stack.since(mark)
        plans: list[float] = []
        noop_entries: list[Any] = []
        for _ in range(reps):
            session = stack.session(config=cfg)
            mark = stack.mark()
            t = time.perf_counter()
            workflow.make_plan(session)
            plans.append(time.perf_counter() - t)
            session.close()
            noop_entries = stack.since(mark)
    return {
        "models": n,
        "config_bytes": len(rendered.config_yaml),
        "render_ms": render_s * 1000,
        "fresh_plan": fresh_plan,
        "apply": apply_s,
        "deploy_requests": len(deploy_entries),
        "deploy_polls": _polls(deploy_entries),
        "deploy_writes": sum(1 for e in deploy_entries if e.is_write),
        "noop_plan": common.median(plans),
        "noop_requests": len(noop_entries),
    }


def run(
    counts: tuple[int, ...] = (1, 10, 50), reps: int = 5, write_doc: bool = True
) -> list[dict[str, Any]]:
    from noop_deploy import warm_imports

    warm_imports()
    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
        results = [measure(Path(tmp), n, reps) for n in counts]
    flat_requests = len({_work(r) for r in results}) == 1
    plan_ratio = max(r["noop_plan"] for r in results) / min(r["noop_plan"] for r in results)
    rows = [
        [
            r["models"],
            r["config_bytes"],
            r["render_ms"],
            f"{r['deploy_requests'] - r['deploy_polls']} (+{r['deploy_polls']})",
            r["deploy_writes"],
            r["fresh_plan"],
            r["apply"],
            r["noop_requests"],
            r["noop_plan"],
        ]
        for r in results
    ]
    text = common.table(
        [
            "models",
            "LiteLLM config (bytes)",
            "render (ms)",
            "deploy requests (+ LRO polls)",
            "deploy writes",
            "fresh plan (s)",
            "apply (s)",
            "no-op plan requests",
            "no-op plan, median (s)",
        ],
        rows,
    )
    verdict = (
        f"Requests identical for every count: {'yes' if flat_requests else 'NO'}. "
        f"Slowest / fastest no-op plan median: {plan_ratio:.2f}."
    )
    print(text)
    print(verdict)
    if write_doc:
        body = f"""Command: `python bench/scale_models.py` (no-op plan: median of {reps}).
Machine: {common.machine()}.

For each count, a temporary environment folder holds the repository's `base.yaml` and a
`prod.yaml` extending it with N models (codex, embeddings, then chat models; base.yaml's own
model list dropped). Prod is
deployed fresh on its own local cloud (instant latency, its own process), then planned again.
The models live in one rendered LiteLLM config (one container-app secret), so the number of
Azure requests does not depend on them. LRO status polls are counted apart: how many a deploy
makes depends on timing (an operation still in progress at the first answer costs one more
`Retry-After` and poll), not on the work.

{text}

{verdict}
"""
        common.write_section("scale", "3. Scale with work (number of models)", body)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    results = run(tuple(args.counts), args.reps, write_doc=not args.no_doc)
    flat = len({_work(r) for r in results}) == 1
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
