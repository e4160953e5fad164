"""The real Volt track logs of ../shared/realdata/, replayed as the phone would upload them.

The recipe is the README's ("Replaying a log as uploads"): every data row becomes one upload
with the displayed values converted back to Torque's metric units, `time` from Device Time
(Pacific), one session per file (the epoch ms of its first row, as Torque names sessions).
Values the phone wrote as `-`, `∞` or `-∞` are sent as written: the parser must cope.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# The `shared` directory sits beside the checkout (here and on CI).
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
PACIFIC = ZoneInfo("America/Los_Angeles")


def _mph_to_kmh(v: float) -> float:
    return v * 1.609344


def _ft_to_m(v: float) -> float:
    return v * 0.3048


def _f_to_c(v: float) -> float:
    return (v - 32.0) * 5.0 / 9.0


def _same(v: float) -> float:
    return v


# column header -> (upload key, conversion from the displayed unit back to Torque's metric one)
COLUMNS: dict[str, tuple[str, Callable[[float], float]]] = {
    "GPS Latitude(°)": ("kff1006", _same),
    "GPS Longitude(°)": ("kff1005", _same),
    "Speed (GPS)(mph)": ("kff1001", _mph_to_kmh),
    "Speed (OBD)(mph)": ("kd", _mph_to_kmh),
    "GPS Altitude(ft)": ("kff1010", _ft_to_m),
    "Trip Distance(miles)": ("kff1204", _mph_to_kmh),  # miles -> km: the same factor
    "Engine RPM(rpm)": ("kc", _same),
    "!! SOC (Usable)(%)": ("k22005b", _same),
    "Hybrid/EV Battery Remaining Charge(%)": ("k5b", _same),
    "Fuel Level (From Engine ECU)(%)": ("k2f", _same),
    "!Fuel Level(%)": ("k22002f", _same),
    "!! Inst. kPower(kW)": ("k22000b", _same),
    "!! HV Volts(V)": ("k220009", _same),
    "Voltage (Control Module)(V)": ("k42", _same),
    "*Outside Temp Filtered(°F)": ("k46", _f_to_c),
    "Engine Coolant Temperature(°F)": ("k5", _f_to_c),
}
UNPARSEABLE = frozenset({"-", "∞", "-∞"})

LOG_FILES: tuple[str, ...] = tuple(sorted(p.name for p in REALDATA.glob("trackLog-*.csv")))


def device_time_ms(text: str) -> int:
    at = datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S.%f").replace(tzinfo=PACIFIC)
    return int(at.timestamp() * 1000)


def log_uploads(name: str) -> Iterator[dict[str, str]]:
    """The upload parameters of every data row of one log, in file order."""
    session = ""
    with (REALDATA / name).open(newline="", encoding="utf-8") as f:
        header: list[str] = []
        for row in csv.reader(f):
            if not row:
                continue
            if row[0].strip() == "GPS Time":  # the first header, or logging restarted mid-file
                header = [c.strip() for c in row]
                continue
            cells = dict(zip(header, row, strict=False))
            ms = device_time_ms(cells["Device Time"])
            session = session or str(ms)
            params = {"session": session, "id": "realdata-phone", "v": "9", "time": str(ms)}
            for column, (key, convert) in COLUMNS.items():
                raw = cells.get(column, "").strip()
                if not raw:
                    continue
                params[key] = raw if raw in UNPARSEABLE else repr(round(convert(float(raw)), 6))
            yield params
