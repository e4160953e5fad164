"""How telemetry data shows in the admin: read-only, figures rounded to what they measure, with their unit
(telemetry/units.py). Every telemetry admin module builds on it; it imports none of them.

Lists show the bare number, the unit in the column's header, and still sort by the stored value;
change pages show the number with its unit. The database keeps full precision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.db.models import Field, FloatField, Model
from django.http import HttpRequest

from telemetry.units import FIGURES, figure_number, figure_text

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec  # the stubs' name for a fieldsets list

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
    def shown(obj: Model) -> str:
        # The admin prints a read-only callable's None as "None": show its empty-value mark instead.
        return figure_text(name, getattr(obj, name)) or admin.site.empty_value_display

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Data that only Torque uploads create: browsable, never edited by hand."""

    class Media:
        css = {"all": ("telemetry/pages.css",)}

    # Short column headers for figures; the default is "<field name> (<unit>)" (figure_column).
    list_labels: dict[str, str] = {}

    def __init__(self, model: type[Any], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self.figures = set(float_figures(model))
        for name in self.figures:  # the change page's rounded twin of each figure, found by name
            setattr(self, f"{name}{SHOWN_SUFFIX}", figure_field(model, name))

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return figure_list_display(self.model, super().get_list_display(request), self.list_labels)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> _FieldsetSpec:
        return cast("_FieldsetSpec", figure_fieldsets(super().get_fieldsets(request, obj), self.figures))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a reading or a trip by hand would leave counters and statistics wrong;
        # deleting the vehicle removes all of its data consistently.
        return False
