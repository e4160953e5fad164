"""Which SOC to believe, without a database."""

from __future__ import annotations

import pytest

from telemetry.soc import USABLE_BATTERY_SHARE, pack_share, soc_from, soc_of, soc_pick, trip_soc_source


def test_the_custom_pid_wins_when_in_range_else_the_raw_one() -> None:
    assert soc_pick(42.0, 55.0) == (42.0, "k22005b")
    assert soc_pick(None, 14.5) == (14.5, "k5b")  # the custom value was out of range, dropped by the parser
    assert soc_pick(None, None) == (None, "")
    assert soc_of({"soc_raw_pct": 15.0}) == 15.0


@pytest.mark.parametrize(("pairs", "source"), [
    ([(None, 14.0)] * 10, "k5b"),
    ([(50.0, 60.0)] * 10, "k22005b"),
    ([(1.0, 14.0)] * 5 + [(None, 14.0)] * 5, "k5b"),  # a mis-scaled equation flickering into range
    ([(50.0, None)] * 19 + [(None, 60.0)], "k22005b"),
    ([(None, None)] * 3, ""),
])
def test_a_trip_keeps_one_source(pairs, source) -> None:
    assert trip_soc_source(pairs) == source
    assert soc_from(source, 1.0, 2.0) == {"k22005b": 1.0, "k5b": 2.0, "": None}[source]


def test_the_raw_soc_spans_the_whole_pack() -> None:
    assert pack_share("k5b") == 1.0
    assert pack_share("k22005b") == USABLE_BATTERY_SHARE
