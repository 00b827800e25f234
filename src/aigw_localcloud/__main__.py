"""`python -m aigw_localcloud serve --state-dir D`: run the local cloud in the foreground.

Alone it runs no container app (no runner); `python -m aigw.engine.localcloud serve` is the
same command with aigw's LiteLLM runner injected.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.rbac import DEFAULT_PROPAGATION_DELAY
from .daemon import RunnerFactory


def main(
    argv: list[str] | None = None,
    *,
    prog: str = "python -m aigw_localcloud",
    runner_factory: RunnerFactory | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the local cloud in the foreground")
    s.add_argument("--state-dir", type=Path, required=True)
    s.add_argument("--latency", choices=("instant", "realistic"), default="instant")
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--propagation-delay", type=float, default=DEFAULT_PROPAGATION_DELAY)
    args = parser.parse_args(argv)
    from .daemon import serve

    serve(
        args.state_dir.expanduser(),
        latency=args.latency,
        scale=args.scale,
        propagation_delay=args.propagation_delay,
        runner_factory=runner_factory,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
