"""Numbers in the admin's lists: rounded to what the measurement supports, still sorted by the stored value.

The database keeps full precision (the statistics are recomputed from it); a list of trips showing
`0.6767405831618378` helps nobody read it. Detail pages and the JSON API show values as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from django.contrib import admin
from django.db.models import Field, Model


def rounded_column(name: str, places: int, label: str) -> Callable[[Model], str | None]:
    """A list_display column for the float field `name`: `places` decimals, thousands separated, sortable."""

    @admin.display(description=label, ordering=name)
    def column(obj: Model) -> str | None:
        value = getattr(obj, name)
        return None if value is None else f"{value:,.{places}f}"  # None: the admin's empty-value mark

    return column


def rounded_list_display(model: type[Model], names: Sequence[Any], decimals: dict[str, int]) -> list[Any]:
    """`names` (a list_display) with each field in `decimals` replaced by its rounded column."""
    return [rounded_column(name, decimals[name], str(cast(Field, model._meta.get_field(name)).verbose_name))
            if isinstance(name, str) and name in decimals else name for name in names]
