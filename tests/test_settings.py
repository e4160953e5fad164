"""Production settings refuse to start unsafely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ENVIRONMENT", "ALLOWED_HOSTS"}}
    return subprocess.run([sys.executable, "manage.py", "check", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_production_without_secret_key_refuses_to_start() -> None:
    result = run_check({"ENVIRONMENT": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("key", ["change-me", "short-but-set"])
def test_production_refuses_the_placeholder_or_a_short_key(key: str) -> None:
    result = run_check({"ENVIRONMENT": "production", "SECRET_KEY": key, "ALLOWED_HOSTS": "volt.example.org"})
    assert result.returncode != 0
    assert "at least 50 random characters" in result.stderr


def test_production_with_secret_key_passes_deploy_checks() -> None:
    result = run_check({"ENVIRONMENT": "production", "SECRET_KEY": "x" * 60 + "-Prod-Secret-42!",
                        "ALLOWED_HOSTS": "volt.example.org"}, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_is_off_unless_set() -> None:
    from django.conf import settings

    assert settings.DEBUG is False
