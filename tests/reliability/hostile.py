"""Hostile inputs for aigw's config loader (issue 17 R6), and a probe that loads one in a child
process with bounded memory and time. Used by tests/reliability/test_input_safety.py and
bench/security.py; plain Python, no pytest."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from pathlib import Path
from aigw.config.load import load_env
from aigw.errors import UserError
t = time.monotonic()
try:
    load_env(sys.argv[1], Path(sys.argv[2]))
    out = "ACCEPTED"
except UserError as e:
    out = e.one_line()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{time.monotonic() - t:.2f} {rss} {out}")
"""


def probe(env: str, directory: Path) -> tuple[float, int, str]:
    """load_env in a child with 2 GiB of address space and 20 s: (seconds, max RSS MiB, line)."""
    import subprocess
    import sys

    try:
        ran = subprocess.run(
            [sys.executable, "-c", _PROBE, env, str(directory)],
            capture_output=True,
            text=True,
            timeout=20,
            env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"load_env({env!r}) still running after 20 s") from None
    assert ran.returncode == 0, ran.stderr[-800:]
    seconds, rss, line = ran.stdout.strip().split(" ", 2)
    return float(seconds), int(rss), line


def hostile_folder(d: Path) -> Path:
    """`d` (a copy of environments/) with a FIFO, a symlink to /dev/zero and a 1 GiB file."""
    import os

    os.mkfifo(d / "fifo.yaml")
    (d / "zero.yaml").symlink_to("/dev/zero")
    with open(d / "huge.yaml", "wb") as fh:  # 1 GiB, sparse: costs no disk
        fh.truncate(1 << 30)
    return d


def mapping_bomb(depth: int) -> str:
    """YAML whose last key expands to 9**depth values through nested aliases."""
    keys = [f"k{i}" for i in range(9)]
    lines = ["b0: &b0 {" + ", ".join(f"{k}: 1" for k in keys) + "}"]
    for level in range(1, depth):
        inner = ", ".join(f"{k}: *b{level - 1}" for k in keys)
        lines.append(f"b{level}: &b{level} {{{inner}}}")
    lines.append(f"x_bomb: *b{depth - 1}")
    return "\n".join(lines) + "\n"
