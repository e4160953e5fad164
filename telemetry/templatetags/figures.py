"""Template filters for figures: `{{ trip.kwh_per_mile|figure:"kwh_per_mile" }}` -> "0.287 kWh/mi"."""

from __future__ import annotations

from django import template

from telemetry.units import duration_text, figure_text

register = template.Library()


@register.filter
def figure(value: float | None, name: str) -> str:
    """The value of field `name` rounded, with its unit; "–" when empty."""
    return figure_text(name, value) or "–"


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as h:mm; "–" when unknown."""
    return duration_text(seconds) or "–"
