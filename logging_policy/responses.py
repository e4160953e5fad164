"""Error responses that carry a code from the taxonomy, and put it on the event."""

from __future__ import annotations

from django.http import JsonResponse

from logging_policy.current import current_event
from logging_policy.error_codes import ErrorCode, classify_exception, error_code

RETRY_AFTER_SECONDS = 5


def error_response(code: str | ErrorCode, message: str | None = None, *, status: int | None = None) -> JsonResponse:
    """`{"error": {"code", "message"}}` with the code's HTTP status; records the error on the event."""
    err = error_code(code) if isinstance(code, str) else code
    text = message or err.description
    current_event().add_error(err, text)
    response = JsonResponse({"error": {"code": err.code, "message": text}}, status=status or err.http_status)
    if err.retriable and response.status_code in (429, 503):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def exception_response(exception: BaseException | None) -> JsonResponse:
    """The answer to an exception nothing handled, by its code: 503 + Retry-After for a database fault,
    E500 for the rest (and when there is none to see). The middleware's and the 500 handler's."""
    err = classify_exception(exception) if exception is not None else error_code("E500")
    return error_response(err, err.description)
