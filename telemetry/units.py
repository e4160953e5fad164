"""How each figure is shown: its unit and the decimals it deserves. Pure.

The database keeps full precision (statistics are recomputed from it). What people read (the
admin, the pages, the JSON API) is rounded here, once per field name: a trip list showing
`0.6337024252476801` or an API answering `30.756999999999998` helps nobody. docs/units.md
lists the same table (a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    unit: str
    decimals: int
    # A fraction 0-1 (the API keeps it so) shown as a percentage with `decimals - 2` decimals.
    fraction: bool = False


_MILES, _KWH, _PER_MILE, _MPG = Figure("mi", 1), Figure("kWh", 2), Figure("kWh/mi", 3), Figure("mpg", 1)
_GALLONS, _PERCENT, _DEG_F, _KW = Figure("gal", 2), Figure("%", 1), Figure("°F", 1), Figure("kW", 1)

FIGURES: dict[str, Figure] = {
    **dict.fromkeys(("distance_miles", "electric_miles", "gas_miles", "total_miles", "odometer_miles",
                     "lifetime_miles", "trip_distance_miles"), _MILES),
    **dict.fromkeys(("electric_kwh_used", "regen_kwh", "battery_capacity_kwh", "capacity_kwh", "kwh_added",
                     "kwh_charged", "kwh_integrated", "nominal_battery_kwh"), _KWH),
    "capacity_loss_kwh_per_10k_miles": Figure("kWh/10k mi", 2),
    **dict.fromkeys(("kwh_per_mile", "avg_kwh_per_mile"), _PER_MILE),
    **dict.fromkeys(("gas_mpg", "lifetime_mpg", "last_tank_mpg", "avg_tank_mpg"), _MPG),
    **dict.fromkeys(("fuel_used_gallons", "gallons_added", "fuel_tank_gallons", "trip_fuel_gallons"), _GALLONS),
    **dict.fromkeys(("soc_at_gas_entry", "start_soc", "end_soc", "engine_on_soc", "level_before", "level_after",
                     "capacity_degradation_percent", "soc_pct", "soc_raw_pct", "fuel_level_pct",
                     "volt_fuel_level_pct"), _PERCENT),
    "electric_share": Figure("%", 3, fraction=True),
    **dict.fromkeys(("ambient_temp_f", "weather_temp_f", "coolant_temp_f"), _DEG_F),
    "weather_precipitation_in": Figure("in", 2),
    **dict.fromkeys(("weather_wind_mph", "speed_mph", "gps_speed_mph"), Figure("mph", 1)),
    "weather_impact_factor": Figure("×", 2),
    **dict.fromkeys(("peak_power_kw", "avg_power_kw", "last_power_kw", "hv_power_kw", "charger_power_kw"), _KW),
    "engine_rpm": Figure("rpm", 0),
    "altitude_ft": Figure("ft", 0),
    **dict.fromkeys(("hv_voltage", "control_voltage"), Figure("V", 1)),
    "hv_current_a": Figure("A", 1),
    "stats_age_seconds": Figure("s", 1),
    "charging_seconds": Figure("s", 0),
}


def figure_round(name: str, value: Any) -> Any:
    """`value` rounded as the API answers it; what is not a float of a known field passes through.

    round() is correctly rounded and its result prints as the shortest decimal: 30.757 -> 30.8, never
    30.799999999999997. Integers (counts) stay integers.
    """
    figure = FIGURES.get(name)
    if figure is None or not isinstance(value, float):
        return value
    return round(value, figure.decimals)


def figures_round(row: dict[str, Any]) -> dict[str, Any]:
    """Every known figure of a JSON row rounded (`figure_round`)."""
    return {name: figure_round(name, value) for name, value in row.items()}


def number_text(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals and thousands separated; "-0.0" shown as "0.0"."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def figure_number(name: str, value: float | None) -> str | None:
    """The bare number as a list column shows it (the unit is in the header); None stays None."""
    if value is None:
        return None
    figure = FIGURES[name]
    if figure.fraction:
        return number_text(value * 100.0, figure.decimals - 2)
    return number_text(value, figure.decimals)


def figure_text(name: str, value: float | None) -> str | None:
    """The number with its unit, as a page shows it: "12.3 mi", "63.4 %", "0.287 kWh/mi"."""
    number = figure_number(name, value)
    return None if number is None else f"{number} {FIGURES[name].unit}"


def duration_text(seconds: float | None) -> str | None:
    """A duration as h:mm ("1:07"), rounded to the minute; None stays None."""
    if seconds is None:
        return None
    minutes = max(int(seconds / 60.0 + 0.5), 0)
    return f"{minutes // 60}:{minutes % 60:02d}"
