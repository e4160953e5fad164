"""Property-based: whatever Torque (or anyone) sends, no 5xx, a documented code, one event, nothing valid lost."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from logging_policy.error_codes import ERROR_CODES
from telemetry.models import Reading
from telemetry.torque import PIDS

pytestmark = pytest.mark.django_db

KNOWN_KEYS = sorted(PIDS)
# Control characters (NUL first: PostgreSQL stores none), spliced into every field and key below.
CONTROL = st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=3)


def poisoned(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`base`, or `base` with control characters put somewhere inside it."""
    spliced = st.builds(lambda text, cut, bad: text[:cut] + bad + text[cut:], base, st.integers(0, 12), CONTROL)
    return st.one_of(base, spliced)


WEIRD_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "-", "NaN", "Infinity", "-Infinity", "1e309", "0x10", " 12 ", "1,5", "∞"]),
)
VALUES = poisoned(st.one_of(NUMBERS, WEIRD_TEXT))
KEYS = poisoned(st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.sampled_from(KNOWN_KEYS).map(str.upper),
    st.from_regex(r"\Ak[0-9a-f]{1,8}\Z"),
    st.sampled_from(["userFullName", "userShortName", "userUnit", "defaultUnit"]).map(lambda p: p + "k0d"),
    st.text(min_size=1, max_size=12),
))
# Mostly a time that places the reading (up to now: one from the future is refused, E306), so that
# the other fields reach the database.
PAST_MS = st.integers(min_value=1_500_000_000_000, max_value=int(time.time() * 1000)).map(str)
TIMES = st.one_of(PAST_MS, PAST_MS, st.none(), poisoned(st.integers(min_value=0, max_value=2**64).map(str)), WEIRD_TEXT)
SESSIONS = st.one_of(st.none(), poisoned(st.text(max_size=200)), poisoned(st.integers().map(str)))
# The protocol's other fields: the phone's id, the protocol version, the owner's e-mail.
PROTOCOL = st.fixed_dictionaries({}, optional={name: poisoned(WEIRD_TEXT) for name in ("id", "v", "eml")})


def send(client, token: str, params: dict[str, str | None], method: str):
    """As Torque sends: a query string or a urlencoded form, in which any character travels (NUL as %00)."""
    url = f"/api/torque/upload/{token}"
    body = urlencode({k: v for k, v in params.items() if v is not None})
    if method == "get":
        return client.get(f"{url}?{body}")
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


@seed(16_0004)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(KEYS, VALUES, max_size=30),
    speed=st.one_of(st.none(), st.just("36")),  # a valid value beside the others, often
    protocol=PROTOCOL,
    time=TIMES,
    session=SESSIONS,
    method=st.sampled_from(["get", "post"]),
)
def test_any_upload_gets_a_documented_answer_and_one_event(volt, client, wide_events, data, speed, protocol, time,
                                                           session, method) -> None:
    wide_events.lines.clear()
    response = send(client, volt.token, {"kd": speed, **data, **protocol, "time": time, "session": session}, method)
    assert response.status_code < 500, response.content
    assert "Retry-After" not in response  # nothing a client sends is worth retrying as it is
    if response.status_code == 200:
        assert response.content == b"OK!"
    else:
        code = response.json()["error"]["code"]
        assert code in ERROR_CODES and ERROR_CODES[code].http_status == response.status_code
    assert len(wide_events.events) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    good=st.dictionaries(st.sampled_from(KNOWN_KEYS), st.floats(min_value=0, max_value=1), min_size=1),
    bad=st.dictionaries(st.sampled_from(KNOWN_KEYS), st.sampled_from(["NaN", "", "-", "inf", "x", "1e99"])),
    # Up to now: a reading from the future is refused (E306).
    ms=st.integers(min_value=1_600_000_000_000, max_value=int(time.time() * 1000)),
)
def test_valid_values_of_a_partly_bad_upload_are_stored(new_vehicle, upload, good, bad, ms) -> None:
    # Values in [0, 1] are within every PID's range; keys only in `bad` must come back empty.
    bad = {k: v for k, v in bad.items() if k not in good}
    session = uuid.uuid4().hex  # examples must not collide as retries of one another
    # A vehicle per example: one example's odometer must not run backwards from another's (E309).
    volt = new_vehicle()
    response = upload(volt.token, {"session": session, "time": str(ms), **{k: repr(v) for k, v in good.items()}, **bad})
    assert response.content == b"OK!"
    reading = Reading.objects.get(vehicle=volt.vehicle, session=session)
    assert reading.recorded_at == datetime.fromtimestamp(ms / 1000.0, tz=UTC)
    for key, value in good.items():
        pid = PIDS[key]
        assert math.isclose(getattr(reading, pid.field), round(pid.convert(value), 6), rel_tol=1e-9, abs_tol=1e-9)
    for key in bad:
        assert getattr(reading, PIDS[key].field) is None
        assert key in reading.rejected



def test_huge_body_is_413_with_code_and_one_event(volt, client, wide_events) -> None:
    response = client.post(f"/api/torque/upload/{volt.token}", {"session": "s", "time": "1772473500000",
                                                                 "kd": "10", "junk": "x" * 400_000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "E002"
    assert len(wide_events.events) == 1 and wide_events.events[0]["error"]["code"] == "E002"
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_too_many_fields_is_413_with_code(volt, upload, method) -> None:
    params = {"session": "s", "time": "1772473500000", **{f"kff{i:04x}": "1" for i in range(600)}}
    response = upload(volt.token, params, method=method)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "E002"


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_other_methods_are_405_with_code(volt, client, method) -> None:
    response = getattr(client, method)(f"/api/torque/upload/{volt.token}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "E003"
    assert response["Allow"] == "GET, POST"
