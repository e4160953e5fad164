"""logging_policy stands alone: a Django project without telemetry (tests/standalone/) serves a request
with its wide event, samples it, and renders the policy admin and the sampling overview.

A process of its own, because an app registry cannot lose an installed app: the checks in
tests/standalone/standalone_checks.py run there under tests.standalone.settings, on a test
database of their own next to this suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_logging_policy_works_in_a_project_without_telemetry() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.standalone.settings"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/standalone/standalone_checks.py", "--ds=tests.standalone.settings",
         "--noconftest", "-p", "no:cacheprovider", "-q", "--create-db"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
