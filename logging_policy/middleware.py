"""WideEventMiddleware: exactly one wide event per request, emitted when the response is ready."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from logging_policy.current import _current
from logging_policy.emit import event_emit, event_open
from logging_policy.events import WideEvent
from logging_policy.ids import new_ids
from logging_policy.log_filters import path_redact, routed_path
from logging_policy.redact import REDACTED, SECRET_URL_KWARGS, client_network, clip, credential_of, path_secret_of, token_shaped
from logging_policy.responses import error_response, exception_response

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def traceparent_parse(header: str | None) -> tuple[str, str] | None:
    """(trace id, parent span id) of a valid W3C traceparent header, else None."""
    if not header:
        return None
    match = _TRACEPARENT.match(header.strip().lower())
    # All-zero ids and version ff are invalid by the spec: start a new trace instead.
    if not match or match.group(1) == "ff" or match.group(2) == "0" * 32 or match.group(3) == "0" * 16:
        return None
    return match.group(2), match.group(3)


def trace_id_from(header: str | None) -> str | None:
    """The trace id of a valid W3C traceparent header, else None."""
    parsed = traceparent_parse(header)
    return parsed[0] if parsed else None


def request_id_from(header: str | None) -> str | None:
    return header if header and _REQUEST_ID.match(header) else None


# PostgreSQL's bigint and a signed 64-bit integer: the largest number an event or a query takes.
MAX_INT64 = 2**63 - 1


def content_length(value: str | None) -> int | None:
    """The declared body size (0 when absent); None when the header is not one: not ASCII digits, or
    beyond 64 bits (written as a string, `18446744073709551616` broke the event's schema)."""
    if not value:
        return 0
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or (size := int(value)) > MAX_INT64:
        return None
    return size


def unrouted_path(path: str) -> str:
    """A path no URL pattern matched, without what may be a secret in it (see log_filters.path_redact)."""
    return path_redact(path)[:300]


_CLIENT_ERRORS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)


class WideEventMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: building HttpHeaders parses every header name, on every request.
        # Every line here runs for every request, and most events are dropped: a header that is absent
        # (an upload sends no traceparent, request id or credential) costs a lookup, not a call.
        meta = request.META
        header = meta.get("HTTP_TRACEPARENT")
        traceparent = traceparent_parse(header) if header else None
        client_id = meta.get("HTTP_X_REQUEST_ID")
        event = event_open(
            operation="http_request",
            kind="http",
            request_id=request_id_from(client_id) if client_id else None,
            trace_id=traceparent[0] if traceparent else None,
        )
        data = event.data
        if traceparent:
            data["parent_span_id"] = traceparent[1]
        # A secret path segment (the upload token) and an Authorization credential are secrets from the
        # start, whether the path routes or not (a 404, a refused Host never reach a view); a client's
        # request id that holds one, or a token-shaped run, is replaced before anything can copy it.
        secrets: tuple[str | None, ...] = (path_secret_of(request.path_info),)
        if authorization := meta.get("HTTP_AUTHORIZATION"):
            secrets += (credential_of(authorization), *token_shaped(authorization))
        if client_id:
            secrets += token_shaped(client_id)
        for secret in secrets:
            if secret and event.redact_value(secret) and secret in data["request_id"]:
                data["request_id"] = new_ids()[0]
        request_id: str = data["request_id"]
        size_header = meta.get("CONTENT_LENGTH")
        size = content_length(size_header) if size_header else 0
        http: dict[str, object] = {"method": request.method}
        if size is not None:
            http["request_size_bytes"] = size
        data["http"] = http  # names of no secret: set()'s check is not needed
        request.wide_event = event  # type: ignore[attr-defined]
        bound = _current.set(event)  # event_bound(event), without its object: this runs on every request
        try:
            # A body whose size is not a number is refused here: no view should read it.
            response = (self.get_response(request) if size is not None
                        else error_response("E006", "The Content-Length header is not a size in bytes."))
        except BaseException as exc:  # the view's exception was not turned into a response
            _current.reset(bound)
            event.add_error(exc)
            self._finish(request, event, 500)
            raise
        finally:
            # Django's request and response end as cyclic garbage: an event still hung on the request
            # would wait for the collector with them, and its few dozen containers bring the next
            # collection sooner (measured: a third more gen-0 collections per upload). Once the view
            # has returned nothing reads it there; `event` carries on here.
            request.__dict__.pop("wide_event", None)
        _current.reset(bound)
        self._finish(request, event, response.status_code, response)
        # `response["X-Request-ID"] = ...` without the header checks (two calls for the name and the
        # value, 5 % of what an event costs a dropped upload): the id is ours, or a client's that
        # matched _REQUEST_ID, so it is ASCII without line breaks.
        response.headers._store["x-request-id"] = ("X-Request-ID", request_id)  # noqa: SLF001 - see above
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view raised: answer JSON with the code (503 + Retry-After for database faults).

        Exceptions that Django itself turns into a 4xx (Http404, PermissionDenied,
        SuspiciousOperation, BadRequest) are left to Django: they are answers, not faults.
        Runs inside `__call__`, so the request's event is the current one.
        """
        if isinstance(exception, _CLIENT_ERRORS):
            return None
        event: WideEvent | None = getattr(request, "wide_event", None)
        if event is not None:
            event.add_error(exception)  # first: the event keeps the exception's type and message
        return exception_response(exception)

    def _finish(self, request: HttpRequest, event: WideEvent, status: int,
                response: HttpResponse | None = None) -> None:
        try:
            self._describe_outcome(request, event, status, response)
        except Exception as exc:  # noqa: BLE001 - describing the request must not fail it
            event.note_warning("E500", f"event enrichment failed: {type(exc).__name__}")
            http = event.data["http"]  # set again: `set` scrubs the client's method and path
            event.set("http", method=http["method"], path=http.get("path") or unrouted_path(request.path))
        event_emit(event)

    @staticmethod
    def _describe_outcome(request: HttpRequest, event: WideEvent, status: int, response: HttpResponse | None) -> None:
        # Now only what sampling reads (status, operation, an unrouted path's class); the route, the path
        # and the sizes are worked out for a kept event (`_http_kept`).
        match = getattr(request, "resolver_match", None)
        data = event.data  # not the `operation` property: a call each
        http = data["http"]
        if match is not None:
            if data["operation"] == "http_request" and match.view_name:
                data["operation"] = match.view_name
        else:
            if data["operation"] == "http_request":
                data["operation"] = "http_unrouted"
            http["path"] = unrouted_path(request.path)
        http["status_code"] = status
        event.set_when_kept("http", partial(_http_kept, request, response))
        if status >= 500:
            data["success"] = False
            if "error" not in data:
                event.add_error("E500", f"HTTP {status}")


def _http_kept(request: HttpRequest, response: HttpResponse | None, event: WideEvent) -> dict[str, object]:
    """The request's fields that only a written event needs (sampling reads none of them)."""
    meta = request.META
    # The agent's token-shaped runs become secrets of the event here, before its line is serialized.
    fields: dict[str, object] = {"user_agent": event.client_text(meta.get("HTTP_USER_AGENT", ""), 200),
                                 "client_network": client_network(meta.get("REMOTE_ADDR", ""))}
    match = getattr(request, "resolver_match", None)
    if match is not None:
        try:
            path = request.path
            for name in SECRET_URL_KWARGS:
                if secret := match.kwargs.get(name):
                    # Replaced here, where it is known to be; `set` replaces it in the other untrusted values.
                    event.redact_value(secret := str(secret))
                    path = path.replace(secret, REDACTED)
            # A route's own converters may take any text (the admin's object ids, its catch-all view).
            fields["route"] = match.route
            fields["path"] = clip(routed_path(path), 300, event.secrets)
        except Exception as exc:  # noqa: BLE001 - describing the request must not fail it
            event.note_warning("E500", f"event enrichment failed: {type(exc).__name__}")
            fields["path"] = unrouted_path(request.path)
    if response is not None and not response.streaming:
        fields["response_size_bytes"] = len(response.content)
    return fields
