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


def test_under_debug_no_django_log_line_escapes_the_redaction_filter() -> None:
    """Django's default LOGGING gives the `django` logger a console handler of its own (DEBUG only),
    without our filter: a traceback through it showed the e-mail and token of an upload."""
    script = (
        "import logging, django; django.setup()\n"
        "try:\n    raise ValueError('no vehicle for jane@example.com at /api/torque/upload/S3cretUpl0adT0kenXYZ')\n"
        "except ValueError:\n    logging.getLogger('django.security.csrf').warning('refused', exc_info=True)\n"
    )
    base = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**base, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "volttracker.settings"})
    assert result.returncode == 0, result.stderr
    assert "ValueError: no vehicle for [redacted] at /api/torque/upload/[redacted]" in result.stderr
    assert "jane@example.com" not in result.stderr and "S3cretUpl0adT0kenXYZ" not in result.stderr
    assert result.stderr.count("refused") == 1  # once, not also through Django's own handler


def test_staging_without_secret_key_refuses_to_start_and_development_does_not() -> None:
    # Any environment but a developer's gets no fallback key: staging holds real sessions too.
    staging = run_check({"ENVIRONMENT": "staging"})
    assert staging.returncode != 0 and "SECRET_KEY must be set when ENVIRONMENT=staging" in staging.stderr
    assert run_check({"ENVIRONMENT": "development"}).returncode == 0
    assert run_check({"ENVIRONMENT": "staging", "DEBUG": "true"}).returncode == 0


def test_reading_the_settings_makes_no_directory() -> None:
    # Settings name var/'s directories; a process makes them at start-up (volttracker/apps.py).
    script = (
        "import pathlib\n"
        "def refuse(self, *a, **k):\n    raise AssertionError(f'mkdir {self} on import')\n"
        "pathlib.Path.mkdir = refuse\n"
        "import volttracker.settings as s\nprint(s.RUNTIME_DIRS[0].name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "volttracker.settings"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "var"
