"""The wide-event JSON Schema (docs/events.schema.json) as a validator for tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "events.schema.json"


@cache
def schema() -> dict[str, Any]:
    return orjson.loads(SCHEMA_PATH.read_bytes())


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


def schema_errors(event: dict[str, Any]) -> list[str]:
    """Every way `event` breaks the schema, as readable lines (empty when it validates)."""
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in _validator().iter_errors(event)]


def leaf_count(value: Any) -> int:
    """Scalars and arrays count one each; objects count their leaves."""
    if isinstance(value, dict):
        return sum(leaf_count(v) for v in value.values())
    return 1
