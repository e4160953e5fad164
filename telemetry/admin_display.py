"""Figures in the admin: rounded to what they measure, with their unit (telemetry/units.py).

Lists show the bare number, the unit in the column's header, and still sort by the stored value;
change pages show the number with its unit. The database keeps full precision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin
from django.db.models import Field, FloatField, Model

from telemetry.units import FIGURES, figure_number, figure_text

SHOWN_SUFFIX = "_shown"


def float_figures(model: type[Model]) -> list[str]:
    """The model's float fields that telemetry/units.py knows how to show."""
    return [f.name for f in model._meta.concrete_fields if isinstance(f, FloatField) and f.name in FIGURES]


def _label(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, Field) else name


def figure_column(model: type[Model], name: str, label: str | None = None) -> Callable[[Model], str | None]:
    """A list_display column for the float field `name`: the rounded number, the unit in the header, sortable."""
    unit = FIGURES[name].unit
    header = label or f"{_label(model, name)} ({unit})"

    @admin.display(description=header, ordering=name)
    def column(obj: Model) -> str | None:
        return figure_number(name, getattr(obj, name))  # None: the admin's empty-value mark

    column.__name__ = f"figure_{name}"  # the cell's CSS class: field-figure_<name> (right-aligned)
    return column


def figure_field(model: type[Model], name: str) -> Callable[[Model], str | None]:
    """A read-only change-page field: the rounded number with its unit, under the field's own label."""

    @admin.display(description=_label(model, name))
    def shown(obj: Model) -> str | None:
        return figure_text(name, getattr(obj, name))

    return shown


def figure_list_display(model: type[Model], names: Sequence[Any], labels: dict[str, str]) -> list[Any]:
    """`names` (a list_display) with each known float field replaced by its figure column."""
    figures = set(float_figures(model))
    return [figure_column(model, name, labels.get(name)) if isinstance(name, str) and name in figures else name
            for name in names]


def figure_fieldsets(fieldsets: Sequence[tuple[Any, Any]], figures: set[str]
                     ) -> list[tuple[str | None, dict[str, Any]]]:
    """Fieldsets with each known float field named by its shown twin (`<name>_shown`, set on the admin)."""
    return [(title, {**options, "fields": [f"{f}{SHOWN_SUFFIX}" if f in figures else f for f in options["fields"]]})
            for title, options in fieldsets]
