"""Torque Pro upload payload -> typed reading. Pure: no Django, no ORM.

Torque sends metric values; we store US units (docs/units.md): miles, mph, °F,
gallons, feet, kWh, kW, percent. Every value is checked on its own: a bad one
is dropped and reported in `rejected`, the rest of the reading survives.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from logging_policy.redact import clip

KM_TO_MILES = 0.621371192
LITRES_TO_GALLONS = 0.264172052
METRES_TO_FEET = 3.280839895


def _identity(x: float) -> float:
    return x


def _km(x: float) -> float:
    return x * KM_TO_MILES


def _celsius(x: float) -> float:
    return x * 9.0 / 5.0 + 32.0


def _litres(x: float) -> float:
    return x * LITRES_TO_GALLONS


def _metres(x: float) -> float:
    return x * METRES_TO_FEET


@dataclass(frozen=True, slots=True)
class Pid:
    field: str
    low: float  # plausible range, in the uploaded (metric) unit
    high: float
    convert: Callable[[float], float] = _identity


# Data keys (lower case, as Torque sends them) -> stored field. Ranges from TORQUE.md
# where it gives one, else the sensor's physical range.
PIDS: dict[str, Pid] = {
    "kff1006": Pid("latitude", -90, 90),
    "kff1005": Pid("longitude", -180, 180),
    "kff1001": Pid("gps_speed_mph", 0, 180, _km),
    "kd": Pid("speed_mph", 0, 180, _km),
    "kff1010": Pid("altitude_ft", -500, 9000, _metres),
    "kff1204": Pid("trip_distance_miles", 0, 2000, _km),
    "kff1271": Pid("trip_fuel_gallons", 0, 200, _litres),
    "ka6": Pid("odometer_miles", 0, 2_000_000, _km),
    "kc": Pid("engine_rpm", 0, 10_000),
    "k46": Pid("ambient_temp_f", -40, 55, _celsius),
    "k5": Pid("coolant_temp_f", -40, 140, _celsius),
    "k2f": Pid("fuel_level_pct", 0, 100),
    "k42": Pid("control_voltage", 0, 20),
    "k22005b": Pid("soc_pct", 0, 100),
    "k5b": Pid("soc_raw_pct", 0, 100),
    "k22002f": Pid("volt_fuel_level_pct", 0, 100),
    "k22000b": Pid("hv_power_kw", -200, 200),
    "k220009": Pid("hv_voltage", 0, 500),
    "k22000a": Pid("hv_current_a", -500, 500),
    "k2241a3": Pid("battery_capacity_kwh", 0, 30),
    "k220057": Pid("charger_status", 0, 255),
    "k22006e": Pid("charger_power_kw", 0, 400),
}
READING_FIELDS: tuple[str, ...] = tuple(pid.field for pid in PIDS.values())

# Keys of the protocol itself; never stored as data. `eml` is personal data: dropped here.
PROTOCOL_KEYS = frozenset({"v", "session", "id", "eml", "time", "token"})
METADATA_PREFIXES = ("userfullname", "usershortname", "userunit", "defaultunit")
MAX_RAW_VALUE_LENGTH = 64

# Torque's `time` is ms since the epoch; anything before the Volt existed or far in
# the future is a unit mistake (seconds, microseconds) or garbage.
EARLIEST_MS = 946_684_800_000  # 2000-01-01
LATEST_MS = 4_102_444_800_000  # 2100-01-01

Kind = Literal["reading", "metadata", "notice"]

# C0, DEL and C1 controls: PostgreSQL stores no NUL in text or jsonb, and none of them belongs in an
# identifier, a key or a PID name. Torque sends none; a value holding one is dropped and listed as
# rejected (docs/units.md, "Control characters"), a `session` holding one refuses the reading (E307).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_CHARACTER = "control_character"


class PayloadError(ValueError):
    """The payload cannot be stored at all; `code` is from the error taxonomy (E3xx)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class PidMeta:
    pid: str
    full_name: str = ""
    short_name: str = ""
    user_unit: str = ""
    default_unit: str = ""


@dataclass(slots=True)
class TorqueUpload:
    kind: Kind
    session: str = ""
    trip_key: str = ""
    device_id: str = ""
    protocol_version: str = ""
    recorded_at: datetime | None = None
    values: dict[str, float] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # key -> reason
    unknown: dict[str, str] = field(default_factory=dict)  # unknown keys kept raw
    metadata: dict[str, PidMeta] = field(default_factory=dict)
    key_count: int = 0
    had_email: bool = False


def trip_key(session: str) -> str:
    """A stable, bounded key for a session string (Torque: ms timestamp; others: UUIDs)."""
    session = session.strip()
    if len(session) <= 64 and session.isprintable():
        return session
    return "h:" + hashlib.sha256(session.encode()).hexdigest()[:62]


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def printable_key(key: str) -> str:
    """`key` with each control character spelled as an escape (`k\\x00d`), to list it as rejected."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", key) if has_control(key) else key


def _text_field(upload: TorqueUpload, items: Mapping[str, str], key: str, limit: int) -> str:
    """The text of an optional protocol field (`id`, `v`), or "" and the key listed as rejected."""
    raw = items.get(key, "")
    if has_control(raw):
        upload.rejected[key] = CONTROL_CHARACTER
        return ""
    return clip(raw, limit)  # scrubbed, then cut: `v=jane.doe@example.com` must not leave `jane.doe@example`


def parse_number(raw: str) -> float | None:
    """A finite float, or None for empty, `-`, NaN, Infinity and non-numbers."""
    text = raw.strip()
    if not text or text == "-":
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_time(raw: str | None) -> datetime:
    if raw is None or not raw.strip():
        raise PayloadError("E300", "The upload has no `time` (milliseconds since the epoch).")
    value = parse_number(raw)
    if value is None or not EARLIEST_MS <= value <= LATEST_MS:
        raise PayloadError("E301", "`time` must be milliseconds since the Unix epoch, between 2000 and 2100.")
    return datetime.fromtimestamp(value / 1000.0, tz=UTC)


def time_in_future(at: datetime, *, now: datetime, allowance_seconds: float) -> PayloadError | None:
    """The refusal for a reading dated after `now` plus the clock-skew allowance, else None.

    Phones keep network time; a reading from the future is a broken clock or garbage, and stored it
    would stretch its trip to that date (one reading dated 2100 made a 100-year trip).
    """
    if (at - now).total_seconds() <= allowance_seconds:
        return None
    return PayloadError("E306", f"`time` is more than {allowance_seconds:g} s ahead of the server's clock.")


def _lower_items(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    # Keys are case-insensitive in practice; on a repeated key the last one wins,
    # as in Django's QueryDict.__getitem__.
    return {key.strip().lower(): value for key, value in params}


def parse_upload(params: Iterable[tuple[str, str]] | Mapping[str, str]) -> TorqueUpload:
    """Parse one upload's parameters (GET query or POST form, same keys)."""
    items = _lower_items(params.items() if isinstance(params, Mapping) else params)
    upload = _upload_of(items)
    for key, raw in items.items():
        if not key.startswith(METADATA_PREFIXES):  # one call per key: most keys are data
            continue
        for prefix in METADATA_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                if has_control(key) or has_control(raw):
                    upload.rejected[clip(printable_key(key), 64)] = CONTROL_CHARACTER
                    break
                pid = key[len(prefix):][:32]
                meta = upload.metadata.setdefault(pid, PidMeta(pid=pid))
                setattr(meta, _META_ATTR[prefix], raw.strip()[:128])
                break
    if upload.metadata:
        upload.kind = "metadata"
    elif "notice" in items or "noticeclass" in items:
        upload.kind = "notice"
    if upload.kind != "reading":
        session = items.get("session", "").strip()
        if has_control(session):  # a name or a notice is stored without it: nothing is keyed by it
            upload.rejected["session"] = CONTROL_CHARACTER
        else:
            upload.session = session[:128]
        return upload
    return parse_reading(items, upload=upload)


def _upload_of(items: Mapping[str, str]) -> TorqueUpload:
    upload = TorqueUpload(kind="reading", had_email="eml" in items, key_count=len(items))
    upload.device_id = _text_field(upload, items, "id", 64)
    upload.protocol_version = _text_field(upload, items, "v", 16)
    return upload


def parse_reading(items: Mapping[str, str], *, upload: TorqueUpload | None = None) -> TorqueUpload:
    """The data message part of `parse_upload`, for keys already stripped and in lower case (as a
    track-log import builds them): session, time and values. Raises PayloadError as it does."""
    upload = upload if upload is not None else _upload_of(items)
    session = items.get("session", "").strip()
    if not session:
        raise PayloadError("E302", "The upload has no `session`; Torque Pro always sends one.")
    if has_control(session):
        # The session is the trip's identity: a value cleaned here could join another session's trip.
        raise PayloadError("E307", "`session` holds a control character (NUL, newline, ...); it names a trip.")
    upload.session = session[:128]
    upload.trip_key = trip_key(session)
    upload.recorded_at = parse_time(items.get("time"))

    for key, raw in items.items():
        if key in PROTOCOL_KEYS:
            continue
        pid = PIDS.get(key)
        if pid is None:
            if not key.startswith("k"):
                continue
            if has_control(key) or has_control(raw):
                upload.rejected[clip(printable_key(key), 64)] = CONTROL_CHARACTER
            else:
                upload.unknown[key[:32]] = raw[:MAX_RAW_VALUE_LENGTH]
            continue
        value = parse_number(raw)
        if value is None:
            upload.rejected[key] = "not_a_number"
        elif not pid.low <= value <= pid.high:
            upload.rejected[key] = "out_of_range"
        else:
            upload.values[pid.field] = round(pid.convert(value), 6)

    if not upload.values and not upload.unknown:
        raise PayloadError("E303", "The upload holds no value that could be stored.")
    return upload


_META_ATTR = {
    "userfullname": "full_name",
    "usershortname": "short_name",
    "userunit": "user_unit",
    "defaultunit": "default_unit",
}
