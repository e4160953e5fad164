"""Canaries: e-mail, upload token, Authorization, cookies, session keys and passwords never reach an event."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from hypothesis import example, given, settings
from hypothesis import strategies as st

from logging_policy.emit import event_emit, event_open
from logging_policy.error_codes import ERROR_CODES
from logging_policy.redact import GROWTH_FLOOR, SCHEMA_FIXED, _suspect, emails_redact, redact_line, text_redact
from telemetry.drive_sim import DrivePlan, drive_readings
from tests.event_schema import schema

pytestmark = pytest.mark.django_db
EMAIL = "canary.owner+volt@example-mail.org"
BEARER = "CanaryBearerSecret0123456789"
SESSION_KEY = "canarysessionkey0123456789abcdef"
PASSWORD = "Canary-Passw0rd-42!"


def test_canaries_never_appear_in_any_event(volt, upload, client, wide_events) -> None:
    params = next(drive_readings(DrivePlan(session="r-1", start=datetime(2026, 4, 4, tzinfo=UTC))))
    params["eml"] = EMAIL
    secret_headers = {"Authorization": f"Bearer {BEARER}", "Cookie": f"sessionid={SESSION_KEY}; csrftoken={BEARER}",
                      "User-Agent": f"Torque/1.0 ({EMAIL})"}
    assert upload(volt.token, params, **secret_headers).content == b"OK!"
    assert upload(volt.token, params, method="get", **secret_headers).content == b"OK!"
    upload("wrong" + volt.token, params, **secret_headers)  # 401: the presented token is redacted too
    client.get(f"/api/torque/upload/{volt.token}/and/more/{EMAIL}", headers=secret_headers)  # unrouted
    client.get(f"/api/vehicles/1/trips/?eml={EMAIL}", headers=secret_headers)  # the API with a bad Bearer
    User.objects.create_user("owner", email=EMAIL, password=PASSWORD)
    client.post("/admin/login/", {"username": "owner", "password": PASSWORD}, headers=secret_headers)

    lines = wide_events.lines
    assert len(lines) == 6
    for canary in (EMAIL, volt.token, BEARER, SESSION_KEY, PASSWORD, EMAIL.split("@")[0]):
        assert not [line for line in lines if canary in line], canary
    assert wide_events.events[0]["http"]["user_agent"] == "Torque/1.0 ([redacted])"


def test_any_field_named_like_a_secret_is_redacted(wide_events) -> None:
    event = event_open(operation="probe", kind="task")
    event.set("vehicle", password=PASSWORD, email=EMAIL, token=BEARER, kept="visible")
    event.add_error(ValueError(f"lookup failed for {EMAIL} with Authorization: Bearer {BEARER}"))
    assert event_emit(event) is True
    [line] = wide_events.lines
    assert PASSWORD not in line and EMAIL not in line and BEARER not in line
    [written] = wide_events.events
    assert written["vehicle"] == {"password": "[redacted]", "email": "[redacted]", "token": "[redacted]",
                                 "kept": "visible"}
    assert written["error"]["message"] == "ValueError: lookup failed for [redacted] with Authorization: Bearer [redacted]"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"a":"mail me at a.b@c.example.com"}', b'{"a":"mail me at [redacted]"}'),
        (b'{"a":"Torque owner@localhost, celery@worker-1"}', b'{"a":"Torque owner@localhost, celery@worker-1"}'),
        (b'{"a":"jane@example.com+bob@example.org, x@y.io%2Cz@w.io"}', b'{"a":"[redacted][redacted], [redacted][redacted]"}'),
        (b'{"a":"id42jane@example.com eml=jane%40example.com&x=1"}', b'{"a":"[redacted] eml=[redacted]&x=1"}'),
        (b'{"a":"na\\u00efve@example.org"}', b'{"a":"[redacted]"}'),
        ('{"a":"von jörg@exämple.de, danke"}'.encode(), b'{"a":"von [redacted], danke"}'),
        (b'{"a":"x%40y.org"}', b'{"a":"[redacted]"}'),
        (b'{"h":"Basic dXNlcjpwYXNz"}', b'{"h":"Basic [redacted]"}'),
        (b'{"m":"invalid token Bearer eyJhbGciOi.x"}', b'{"m":"invalid token Bearer [redacted]"}'),
        (b'{"m":"mybearer Bearer abcdef123456"}', b'{"m":"mybearer Bearer [redacted]"}'),
        (b'{"m":"token%20basic+c2VjcmV0cw"}', b'{"m":"token%20basic [redacted]"}'),
        (b'{"m":"TOKEN  secret99+Bearer abcdef123456"}', b'{"m":"TOKEN [redacted]+Bearer [redacted]"}'),
        (b'{"route":"api/torque/upload/<str:token>"}', b'{"route":"api/torque/upload/<str:token>"}'),
        (b'{"plain":"nothing to see"}', b'{"plain":"nothing to see"}'),
    ],
)
def test_redact_line(line: bytes, expected: bytes) -> None:
    assert redact_line(line) == expected


def test_known_secrets_are_redacted_anywhere_in_the_line() -> None:
    assert redact_line(b'{"p":"/u/s3cr3tT0k","m":"bad s3cr3tT0k"}', ["s3cr3tT0k"]) == (
        b'{"p":"/u/[redacted]","m":"bad [redacted]"}'
    )


# Near-misses and hits of both regexes, in any case, inside arbitrary text: the screen must flag
# every line the regexes would change.
_WORD = st.sampled_from(["bearer", "basic", "token", "xtoken", "bear", "@", "%40", "mail"]).flatmap(
    lambda w: st.lists(st.booleans(), min_size=len(w), max_size=len(w)).map(
        lambda up: "".join(c.upper() if u else c for c, u in zip(w, up, strict=True))))
_SEP = st.sampled_from([" ", "  ", "%20", "+", "\t", "\n", "%2", "-", "", "@", "%40"])
_TAIL = st.from_regex(r"[A-Za-z0-9._~+/=@-]{0,10}", fullmatch=True)
_TEXT = st.lists(st.one_of(st.tuples(_WORD, _SEP, _TAIL).map("".join), st.text(max_size=6)), max_size=5).map("".join)


@given(_TEXT)
@settings(max_examples=1000, deadline=None)
def test_the_cheap_screen_flags_every_line_the_scrub_would_change(text: str) -> None:
    line = orjson.dumps({"route": "api/torque/upload/<str:token>", "field": text, "n": 1.5})
    assert _suspect(line) or text_redact(text) == text, line
    redacted = orjson.loads(redact_line(line))
    assert redacted["n"] == 1.5 and redacted["route"] == "api/torque/upload/<str:token>"
    assert text_redact(redacted["field"]) == redacted["field"]  # nothing left to scrub


@pytest.mark.parametrize("text", ["\nbob@example.org", "\u001fbob@example.org", "\\nbob@example.org",
                                  "\u001fx@example.org", "\tBearer abcdefgh"])
def test_redaction_next_to_a_json_escape_keeps_the_line_valid_json(text: str) -> None:
    redacted = orjson.loads(redact_line(orjson.dumps({"m": text})))["m"]
    assert "example.org" not in redacted and "abcdefgh" not in redacted
    assert redacted.endswith("[redacted]")


@pytest.mark.parametrize("secret", ["false", "true", "null", "http", "success", "timestamp", "kind", "stored",
                                    "0123456789abcdef0123456789abcdef", "1.5", "trace_id", "upload", "volttracker"])
def test_a_known_secret_is_replaced_in_free_text_only(secret: str) -> None:
    """The client picks the token: one that spells a literal, a field name, a fixed-format value or what the
    service writes must leave valid JSON with those in place, and still be gone from the free text."""
    event = {"timestamp": "2026-11-28T10:00:00.000Z", "operation": "telemetry_upload", "kind": "http",
             "success": False, "trace_id": "0123456789abcdef0123456789abcdef", "duration_ms": 1.5,
             "service": {"name": "volttracker"}, "http": {"route": "api/torque/upload/<str:token>",
                                                         "path": f"/p/{secret}", "user_agent": f"x {secret} y"},
             "telemetry": {"outcome": "stored", "rejected_keys": [f"k{secret}"]}, "error": {"message": f"no {secret}"}}
    scrubbed = orjson.loads(redact_line(orjson.dumps(event), {secret}))
    assert scrubbed["http"] == {"route": "api/torque/upload/<str:token>", "path": "/p/[redacted]",
                                "user_agent": "x [redacted] y"}
    assert scrubbed["telemetry"] == {"outcome": "stored", "rejected_keys": ["k[redacted]"]}
    assert scrubbed["error"] == {"message": "no [redacted]"}
    kept = ("timestamp", "operation", "kind", "success", "trace_id", "duration_ms", "service")
    assert {key: scrubbed[key] for key in kept} == {key: event[key] for key in kept}


def test_a_secret_that_json_escapes_is_found_as_the_line_spells_it() -> None:
    secret = 'ab"cd\\ef'
    line = redact_line(orjson.dumps({"http": {"user_agent": f"x {secret} y"}}), {secret})
    assert orjson.loads(line) == {"http": {"user_agent": "x [redacted] y"}}


def test_a_scrubbed_field_stays_within_the_schemas_lengths() -> None:
    """"[redacted]" is longer than "abcd" or "a@b.io": a field already cut to its limit must not outgrow it."""
    line = redact_line(orjson.dumps({"http": {"user_agent": "abcd" * 50, "path": "/a@b.io" * 42}}), {"abcd"})
    http = orjson.loads(line)["http"]
    assert (len(http["user_agent"]), len(http["path"])) == (200, 294)
    assert "abcd" not in http["user_agent"] and "a@b.io" not in http["path"]
    assert text_redact("mail a@b.io") == "mail [redacted]"  # a short field may grow: far below any limit


def test_the_growth_floor_is_below_every_length_limit_of_the_schema() -> None:
    def limits(node: Any) -> list[int]:
        if isinstance(node, dict):
            return ([node["maxLength"]] if "maxLength" in node else []) + [n for v in node.values() for n in limits(v)]
        return [n for v in node for n in limits(v)] if isinstance(node, list) else []

    assert GROWTH_FLOOR < min(limits(schema())) == 155


def test_the_schema_fixed_fields_are_those_the_schema_constrains() -> None:
    def constrained(properties: dict[str, Any], namespace: str | None = None) -> set[object]:
        found: set[object] = set()
        for name, spec in properties.items():
            if {"enum", "pattern", "const"} & set(spec):
                found.add(name if namespace is None else (namespace, name))
            if namespace is None and "properties" in spec:
                found |= constrained(spec["properties"], name)
        return found

    assert constrained(schema()["properties"]) == SCHEMA_FIXED


def test_no_error_description_is_mistaken_for_a_credential() -> None:
    """Every error event carries its code's description: the scrub must leave each one whole
    ("... as a Bearer token." was written "... as a Bearer [redacted]" in every API 401 event)."""
    for code in ERROR_CODES.values():
        assert text_redact(code.description) == code.description, code.code


def test_patterns_go_before_known_secrets() -> None:
    """A token replaced first would leave the rest of the e-mail or credential it sat in unrecognisable."""
    assert text_redact("Torque (jane@private-mail.example)", ("mail",)) == "Torque ([redacted])"
    assert text_redact("Bearer abcZq9xVAbcSECRETREST", ("Zq9xVAbc",)) == "Bearer [redacted]"


def test_the_screen_sees_every_credential_the_pattern_takes() -> None:
    """Unicode case folding would let a Kelvin sign spell `toKen`: the pattern is ASCII, as the screen."""
    line = orjson.dumps({"m": "to\u212aen abcdefgh123"})
    assert (_suspect(line), redact_line(line)) == (False, line)


# The plain regex for an address: right, but quadratic on long runs, so the scrub finds addresses
# from their "@" outwards instead. Whatever the regex would find, the scrub must leave none of.
_ADDRESS = re.compile(r"[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")


@given(st.lists(st.sampled_from(["a", "jö", "@", "%40", "%2C", ".", "+", "-", "_", " ", "=", "<", "io", "%"]),
                max_size=14).map("".join))
@example("%40@a.io")  # found by a review: an address next to a "%40"
@example("a%40a%40a.io")
@example("a@a.io+a@a.io")
@settings(max_examples=3000, deadline=None)
def test_no_address_the_plain_regex_finds_survives_the_scrub(text: str) -> None:
    assert _ADDRESS.search(emails_redact(text)) is None, text


def test_a_field_cut_to_length_keeps_no_fragment_of_an_address_or_the_token(volt, upload, wide_events) -> None:
    """Cut first, a value left `jane@example` (no dotted domain) or 24 of the token's 32 characters,
    which the scrub at emission no longer recognises: values are scrubbed, then cut."""
    params = next(drive_readings(DrivePlan(session="c-1", start=datetime(2026, 4, 5, tzinfo=UTC))))
    for session, agent in ((f"{'A' * 40}{volt.token}", f"{'B' * 180}{volt.token}"),
                           (f"{'A' * 52}jane@example.com", f"{'B' * 190}jane@example.com")):
        assert upload(volt.token, {**params, "session": session}, **{"User-Agent": agent}).content == b"OK!"
    for line in wide_events.lines:
        assert volt.token[:12] not in line and "jane@" not in line
    first = wide_events.events[0]
    assert first["telemetry"]["session"] == "A" * 40 + "[redacted]"
    assert first["http"]["user_agent"] == "B" * 180 + "[redacted]"


def test_an_authorization_credential_is_a_secret_from_the_start(volt, client, wide_events) -> None:
    response = client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/", headers={
        "Authorization": f"Bearer {volt.token}", "X-Request-ID": volt.token, "User-Agent": f"x {volt.token}"})
    assert response.status_code == 200 and volt.token not in response["X-Request-ID"]
    [line] = wide_events.lines
    assert volt.token not in line and wide_events.events[0]["http"]["user_agent"] == "x [redacted]"


def test_a_routed_path_keeps_no_long_opaque_run(volt, client, wide_events) -> None:
    """Admin URLs take any text as an object id, and the admin's catch-all any path."""
    client.get(f"/admin/telemetry/vehicle/{volt.token}/change/")
    client.get(f"/admin/{volt.token}")
    assert [e["http"]["path"] for e in wide_events.events] == [
        "/admin/telemetry/vehicle/[redacted]/change/", "/admin/[redacted]"]
