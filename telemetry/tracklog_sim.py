"""Track-log CSV files written from upload dicts (telemetry/drive_sim.py), as Torque Pro writes them. Pure.

For the import's tests and benchmark: the same drive in either unit system (the phone's display
setting), with the phone's quirks on request: `-` for a missing value, `∞`, columns the import does
not know, and the header repeated mid-file when logging restarted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from telemetry.drive_sim import KM_PER_MILE, LITRES_PER_GALLON

Units = Literal["metric", "imperial"]


def _same(x: float) -> float:
    return x


def _km_to_miles(x: float) -> float:
    return x / KM_PER_MILE


def _m_to_ft(x: float) -> float:
    return x / 0.3048


def _c_to_f(x: float) -> float:
    return x * 9.0 / 5.0 + 32.0


def _l_to_gal(x: float) -> float:
    return x / LITRES_PER_GALLON


# key -> (column name, metric unit, imperial unit, metric -> imperial)
_COLUMNS: dict[str, tuple[str, str, str, Callable[[float], float]]] = {
    "kff1006": ("Latitude", "", "", _same),
    "kff1005": ("Longitude", "", "", _same),
    "kff1001": ("Speed (GPS)", "km/h", "mph", _km_to_miles),
    "kd": ("Speed (OBD)", "km/h", "mph", _km_to_miles),
    "kff1010": ("GPS Altitude", "m", "ft", _m_to_ft),
    "kff1204": ("Trip Distance", "km", "miles", _km_to_miles),
    "kff1271": ("Fuel used (trip)", "l", "gal", _l_to_gal),
    "ka6": ("Odometer", "km", "miles", _km_to_miles),
    "kc": ("Engine RPM", "rpm", "rpm", _same),
    "k46": ("*Outside Temp Filtered", "°C", "°F", _c_to_f),
    "k5": ("Engine Coolant Temperature", "°C", "°F", _c_to_f),
    "k2f": ("Fuel Level (From Engine ECU)", "%", "%", _same),
    "k42": ("Voltage (Control Module)", "V", "V", _same),
    "k22005b": ("!! SOC (Usable)", "%", "%", _same),
    "k5b": ("Hybrid/EV Battery Remaining Charge", "%", "%", _same),
    "k22002f": ("!Fuel Level", "%", "%", _same),
    "k22000b": ("!! Inst. kPower", "kW", "kW", _same),
    "k220009": ("!! HV Volts", "V", "V", _same),
    "k2241a3": ("Battery Capacity", "kWh", "kWh", _same),
    "k220057": ("Charger Status", "", "", _same),
    "k22006e": ("Charger Power", "kW", "kW", _same),
}


@dataclass(frozen=True, slots=True)
class LogStyle:
    units: Units = "imperial"
    zone: str = "PST"  # GPS Time's zone word; `offset_hours` is what it means
    offset_hours: float = -8.0
    missing_every: int = 0  # every n-th row has one value written `-` (0: none)
    infinite_every: int = 0  # every n-th row has one value written `∞`
    restart_at: int = 0  # the header again before this row (0: never), with the columns in another order
    unknown_columns: int = 0  # columns the import does not know, like most of a real log's ~117


def _header(keys: list[str], style: LogStyle) -> list[str]:
    names = ["GPS Time", "Device Time"]
    for key in keys:
        name, metric, imperial, _ = _COLUMNS[key]
        unit = imperial if style.units == "imperial" else metric
        names.append(f"{name}({unit})" if unit else name)
    return names + [f"*Unknown PID {i}(psi)" for i in range(style.unknown_columns)]


def _cell(key: str, raw: str, style: LogStyle) -> str:
    if style.units == "metric":
        return raw
    return f"{_COLUMNS[key][3](float(raw)):.10g}"


def tracklog_csv(readings: Iterable[dict[str, str]], style: LogStyle = LogStyle()) -> str:
    """The track log of `readings` (upload dicts in time order, metric as Torque uploads) as CSV text."""
    rows = list(readings)
    keys = [k for k in _COLUMNS if any(k in r for r in rows)]
    zone = timedelta(hours=style.offset_hours)
    lines = [",".join(_header(keys, style))]
    for i, reading in enumerate(rows):
        if style.restart_at and i == style.restart_at:
            keys = keys[::-1]  # a restart may write the columns differently
            lines.append(",".join(_header(keys, style)))
        local = datetime.fromtimestamp(int(reading["time"]) / 1000.0, tz=UTC) + zone
        cells = [local.strftime(f"%a %b %d %H:%M:%S {style.zone} %Y"), local.strftime("%d-%b-%Y %H:%M:%S.%f")[:-3]]
        for n, key in enumerate(keys):
            raw = reading.get(key)
            if raw is None:
                cells.append("-")
            elif style.missing_every and i % style.missing_every == 0 and n == i % len(keys):
                cells.append("-")
            elif style.infinite_every and i % style.infinite_every == 0 and n == (i + 1) % len(keys):
                cells.append("∞")
            else:
                cells.append(_cell(key, raw, style))
        cells.extend("-" if (i + j) % 3 else f"{j}.5" for j in range(style.unknown_columns))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
