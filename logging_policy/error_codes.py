"""The error taxonomy: every error the service reports carries one of these codes.

Ranges: E0xx validation, E1xx external API, E2xx database, E3xx parsing,
E4xx business logic, E5xx system. docs/error-codes.md lists the same table and a
test keeps the two equal. Pure: no Django imports beyond none at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    VALIDATION = "validation"
    EXTERNAL_API = "external_api"
    DATABASE = "database"
    PARSING = "parsing"
    BUSINESS = "business"
    SYSTEM = "system"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    name: str
    category: Category
    severity: Severity
    alert: bool
    retriable: bool
    http_status: int
    description: str


def _c(code: str, name: str, category: Category, severity: Severity, alert: bool, retriable: bool,
       http_status: int, description: str) -> ErrorCode:
    return ErrorCode(code, name, category, severity, alert, retriable, http_status, description)


V, X, D, P, B, S = (Category.VALIDATION, Category.EXTERNAL_API, Category.DATABASE, Category.PARSING,
                    Category.BUSINESS, Category.SYSTEM)
INFO, WARN, ERR, CRIT = Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.CRITICAL

ERROR_CODES: dict[str, ErrorCode] = {
    e.code: e
    for e in (
        _c("E001", "invalid_parameter", V, WARN, False, False, 400, "A request parameter has an invalid value."),
        _c("E002", "request_too_large", V, WARN, False, False, 413, "The request body or its field count exceeds the configured limit, or the body is multipart where Torque Pro uploads arrive (never read)."),
        _c("E003", "method_not_allowed", V, INFO, False, False, 405, "The HTTP method is not allowed on this URL."),
        _c("E004", "not_found", V, INFO, False, False, 404, "No resource at this URL."),
        _c("E005", "invalid_policy", V, WARN, False, False, 400, "A logging policy value was refused by validation."),
        _c("E006", "bad_request", V, WARN, False, False, 400, "The request was refused before any view ran (a Host header not in ALLOWED_HOSTS, say)."),
        _c("E007", "query_refused", V, INFO, False, False, 400, "An event-explorer query was refused: a field path, operator, value or parameter it needs is wrong, or it ran past the time limit; the message says which."),
        _c("E100", "external_timeout", X, WARN, False, True, 504, "An external API did not answer within the timeout."),
        _c("E101", "external_connection_failed", X, WARN, False, True, 502, "The connection to an external API failed or was closed."),
        _c("E102", "external_invalid_response", X, WARN, False, False, 502, "An external API answered with an unusable response."),
        _c("E103", "external_rate_limited", X, WARN, False, True, 503, "An external API refused the call for rate limiting."),
        _c("E200", "database_unavailable", D, CRIT, True, True, 503, "The database could not be reached or dropped the connection."),
        _c("E201", "database_integrity_error", D, ERR, True, False, 500, "A database constraint refused a write unexpectedly."),
        _c("E202", "database_error", D, ERR, True, True, 503, "The database reported an error while running a query."),
        _c("E203", "database_timeout", D, ERR, True, True, 503, "A query ran past the web request's statement or lock timeout (DATABASE_WEB_STATEMENT_TIMEOUT_MS, DATABASE_WEB_LOCK_TIMEOUT_MS): a lock held elsewhere or a stuck database."),
        _c("E204", "database_conflict", D, ERR, True, True, 503, "PostgreSQL aborted the transaction to break a deadlock with another one (or could not serialize it): our lock order, not the client's input. Sending the same request again succeeds."),
        _c("E300", "missing_timestamp", P, WARN, False, False, 400, "The upload has no `time` parameter, so the reading cannot be placed."),
        _c("E301", "invalid_timestamp", P, WARN, False, False, 400, "The `time` parameter is not a plausible milliseconds-since-epoch value."),
        _c("E302", "missing_session", P, WARN, False, False, 400, "The upload has no `session` parameter, so it cannot belong to a trip."),
        _c("E303", "no_values", P, INFO, False, False, 400, "The upload holds no reading value that could be stored."),
        _c("E304", "invalid_value", P, INFO, False, False, 200, "A value was dropped from a stored reading (not an error response)."),
        _c("E305", "invalid_tracklog", P, WARN, False, False, 400, "An imported file is not a Torque track log; the message names the line and the reason, and nothing of the file is stored."),
        _c("E306", "time_in_future", P, WARN, False, False, 400, "The `time` parameter is later than the server's clock plus the allowed skew (READING_FUTURE_ALLOWANCE_SECONDS)."),
        _c("E307", "invalid_session", P, WARN, False, False, 400, "The `session` parameter holds a control character (NUL, newline, ...), so the reading cannot be placed in a trip."),
        _c("E308", "invalid_encoding", P, WARN, False, False, 400, "The request declares a character set other than UTF-8, or holds text that nothing can store (a NUL character)."),
        _c("E309", "odometer_backwards", P, WARN, False, False, 400, "The reading's odometer is lower than the vehicle's reading before it (or higher than the one after it) by more than ODOMETER_SLACK_MILES; nothing of it is stored."),
        _c("E400", "unknown_vehicle_token", B, INFO, False, False, 401, "The upload token does not belong to any vehicle."),
        _c("E401", "not_authenticated", B, INFO, False, False, 401, "The API needs a staff session or the vehicle's upload token (header Authorization: Bearer <token>)."),
        _c("E402", "forbidden", B, INFO, False, False, 403, "The credentials do not give access to this vehicle."),
        _c("E403", "implausible_result", B, INFO, False, False, 200, "A computed trip value fell outside the plausible range and was stored empty."),
        _c("E404", "task_enqueue_failed", B, ERR, True, True, 200, "Follow-up work could not be queued; the beat schedule catches it up."),
        _c("E500", "internal_error", S, CRIT, True, False, 500, "An unexpected error; see the event's error.type and message."),
        _c("E501", "cache_unavailable", S, WARN, False, True, 200, "The shared cache (Redis) could not be reached; the service degraded."),
        _c("E502", "event_sink_failed", S, WARN, False, True, 200, "Writing the wide event failed; the request was not affected."),
    )
}


def error_code(code: str) -> ErrorCode:
    """The ErrorCode for `code`; unknown codes fall back to E500."""
    return ERROR_CODES.get(code, ERROR_CODES["E500"])


class CodedError(Exception):
    """An exception that carries its code from the taxonomy, raised by our own code."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.error = error_code(code)
        self.message = message or self.error.description
        super().__init__(self.message)


# query_canceled (statement_timeout, or a cancel), lock_not_available (lock_timeout).
TIMEOUT_SQLSTATES = frozenset({"57014", "55P03"})
# deadlock_detected, serialization_failure: the driver raises them as OperationalError, like an outage.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


def classify_exception(exc: BaseException) -> ErrorCode:
    """Map any exception to a code: ours carry it, database errors are E2xx, the rest E500.

    Kept free of Django imports by matching on the DB-API exception hierarchy names,
    which Django's wrappers and the drivers share.
    """
    if isinstance(exc, CodedError):
        return exc.error
    # Django re-raises the driver's error as its own class; the SQLSTATE is on the driver's (the cause).
    sqlstate = getattr(exc.__cause__, "pgcode", None)
    if sqlstate in TIMEOUT_SQLSTATES:
        return ERROR_CODES["E203"]
    if sqlstate in CONFLICT_SQLSTATES:
        return ERROR_CODES["E204"]
    if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
        # psycopg2 refuses a NUL in a query parameter before sending it. Only a client's text holds one
        # (an admin filter or search; uploads drop them while parsing): bad input, not our fault.
        return ERROR_CODES["E308"]
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"OperationalError", "InterfaceError"}:
        return ERROR_CODES["E200"]
    if "IntegrityError" in names:
        return ERROR_CODES["E201"]
    if "DatabaseError" in names:
        return ERROR_CODES["E202"]
    return ERROR_CODES["E500"]
