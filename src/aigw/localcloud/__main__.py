"""`python -m aigw.localcloud serve --state-dir D`: run the local cloud in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aigw.localcloud")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the local cloud in the foreground")
    s.add_argument("--state-dir", type=Path, required=True)
    s.add_argument("--latency", choices=("instant", "realistic"), default="instant")
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--propagation-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    from .daemon import serve

    serve(
        args.state_dir.expanduser(),
        latency=args.latency,
        scale=args.scale,
        propagation_delay=args.propagation_delay,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
