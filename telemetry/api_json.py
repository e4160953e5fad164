"""Shared shape of the read-only JSON API's rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Model


def row_json(row: Model | None, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of `row` (all None for no row); JsonResponse writes dates as ISO 8601."""
    return {name: getattr(row, name) if row is not None else None for name in names}
