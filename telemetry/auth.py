"""Who may read a vehicle's data: staff users, or the vehicle's own upload token as a Bearer token."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, JsonResponse

from logging_policy.responses import error_response
from telemetry.models import Vehicle
from telemetry.tokens import token_hash, token_matches
from telemetry.upload_sql import UploadTarget, vehicle_and_trip_by_token_hash, vehicle_by_token_hash

MAX_TOKEN_LENGTH = 128


def vehicle_for_token(token: str) -> Vehicle | None:
    """The vehicle whose upload token this is, with its stats row: one indexed lookup on the token's hash."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    # The stats row rides along (a primary-key join) so the event's vehicle context costs no query.
    return _confirmed(token, vehicle_by_token_hash(token_hash(token)))


def vehicle_and_trip_for_token(token: str, *, trip_key: str, at: datetime | None = None) -> UploadTarget:
    """`vehicle_for_token`, with the vehicle's trip for `trip_key` (None if new) and the odometers of its
    readings around `at`, read in the same statement."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return UploadTarget(None, None)
    target = vehicle_and_trip_by_token_hash(token_hash(token), trip_key=trip_key, at=at)
    return target if _confirmed(token, target.vehicle) else UploadTarget(None, None)


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
