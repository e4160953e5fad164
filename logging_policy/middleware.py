"""WideEventMiddleware: exactly one wide event per request, emitted when the response is ready."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

from logging_policy.emit import event_emit, event_open
from logging_policy.error_codes import classify_exception
from logging_policy.events import WideEvent, event_bound
from logging_policy.responses import error_response

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Path parameters that are secrets: replaced in `http.path` before the event is written.
SECRET_KWARGS = ("token",)


def trace_id_from(header: str | None) -> str | None:
    """The trace id of a valid W3C traceparent header, else None."""
    match = _TRACEPARENT.match((header or "").strip().lower())
    if not match or match.group(1) == "0" * 32:
        return None
    return match.group(1)


def request_id_from(header: str | None) -> str | None:
    return header if header and _REQUEST_ID.match(header) else None


def client_network(address: str) -> str:
    """The client's network, not its address: IPv4 /24, IPv6 /48 (an address is personal data)."""
    if ":" in address:
        return ":".join(address.split(":")[:3]) + "::/48"
    parts = address.split(".")
    return ".".join(parts[:3]) + ".0/24" if len(parts) == 4 else ""


class WideEventMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        event = event_open(
            operation="http_request",
            kind="http",
            request_id=request_id_from(request.headers.get("X-Request-ID")),
            trace_id=trace_id_from(request.headers.get("traceparent")),
        )
        event.set(
            "http",
            method=request.method,
            path=request.path,
            user_agent=request.headers.get("User-Agent", "")[:200],
            request_size_bytes=int(request.META.get("CONTENT_LENGTH") or 0),
            client_network=client_network(request.META.get("REMOTE_ADDR", "")),
        )
        request.wide_event = event  # type: ignore[attr-defined]

        def count_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                event.record_query((time.perf_counter() - start) * 1000.0)

        try:
            with event_bound(event), connection.execute_wrapper(count_query):
                response = self.get_response(request)
        except BaseException as exc:  # the view's exception was not turned into a response
            event.add_error(exc)
            self._finish(request, event, 500)
            raise
        self._finish(request, event, response.status_code, response)
        response["X-Request-ID"] = event.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        """A view raised: answer JSON with the code (503 + Retry-After for database faults).

        Runs inside `__call__`, so the request's event is the current one.
        """
        event: WideEvent | None = getattr(request, "wide_event", None)
        if event is not None:
            event.add_error(exception)
        code = classify_exception(exception)
        return error_response(code, code.description)

    @staticmethod
    def _finish(request: HttpRequest, event: WideEvent, status: int, response: HttpResponse | None = None) -> None:
        match = getattr(request, "resolver_match", None)
        path = request.path
        if match is not None:
            for name in SECRET_KWARGS:
                secret = match.kwargs.get(name)
                if secret:
                    path = path.replace(str(secret), "[redacted]")
            if event.operation == "http_request" and match.view_name:
                event.operation = match.view_name
            event.set("http", route=match.route)
        elif event.operation == "http_request":
            event.operation = "http_unrouted"
        event.set("http", path=path, status_code=status)
        if response is not None and not response.streaming:
            event.set("http", response_size_bytes=len(response.content))
        if status >= 500:
            event.data["success"] = False
            if "error" not in event.data:
                event.add_error("E500", f"HTTP {status}")
        event_emit(event)
