"""Counting instructions with valgrind's callgrind: figures that a noisy shared VM does not move.

A benchmark runs its own script again as a child Python under callgrind, once doing the work N
times and once zero times, and divides the difference by N: start-up cancels out. The count is
user-space instructions (not kernel time, not cache misses), the same for the same binary, input
and environment (PYTHONHASHSEED=0). Needs valgrind (Debian package `valgrind`; `make bench` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

_COLLECTED = re.compile(r"Collected : (\d+)")


def valgrind_required() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")


def instructions(argv: list[str], cwd: Path) -> int:
    """User-space instructions of `python argv...` run under callgrind in `cwd`."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *argv],
        env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True,
        cwd=cwd,  # start-up puts the working directory on sys.path (Celery's loader): it must be the tree
    )
    match = _COLLECTED.search(proc.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no count: {proc.stderr[-500:]}")
    return int(match.group(1))


def per_unit(argv_for: Callable[[int], list[str]], units: int, cwd: Path) -> float:
    """Instructions per unit of work: (count with `units` - count with 0) / units."""
    return (instructions(argv_for(units), cwd) - instructions(argv_for(0), cwd)) / units
