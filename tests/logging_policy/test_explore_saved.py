"""The seven saved queries against the truth: real events through the app, sampled at the default rates.

Uploads (good and refused), trip finalizations (one failing, one slow: PostgreSQL triggers make them so),
a weather call that times out against a real HTTP server, in two deployments of two environments. Every
event the app decides on is recorded before sampling (the unsampled stream, the truth); the kept ones go
to the log file through the production file handler, are loaded by `manage.py events_load`, and each
saved query's JSON must hold every group of the truth with its count within two printed standard errors.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test import Client

from logging_policy import emit, metadata
from logging_policy.emit import SafeFileHandler
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip, VehicleStats
from telemetry.tasks import trip_finalize_task, trip_weather_task
from telemetry.vehicles import NewToken, vehicle_create
from tests.weather_server import WeatherServer, clean_weather_cache, weather_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_weather_cache")]
Event = dict[str, Any]


class Stream:
    """Every event the sampler decides on, as it stood then (the truth), and the log file of kept ones."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.recording = True


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Any) -> Iterator[Stream]:
    recorded = Stream()
    decide = emit.decide

    def recording_decide(policy: Any, data: Event, *rates: Any) -> Any:
        decision = decide(policy, data, *rates)
        if recorded.recording:
            recorded.events.append(copy.deepcopy(data))
        return decision

    monkeypatch.setattr(emit, "decide", recording_decide)
    settings.WIDE_EVENTS_PATH = str(tmp_path / "events.jsonl")
    settings.EVENTS_STORE_DIR = tmp_path / "store"
    handler = SafeFileHandler(settings.WIDE_EVENTS_PATH)
    logger = logging.getLogger("wide_events")
    logger.addHandler(handler)
    try:
        yield recorded
    finally:
        logger.removeHandler(handler)
        handler.close()
        metadata.reset_after_fork()  # the deployment settings return to the process's own


def deploy(settings: Any, deployment: str, environment: str) -> None:
    settings.DEPLOYMENT_ID, settings.ENVIRONMENT = deployment, environment
    metadata.reset_after_fork()  # read once per process: a new deployment is a new process


class Fleet:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.n = 0

    def trace(self) -> str:
        self.n += 1  # deterministic draws, so the test answers the same every run
        return hashlib.sha256(f"explore-{self.n}".encode()).hexdigest()[:32]

    def post(self, token: str, params: dict[str, str]) -> int:
        return self.client.post(f"/api/torque/upload/{token}", params,
                                headers={"traceparent": f"00-{self.trace()}-{'3' * 16}-01"}).status_code

    def drive(self, volt: NewToken, session: str, miles: float) -> Trip:
        start = datetime.now(UTC) - timedelta(hours=2)
        for params in drive_readings(DrivePlan(session=session, start=start, electric_miles=miles, gas_miles=0)):
            assert self.post(volt.token, params) == 200
        return Trip.objects.get(session=session)

    def refused(self, volt: NewToken, session: str, times: int) -> None:
        for _ in range(times):  # no `time`: E300
            assert self.post(volt.token, {"session": session, "id": "abc", "kff1005": "-83.0"}) == 400


def trigger(trip: Trip, body: str) -> None:
    """A PostgreSQL trigger on this trip's finalizing update: real slowness or a real failure."""
    name = f"explore_t{trip.pk}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; RETURN NEW; END $$ "
                       "LANGUAGE plpgsql")
        cursor.execute(f"CREATE TRIGGER {name} BEFORE UPDATE ON telemetry_trip FOR EACH ROW "
                       f"WHEN (NEW.id = {trip.pk} AND NEW.is_closed) EXECUTE FUNCTION {name}()")


@pytest.fixture
def explored(stream: Stream, client: Client, settings: Any, weather_server: WeatherServer
             ) -> tuple[Stream, Callable[..., list[Event]], dict[str, int]]:
    fleet = Fleet(client)
    new = vehicle_create(name="New Volt")  # no finished trip yet: a new vehicle
    heavy = vehicle_create(name="Heavy Volt")
    light = vehicle_create(name="Light Volt")
    now = datetime.now(UTC)
    VehicleStats.objects.create(vehicle=heavy.vehicle, total_trips=150, first_trip_at=now - timedelta(days=400),
                                refreshed_at=now)
    VehicleStats.objects.create(vehicle=light.vehicle, total_trips=5, first_trip_at=now - timedelta(days=200),
                                refreshed_at=now)

    deploy(settings, "prod-blue", "production")
    new_trip = fleet.drive(new, "sess-a", 3)
    fleet.refused(new, "sess-a", 4)
    heavy_trips = [fleet.drive(heavy, f"sess-h{i}", 1) for i in range(2)]
    light_trip = fleet.drive(light, "sess-l1", 8)
    trigger(new_trip, "RAISE EXCEPTION 'explorer test: finalization refused'")
    trigger(light_trip, "PERFORM pg_sleep(2.1)")
    for trip in (new_trip, *heavy_trips, light_trip):
        trip_finalize_task.apply(args=(trip.pk,))
    weather_server.script = [("slow", 0.6)]
    trip_weather_task.apply(args=(heavy_trips[0].pk,))

    deploy(settings, "stage-green", "staging")
    fleet.drive(light, "sess-l2", 8)
    fleet.refused(light, "sess-l2", 2)
    trip_weather_task.apply(args=(heavy_trips[1].pk,))  # times out too (the script's last action repeats)

    stream.recording = False
    call_command("events_load")
    user = User.objects.create_user("explorer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_loggingpolicy", "view_savedquery"]))
    client.force_login(user)

    def ask(slug: str, **params: str) -> list[Event]:
        response = client.get(f"/admin/logging_policy/explore/{slug}/", {"format": "json", **params})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["events_scanned"] >= sum(r["events"] for r in body["rows"]) > 0
        return body["rows"]

    return stream, ask, {"new": new.vehicle.pk, "heavy": heavy.vehicle.pk, "light": light.vehicle.pk}


def get(event: Event, path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def truth(events: list[Event], keep: Callable[[Event], bool], group_by: tuple[str, ...]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(get(e, g) for g in group_by) for e in events if keep(e))


def within_error_bars(rows: list[Event], expected: Counter[tuple[Any, ...]]) -> None:
    answered = {tuple(r["group"].values()): r for r in rows}
    assert set(answered) == set(expected), (answered, expected)  # every group found, none invented
    for key, count in expected.items():
        row = answered[key]
        assert abs(row["count"] - count) <= 2 * row["count_rse"] * row["count"] + 1e-9, (key, row, count)


def test_each_saved_query_answers_the_truth_within_its_error_bars(explored: Any, settings: Any) -> None:
    stream, ask, vehicles = explored
    events = stream.events
    failed = [e for e in events if e["success"] is False]
    kept_share = len(Path(settings.WIDE_EVENTS_PATH).read_bytes().splitlines()) / len(events)
    assert kept_share < 0.6, "sampling at the default rates drops most uploads"

    rows = ask("errors-for-session", session="sess-a")
    expected = truth(failed, lambda e: get(e, "telemetry.session") == "sess-a", ("error.code", "operation"))
    assert expected == Counter({("E300", "telemetry_upload"): 4})
    within_error_bars(rows, expected)

    rows = ask("heavy-trips-30d")
    expected = truth(events, lambda e: get(e, "business.trip_finalized") is True
                     and get(e, "vehicle.usage_tier") == "heavy", ("vehicle.id",))
    assert expected == Counter({(vehicles["heavy"],): 2})
    within_error_bars(rows, expected)

    rows = ask("errors-in-deployment", deployment="prod-blue")
    expected = truth(failed, lambda e: get(e, "deployment.id") == "prod-blue", ("operation", "error.code"))
    assert {("trip_finalize", "E202"), ("external_api.weather", "E100"), ("telemetry_upload", "E300")} <= set(expected)
    within_error_bars(rows, expected)

    rows = ask("new-vehicles-trip-errors")
    age = "vehicle.account_age_days"
    expected = truth(failed, lambda e: "trip" in e["operation"] and get(e, age) is not None and get(e, age) < 30,
                     ("vehicle.id", "error.code"))
    assert expected == Counter({(vehicles["new"], "E202"): 1})
    within_error_bars(rows, expected)

    rows = ask("slow-trip-finalizations")
    expected = truth(events, lambda e: e["operation"] == "trip_finalize" and e["duration_ms"] > 2000, ("vehicle.id",))
    assert expected == Counter({(vehicles["light"],): 1})
    within_error_bars(rows, expected)
    assert rows[0]["value"] > 2000

    rows = ask("weather-timeouts")
    expected = truth(failed, lambda e: e["operation"] == "external_api.weather" and get(e, "error.code") == "E100",
                     ("deployment.id",))
    assert expected == Counter({("prod-blue",): 1, ("stage-green",): 1})
    within_error_bars(rows, expected)

    rows = ask("error-rate-by-environment")
    expected = truth(events, lambda e: True, ("deployment.environment",))
    within_error_bars(rows, expected)
    for row in rows:
        env = row["group"]["deployment.environment"]
        true_rate = sum(1 for e in failed if e["deployment"]["environment"] == env) / expected[(env,)]
        assert abs(row["rate"] - true_rate) <= 2 * row["count_rse"] * row["rate"] + 1e-9, (row, true_rate)


def test_a_saved_query_needs_its_parameter_and_the_view_permission(explored: Any, client: Client) -> None:
    response = client.get("/admin/logging_policy/explore/errors-for-session/", {"format": "json"})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "E007", "message": "This query needs the parameter 'session' "
                                                                   "(add ?session=... to the address)."}
    staff = User.objects.create_user("no-permission", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/logging_policy/explore/heavy-trips-30d/", {"format": "json"}).status_code == 403
