"""Project-wide 404 and 500 handlers: JSON bodies with an error code."""

from __future__ import annotations

import sys

from django.http import HttpRequest, JsonResponse

from logging_policy.responses import error_response, exception_response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django refused the request (DisallowedHost and other SuspiciousOperation): JSON with E006."""
    return error_response("E006")


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response("E004")


def server_error(request: HttpRequest) -> JsonResponse:
    """Django calls it while handling the exception (one raised outside a view: in a middleware)."""
    return exception_response(sys.exc_info()[1])
