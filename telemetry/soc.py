"""Which state of charge to believe, and how much of the pack its 100 points span. Pure.

Phones send up to two SOC values (TORQUE.md, realdata/README.md):
- `k22005b` (`soc_pct`): the owner's custom equation, usually rescaled to the usable window
  (0 % = the floor). Its formula is the user's own and is often wrong: on the real logs it reads
  -14..-6 % and the parser drops it as out of range.
- `k5b` (`soc_raw_pct`): the standard PID 0x5B, the raw pack SOC, the same on every phone.
  At the floor it reads about 13-16 %; a full pack about 85-90 %.
The custom value wins when it is in range (it is what the driver sees on the dashboard);
otherwise the raw one. A trip keeps one source for all its figures (`trip_soc_source`), so that
a custom PID flickering in and out of range cannot mix two scales in one series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

SocSource = Literal["k22005b", "k5b", ""]

# About 14 of the 18.4 kWh are usable; the usable (custom) SOC spans that window.
USABLE_BATTERY_SHARE = 14.0 / 18.4
# A trip uses the custom PID only when it was in range in nearly all readings that had a SOC.
CUSTOM_MIN_SHARE = 0.9


def soc_pick(custom: float | None, raw: float | None) -> tuple[float | None, SocSource]:
    """One reading's SOC and where it came from: the custom PID in range, else the raw PID 0x5B."""
    if custom is not None:
        return custom, "k22005b"
    if raw is not None:
        return raw, "k5b"
    return None, ""


def soc_of(values: Mapping[str, float]) -> float | None:
    """The SOC of one parsed upload (out-of-range values were already dropped by the parser)."""
    return soc_pick(values.get("soc_pct"), values.get("soc_raw_pct"))[0]


def trip_soc_source(pairs: Iterable[tuple[float | None, float | None]]) -> SocSource:
    """The source for a whole trip's (custom, raw) SOC pairs."""
    custom = either = 0
    for c, r in pairs:
        if c is not None or r is not None:
            either += 1
            custom += c is not None
    if either == 0:
        return ""
    return "k22005b" if custom >= CUSTOM_MIN_SHARE * either else "k5b"


def soc_from(source: SocSource, custom: float | None, raw: float | None) -> float | None:
    """The value of `source` in one reading (None when that reading lacks it)."""
    return custom if source == "k22005b" else raw if source == "k5b" else None


def pack_share(source: SocSource) -> float:
    """Share of the nominal pack that 100 points of `source` span: the usable window, or the whole pack."""
    return 1.0 if source == "k5b" else USABLE_BATTERY_SHARE
