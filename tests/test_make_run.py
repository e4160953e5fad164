"""`make run` serves where the README says: port 8000, or PORT when set (honcho alone would pick 5000)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shell(args: list[str], env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "PORT"}
    return subprocess.run(args, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("env", "port"), [({}, "8000"), ({"PORT": "8123"}, "8123")])
def test_make_run_hands_the_web_process_the_documented_port(env: dict[str, str], port: str) -> None:
    recipe = next(line for line in shell(["make", "-n", "run"], env).splitlines() if "honcho start" in line)
    # make -n prints the recipe unexpanded by the shell; expand it as `make run` would.
    assert shell(["sh", "-c", f"echo {recipe}"], env).split()[1:] == ["start", "-f", "Procfile", "--port", port]
    first = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert first.startswith("web:") and "${PORT" in first  # honcho gives the first process --port itself
