"""docs/events.md describes every field of the schema; a normal upload event is wide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from tests.event_schema import leaf_count, schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def schema_paths(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every field; an object with only open-ended members is `<path>.*`."""
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in sub:
            yield from schema_paths(sub, f"{path}.")
        elif isinstance(sub.get("additionalProperties"), dict) and sub.get("type") == "object":
            yield f"{path}.*"
        else:
            yield path


def test_every_schema_field_is_documented() -> None:
    text = DOC.read_text()
    paths = list(schema_paths(schema()))
    assert len(paths) > 100
    assert [p for p in paths if f"`{p}`" not in text] == []


@pytest.mark.django_db
def test_a_normal_upload_event_has_at_least_50_leaf_fields(volt, upload, wide_events) -> None:
    readings = drive_readings(DrivePlan(session="d-1", start=datetime(2026, 8, 8, tzinfo=UTC)))
    upload(volt.token, next(readings))  # opens the trip
    assert upload(volt.token, next(readings)).content == b"OK!"
    normal = wide_events.events[-1]
    assert normal["business"] == {} and normal["telemetry"]["outcome"] == "stored"
    assert leaf_count(normal) >= 50, leaf_count(normal)
