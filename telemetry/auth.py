"""Who may read a vehicle's data: staff users, or the vehicle's own upload token as a Bearer token."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest, JsonResponse

from logging_policy.responses import error_response
from telemetry.models import Vehicle
from telemetry.tokens import token_hash, token_matches
from telemetry.upload_sql import (
    UploadTarget,
    trip_by_known_vehicle,
    vehicle_and_trip_by_token_hash,
    vehicle_by_token_hash,
)

MAX_TOKEN_LENGTH = 128
# A vehicle uploads about once a second: building it and its stats row from the row every time cost
# about 30 us of the upload's Python. Its token is confirmed by every upload's statement all the same.
CACHE_SECONDS = 30.0
MAX_CACHED = 10_000
_vehicles: dict[str, tuple[Vehicle, float]] = {}  # token hash -> (vehicle with its stats row, read at)
clock: Callable[[], float] = time.monotonic  # replaceable by tests that move time


def vehicle_for_token(token: str) -> Vehicle | None:
    """The vehicle whose upload token this is, with its stats row: one indexed lookup on the token's hash."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    # The stats row rides along (a primary-key join) so the event's vehicle context costs no query.
    return _confirmed(token, vehicle_by_token_hash(token_hash(token)))


def vehicle_and_trip_for_token(token: str, *, trip_key: str, at: datetime | None = None) -> UploadTarget:
    """`vehicle_for_token`, with the vehicle's trip for `trip_key` (None if new) and the odometers of its
    readings around `at`, read in the same statement.

    A vehicle read in the last CACHE_SECONDS is not read again (nor its stats row): the statement
    then reads only the trip and the odometers, by the vehicle's id and the token's hash, so a
    token reset or a deleted vehicle answers no row at once, in every process (no invalidation to
    wait for). What may be up to CACHE_SECONDS old is the vehicle's other fields and its stats
    (the event's context, tier included; `vehicle.stats_age_seconds` says how old).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return UploadTarget(None, None)
    hashed = token_hash(token)
    now = clock()
    cached = _vehicles.get(hashed)
    if cached is not None and now - cached[1] < CACHE_SECONDS:
        found = trip_by_known_vehicle(cached[0], token_hash=hashed, trip_key=trip_key, at=at)
        if found is not None and _confirmed(token, found.vehicle):
            return found
        _vehicles.pop(hashed, None)  # reset, or gone: the lookup below answers for it
    target = vehicle_and_trip_by_token_hash(hashed, trip_key=trip_key, at=at)
    vehicle = _confirmed(token, target.vehicle)
    if vehicle is None:
        return UploadTarget(None, None)
    if len(_vehicles) >= MAX_CACHED:  # bounded: a fleet larger than this re-reads (never grows without end)
        _vehicles.clear()
    _vehicles[hashed] = (vehicle, now)
    return target


def vehicle_cache_forget() -> None:
    """Drop this process's cached vehicles (tests; the next upload of each reads its vehicle again)."""
    _vehicles.clear()


def _confirmed(token: str, vehicle: Vehicle | None) -> Vehicle | None:
    """The vehicle the index found, once the token's hash is compared with its own in constant time.

    The lookup is by the SHA-256 of a 192-bit secret, which leaks nothing usable; the final
    comparison is constant-time all the same, so no code path compares a secret with `==`.
    """
    return vehicle if vehicle is not None and token_matches(token, vehicle.token_hash) else None


def vehicle_access_denied(request: HttpRequest, vehicle_id: int, *, shows: tuple[str, ...] = ()
                          ) -> JsonResponse | None:
    """None when the request may read `vehicle_id`, else the 401/403 response to send.

    `shows`: the telemetry models (lower-case names) the answer holds besides the vehicle. Staff read
    what the admin would show them: the view (or change) permission of the vehicle and of each.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        missing = [name for name in ("vehicle", *shows)
                   if not (user.has_perm(f"telemetry.view_{name}") or user.has_perm(f"telemetry.change_{name}"))]
        if missing:
            return error_response("E402", "Your account lacks the admin's view permission: "
                                  + ", ".join(f"telemetry.view_{name}" for name in missing) + ".")
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _challenge(error_response("E401"))
    vehicle = vehicle_for_token(token.strip())
    if vehicle is None:
        return _challenge(error_response("E401", "The Bearer token does not belong to any vehicle."))
    if vehicle.pk != vehicle_id:
        return error_response("E402")
    return None


def _challenge(response: JsonResponse) -> JsonResponse:
    """A 401 names the scheme it wants (RFC 7235)."""
    response["WWW-Authenticate"] = 'Bearer realm="volttracker"'
    return response
