"""The service's system checks: a bad event path and production without Redis are said before serving."""

from __future__ import annotations

from pathlib import Path

from django.core.checks import run_checks
from django.test import override_settings


def _ids() -> set[str]:
    return {message.id for message in run_checks() if message.id}


def test_a_good_wide_events_path_passes(tmp_path: Path) -> None:
    with override_settings(WIDE_EVENTS_PATH=str(tmp_path / "events.jsonl")):
        assert "logging_policy.E001" not in _ids()
    with override_settings(WIDE_EVENTS_PATH=""):
        assert "logging_policy.E001" not in _ids()


def test_a_wide_events_path_in_a_missing_directory_or_a_directory_is_an_error(tmp_path: Path) -> None:
    with override_settings(WIDE_EVENTS_PATH=str(tmp_path / "missing" / "events.jsonl")):
        assert "logging_policy.E001" in _ids()
    with override_settings(WIDE_EVENTS_PATH=str(tmp_path)):
        assert "logging_policy.E001" in _ids()


def test_a_wide_events_path_under_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"")
    with override_settings(WIDE_EVENTS_PATH=str(tmp_path / "plain" / "events.jsonl")):
        assert "logging_policy.E001" in _ids()


def test_production_without_redis_is_an_error() -> None:
    with override_settings(IS_PRODUCTION=True, REDIS_URL=""):
        assert "volttracker.E001" in _ids()
    with override_settings(IS_PRODUCTION=True, REDIS_URL="redis://127.0.0.1:6379/0"):
        assert "volttracker.E001" not in _ids()
    with override_settings(IS_PRODUCTION=False, REDIS_URL=""):
        assert "volttracker.E001" not in _ids()
