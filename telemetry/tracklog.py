"""Torque Pro track-log CSV -> the uploads the phone would have sent for it. Pure: no Django, no ORM.

Each data row becomes the parameters of one upload (`session`, `time`, `k<pid>` keys), with the
displayed values converted back to the metric units Torque uploads (TORQUE.md). The import then
parses them with the upload path's own parser (telemetry/torque.py), so what is stored, converted
and range-checked is decided in one place: a PID added to `torque.PIDS` is imported with no change
here once its column is named below. Format and rules: docs/import.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logging_policy.error_codes import CodedError

Convert = Callable[[float], float]
Params = dict[str, str]

PROTOCOL_VERSION = "tracklog"  # `v` of an imported row: tells an import from a live upload in the raw data
DEVICE_ID = "tracklog-import"


def _mph(x: float) -> float:
    return x * 1.609344


def _feet(x: float) -> float:
    return x * 0.3048


def _fahrenheit(x: float) -> float:
    return (x - 32.0) * 5.0 / 9.0


def _gallons(x: float) -> float:
    return x * 3.785411784  # US gallons: Torque's "gal" in the US locale


def _units(*same: str, **converted: Convert) -> dict[str, Convert | None]:
    """Accepted units of a column (lower case): the uploaded unit(s) as they are, others converted."""
    return {**dict.fromkeys(same), **converted}


SPEED = _units("km/h", "kmh", "kph", mph=_mph)
ALTITUDE = _units("m", ft=_feet, feet=_feet)
DISTANCE = _units("km", miles=_mph, mi=_mph, mile=_mph)  # miles -> km: the mph factor
TEMPERATURE = {**_units("°c", "c", "℃"), "°f": _fahrenheit, "f": _fahrenheit, "℉": _fahrenheit}
VOLUME = _units("l", "litres", "liters", gal=_gallons, gallons=_gallons, gallon=_gallons)
DEGREES, PERCENT = _units("", "°", "deg"), _units("%")

# Column name (unit stripped, compared in lower case) -> (upload key, accepted units). Torque's own
# PID names, and the Volt PID pack's custom names of the real logs (../shared/realdata/README.md);
# the last four name custom PIDs the real logs do not have (docs/import.md). When a header holds
# two columns for one key, the one listed first wins: `Latitude` is the phone's fix to 8 decimals,
# `GPS Latitude(°)` the same rounded to 2.
COLUMNS: dict[str, tuple[str, dict[str, Convert | None]]] = {
    "latitude": ("kff1006", DEGREES),
    "longitude": ("kff1005", DEGREES),
    "gps latitude": ("kff1006", DEGREES),
    "gps longitude": ("kff1005", DEGREES),
    "speed (gps)": ("kff1001", SPEED),
    "speed (obd)": ("kd", SPEED),
    "gps altitude": ("kff1010", ALTITUDE),
    "trip distance": ("kff1204", DISTANCE),
    "fuel used (trip)": ("kff1271", VOLUME),
    "odometer": ("ka6", DISTANCE),
    "engine rpm": ("kc", _units("rpm")),
    "*outside temp filtered": ("k46", TEMPERATURE),
    "ambient air temp": ("k46", TEMPERATURE),
    "engine coolant temperature": ("k5", TEMPERATURE),
    "fuel level (from engine ecu)": ("k2f", PERCENT),
    "voltage (control module)": ("k42", _units("v")),
    "!! soc (usable)": ("k22005b", PERCENT),
    "hybrid/ev battery remaining charge": ("k5b", PERCENT),
    "!fuel level": ("k22002f", PERCENT),
    "!! inst. kpower": ("k22000b", _units("kw")),
    "!! hv volts": ("k220009", _units("v")),
    "battery capacity": ("k2241a3", _units("kwh")),
    "charger status": ("k220057", _units("")),
    "charger power": ("k22006e", _units("kw")),
}
TIME_COLUMN, ZONE_COLUMN = "device time", "gps time"
# Written by the phone for "no value" and for infinities: sent on as written, the parser refuses them.
UNPARSEABLE = frozenset({"-", "∞", "-∞"})

# `GPS Time` is Java's `EEE MMM dd HH:mm:ss zzz yyyy`; the zone is the 5th word. Abbreviations are
# ambiguous worldwide (IST, BST), so only unambiguous ones are taken, as fixed offsets (hours).
ZONE_OFFSETS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "NST": -3.5, "NDT": -2.5, "AST": -4, "ADT": -3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
    "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
}
_GMT_OFFSET = re.compile(r"(?:GMT|UTC)([+-])(\d{1,2}):?(\d{2})?$")
_DEVICE_TIME = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*$")
_ZONE_IN_TEXT = re.compile(r"\d:\d{2}:\d{2} ([A-Za-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?) \d{4}\b")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}
_EPOCH = date(1970, 1, 1)


class TracklogError(CodedError):
    """The file is not a track log that can be imported; nothing of it is stored."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__("E305", f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(slots=True)
class TracklogStats:
    """What parsing found, filled in while the rows are read."""

    rows: int = 0  # data rows read (header lines and blank lines not counted)
    header_lines: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # rows skipped, by reason
    unknown_columns: dict[str, None] = field(default_factory=dict)  # names in first-seen order
    session: str = ""
    zone: str = ""


def zone_offset(gps_time: str) -> timedelta | None:
    """The UTC offset named by a `GPS Time` cell's zone word, or None when it names none we trust."""
    words = gps_time.split()
    if len(words) < 6:
        return None
    word = words[4].upper()
    if word in ZONE_OFFSETS:
        return timedelta(hours=ZONE_OFFSETS[word])
    if m := _GMT_OFFSET.match(word):
        minutes = int(m[2]) * 60 + int(m[3] or 0)
        return timedelta(minutes=minutes if m[1] == "+" else -minutes)
    return None


def _split_unit(column: str) -> tuple[str, str]:
    """`Speed (OBD)(mph)` -> (`speed (obd)`, `mph`); the unit is the last parenthesised group."""
    column = column.strip()
    if column.endswith(")") and "(" in column:
        at = column.rindex("(")
        if at > 0:
            return column[:at].strip().lower(), column[at + 1:-1].strip().lower()
    return column.lower(), ""


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to read the rows under one header line."""

    time_at: int
    zone_at: int | None
    values: tuple[tuple[int, str, Convert | None], ...]  # (cell index, key, conversion)
    width: int


def _plan(header: list[str], line: int, stats: TracklogStats) -> _Plan:
    names = [cell.strip() for cell in header]
    lowered = [n.lower() for n in names]
    if TIME_COLUMN not in lowered:
        raise TracklogError(line, "not a Torque track-log header: no `Device Time` column")
    chosen: dict[str, tuple[int, int, Convert | None]] = {}  # key -> (priority, index, conversion)
    priority = {name: i for i, name in enumerate(COLUMNS)}
    for index, column in enumerate(names):
        name, unit = _split_unit(column)
        if name in (TIME_COLUMN, ZONE_COLUMN) or not column:
            continue
        known = COLUMNS.get(name)
        if known is None or unit not in known[1]:
            stats.unknown_columns.setdefault(column, None)
            continue
        key, units = known
        if key not in chosen or priority[name] < chosen[key][0]:
            chosen[key] = (priority[name], index, units[unit])
    values = tuple((index, key, convert) for key, (_, index, convert) in chosen.items())
    zone_at = lowered.index(ZONE_COLUMN) if ZONE_COLUMN in lowered else None
    return _Plan(lowered.index(TIME_COLUMN), zone_at, values, len(names))


def _file_zone(text: str, tz: str | None, line: int) -> tuple[str, Callable[[datetime], timedelta]]:
    """The zone of Device Time for rows whose own GPS Time names none: the file's first named zone,
    else `tz`. Raises when neither gives one: a wrong zone would shift every reading by hours."""
    for match in _ZONE_IN_TEXT.finditer(text):
        offset = zone_offset(f"x x x x {match[1]} x")
        if offset is not None:
            return match[1], lambda _local, offset=offset: offset
    if tz:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise TracklogError(line, f"unknown time zone {tz!r} (an IANA name like America/Los_Angeles)") from None
        return tz, lambda local: zone.utcoffset(local) or timedelta(0)
    raise TracklogError(line, "no time zone: GPS Time names none this importer knows; give one (--tz)")


def device_time_ms(text: str, offset_of: Callable[[datetime], timedelta], own: timedelta | None) -> int | None:
    """`03-Jan-2026 15:55:17.889` (phone's local time) -> ms since the epoch; None if unreadable."""
    m = _DEVICE_TIME.match(text)
    month = _MONTHS.get(m[2].lower()) if m else None
    if m is None or month is None:
        return None
    try:
        local = datetime(int(m[3]), month, int(m[1]), int(m[4]), int(m[5]), int(m[6]))  # noqa: DTZ001 - wall time
    except ValueError:
        return None
    offset = own if own is not None else offset_of(local)
    days = (local.date() - _EPOCH).days
    seconds = days * 86400 + local.hour * 3600 + local.minute * 60 + local.second
    # Integer arithmetic: a float timestamp * 1000 can land a millisecond low.
    return seconds * 1000 + int((m[7] or "0").ljust(3, "0")[:3]) - int(offset.total_seconds() * 1000)


def _is_header(row: list[str], plan: _Plan) -> bool:
    """A data row's Device Time starts with a digit; only a row whose does not is searched for the name."""
    cell = row[plan.time_at].lstrip() if plan.time_at < len(row) else ""
    return not cell[:1].isdigit() and any(c.strip().lower() == TIME_COLUMN for c in row)


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TracklogError(data.count(b"\n", 0, exc.start) + 1, "not UTF-8 text (a track log is a CSV file)") from None


def tracklog_parse(data: bytes, *, tz: str | None = None, stats: TracklogStats | None = None) -> Iterator[Params]:
    """The upload parameters of every data row, in file order; `stats` fills in as they are read.

    Raises TracklogError (with the line) for a file that is not a track log; a row that cannot be
    placed in time is counted in `stats.rejected` and skipped. One file is one Torque session: the
    session is the epoch ms of its first data row, as Torque names sessions.
    """
    stats = stats if stats is not None else TracklogStats()
    text = _decoded(data)
    if not text.strip():
        raise TracklogError(1, "empty file")
    plan: _Plan | None = None
    offset_of: Callable[[datetime], timedelta] | None = None
    line = 0
    for row in csv.reader(io.StringIO(text, newline="")):
        line += 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if plan is None or _is_header(row, plan):
            # The first line, or logging restarted mid-file (the header again, perhaps with other columns).
            plan = _plan(row, line, stats)
            stats.header_lines += 1
            continue
        if offset_of is None:
            stats.zone, offset_of = _file_zone(text, tz, line)
        stats.rows += 1
        if len(row) > plan.width:
            stats.rejected["extra_cells"] += 1
            continue
        own = zone_offset(row[plan.zone_at]) if plan.zone_at is not None and plan.zone_at < len(row) else None
        ms = device_time_ms(row[plan.time_at], offset_of, own) if plan.time_at < len(row) else None
        if ms is None:
            stats.rejected["bad_device_time"] += 1
            continue
        stats.session = stats.session or str(ms)
        params = {"session": stats.session, "id": DEVICE_ID, "v": PROTOCOL_VERSION, "time": str(ms)}
        width = len(row)
        for index, key, convert in plan.values:
            raw = row[index].strip() if index < width else ""
            if not raw:
                continue
            if convert is not None and raw not in UNPARSEABLE:
                try:
                    raw = repr(round(convert(float(raw)), 6))
                except ValueError:
                    pass  # not a number: sent as written, the parser refuses it
            params[key] = raw
        yield params
    if plan is None:
        raise TracklogError(line or 1, "no header line")
