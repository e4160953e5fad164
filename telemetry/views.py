"""HTTP edges of the telemetry domain: the Torque upload endpoint and the read-only JSON API."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from logging_policy.current import current_event
from logging_policy.middleware import content_length
from logging_policy.responses import error_response
from telemetry.api_json import row_json, vehicle_read_denied
from telemetry.auth import vehicle_access_denied, vehicle_and_trip_for_token
from telemetry.ingest import upload_describe, upload_ingest
from telemetry.models import Trip
from telemetry.odometer import odometer_conflict
from telemetry.torque import PayloadError, TorqueUpload, parse_upload, time_in_future
from telemetry.vehicle_context import vehicle_context_add_when_kept

TRIP_FIELDS = (
    "distance_miles", "electric_miles", "gas_miles", "electric_kwh_used", "regen_kwh", "kwh_per_mile",
    "fuel_used_gallons", "soc_source", "is_drive",
    "gas_mpg", "soc_at_gas_entry", "gas_mode_entered_at", "started_at", "ended_at", "ambient_temp_f", "is_closed",
    "weather_temp_f", "weather_precipitation_in", "weather_wind_mph", "weather_conditions", "weather_impact_factor",
    "extreme_weather",
)
TRIPS_PAGE_SIZE = 100


def query_params(request: HttpRequest) -> dict[str, str]:
    """The query string's parameters, the last of a repeated key winning, decoded as `request.GET` would.

    parse_qsl without building a QueryDict: its per-key bookkeeping cost a sixth of an upload's
    CPU (docs/benchmarks.md, "Ingest throughput"). Too many fields raise TooManyFieldsSent, as there.
    """
    raw = request.META.get("QUERY_STRING", "").encode("iso-8859-1")  # WSGI's str holds the raw bytes
    encoding = request.encoding or settings.DEFAULT_CHARSET
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    try:
        return dict(parse_qsl(text, keep_blank_values=True, encoding=encoding,
                              max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    except ValueError as exc:
        raise TooManyFieldsSent("The number of GET/POST parameters exceeded "
                                "settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.") from exc


def body_refusal(request: HttpRequest) -> str | None:
    """Why the body must not be read at all, or None. Decided on the headers alone, before a byte is read:
    a multipart body would be spooled to a temporary file whatever its size (its files do not count
    against DATA_UPLOAD_MAX_MEMORY_SIZE), and Torque Pro never sends one."""
    if request.content_type == "multipart/form-data":
        return "Multipart bodies are not taken here; Torque Pro sends a form or a query string."
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # None: no limit, as Django reads it
    if limit is not None and content_length(request.META.get("CONTENT_LENGTH")) > limit:
        return "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE."
    return None


@csrf_exempt
def torque_upload(request: HttpRequest, token: str) -> HttpResponse:
    """Torque Pro's web upload: `OK!` only once the reading is stored (or already was)."""
    event = current_event()
    event.operation = "telemetry_upload"
    if request.method not in ("GET", "POST"):
        response = error_response("E003")
        response["Allow"] = "GET, POST"
        return response
    # Parsed before authenticating so that the trip rides in the vehicle's query; the answers keep
    # their order: 401 for an unknown token first, a payload's 400 only to its vehicle.
    upload: TorqueUpload | None = None
    refused: tuple[str, str | None] = ("E002", body_refusal(request))
    refused_session = ""
    try:
        if refused[1] is None:
            with event.timer("parse"):
                params = query_params(request)
                if request.method == "POST":
                    params.update((k, v[-1]) for k, v in request.POST.lists())
                parsed = parse_upload(params)
            if parsed.recorded_at is not None and (late := time_in_future(
                    parsed.recorded_at, now=timezone.now(),
                    allowance_seconds=settings.READING_FUTURE_ALLOWANCE_SECONDS)):
                raise late
            upload = parsed
    except (RequestDataTooBig, TooManyFieldsSent):
        pass
    except (BadRequest, MultiPartParserError):  # a form in latin-1 (Django takes UTF-8 only), a broken multipart
        refused = ("E308", None)
    except PayloadError as exc:
        refused = (exc.code, exc.message)
        refused_session = params.get("session", "").strip()
    with event.timer("auth"):
        # The odometer check's neighbours ride in the same statement, for a reading that has an odometer.
        checked_at = upload.recorded_at if upload and "odometer_miles" in upload.values else None
        vehicle, trip, before, after = vehicle_and_trip_for_token(
            token, trip_key=upload.trip_key if upload else "", at=checked_at)
    if vehicle is None:
        return error_response("E400")
    vehicle_context_add_when_kept(vehicle=vehicle)
    if upload is None:
        if refused_session:  # a refused upload still says its session, to its vehicle's events only
            event.set("telemetry", session=event.client_text(refused_session, 64))
        return error_response(*refused)
    event.set_when_kept("telemetry", partial(upload_describe, upload))
    if checked_at is not None and (backwards := odometer_conflict(upload.values["odometer_miles"],
                                                                  before=before, after=after)):
        return error_response("E309", backwards)

    upload_ingest(vehicle=vehicle, upload=upload, trip=trip)  # sets telemetry.outcome on the event
    return HttpResponse("OK!", content_type="text/plain")


def _trip_json(trip: Trip) -> dict[str, Any]:
    return {"id": trip.pk, "vehicle_id": trip.vehicle_id, **row_json(trip, TRIP_FIELDS)}


def vehicle_trips(request: HttpRequest, vehicle_id: int) -> JsonResponse:
    if denied := vehicle_read_denied(request, vehicle_id, shows=("trip",)):
        return denied
    trips = Trip.objects.filter(vehicle_id=vehicle_id).order_by("-started_at")[:TRIPS_PAGE_SIZE]
    return JsonResponse({"vehicle_id": vehicle_id, "trips": [_trip_json(t) for t in trips]})


def trip_detail(request: HttpRequest, trip_id: int) -> JsonResponse:
    trip = Trip.objects.filter(pk=trip_id).first()
    if trip is None:
        # Only those who could read some trip learn that this one does not exist.
        return vehicle_access_denied(request, vehicle_id=-1, shows=("trip",)) or error_response("E004")
    current_event().set("trip", id=trip.pk)
    if denied := vehicle_read_denied(request, trip.vehicle_id, shows=("trip",)):
        return denied
    return JsonResponse(_trip_json(trip))
