"""The plain logs scrubbed as the events are (logging_policy/redact.py): the dev server's access lines,
Django's request and security logs, gunicorn's error log (gunicorn.conf.py), any console line.

These lines carry raw paths: runserver logs `"POST <prefix><token> HTTP/1.1" 200 3` for every upload
(a secret path prefix, registered in vocabulary.py), `django.request` logs `Service Unavailable: <path>`
when the database is down. A GET's query string (an upload's: the owner's e-mail, the position) goes too.
"""

from __future__ import annotations

import logging
import re

from logging_policy.redact import (
    REDACTED,
    client_network,
    secret_paths,
    secret_prefix_in,
    text_redact,
    token_shaped,
)
from logging_policy.vocabulary import vocabulary

# settings.STATIC_URL ("static/"), as a path; read here, not from settings: a log filter runs before
# (and after) Django is configured, and this is what the app serves its files under.
STATIC_PREFIX = "/static/"


# A long opaque run of URL characters, anywhere in a path: possibly a token (a mistyped upload URL).
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9_~.+=%-]{16,}")
# A request target in an access line (`"GET /path?query HTTP/1.1"`: any method, any spacing, the absolute
# form `http://host/path` too) or in Django's request log (`Not Found: /path`), as the client spelled it:
# percent-encoded, maybe, and with any character but whitespace.
_TARGET = re.compile(r"(?:^|(?<=[\s\"']))(?:[A-Za-z][A-Za-z0-9+.-]*://[^/\s]*)?/\S*")


def path_redact(path: str) -> str:
    """A path with what may be a secret in it redacted: all that follows a secret prefix, elsewhere long
    opaque runs, e-mail addresses and credentials; a query string as a whole (a GET upload's carries the
    e-mail and the position)."""
    path, query_mark, _ = path.partition("?")
    if (prefix := secret_prefix_in(path)) is not None:
        return prefix + REDACTED
    return text_redact(routed_path(path)) + (query_mark and "?" + REDACTED)


def routed_path(path: str) -> str:
    """A path with its long opaque runs masked (an admin URL takes any text as an object id). Static
    files keep their names: they are the app's own (`/static/admin/img/icon-changelink.svg`)."""
    if len(path) < 16 or path.startswith(STATIC_PREFIX):
        return path
    return _OPAQUE_RUN.sub(_opaque_masked, path)


def _opaque_masked(run: re.Match[str]) -> str:
    """A run with a digit, a capital or a %-escape is masked; one of lower-case words and dashes (a slug
    such as `new-vehicles-trip-errors`) is not: 32 random URL-safe characters (an upload token) have
    neither digit nor capital about once in 10^11."""
    text = run.group()
    return REDACTED if any(c.isdigit() or c.isupper() or c == "%" for c in text) else text


# gunicorn's `Invalid request from ip=203.0.113.9: ...`: the address, up to the ": " that ends it (IPv6 has colons).
_IP_FIELD = re.compile(r"\bip=([0-9A-Fa-f.:]+?)(?=: |\s|$)")
_UNPARSED = "Invalid request from ip="
_QUERY = re.compile(r"\?[^\s']*")


def plain_log_redact(text: str, *, request_log: bool = False) -> str:
    """A plain log line scrubbed as an event is (`text_redact`: e-mail addresses, credentials), with every
    run shaped like an upload token as its secrets (a Host header, a request line) and a client address
    (`ip=`) cut to its network, as the events' `http.client_network`. What follows a secret path prefix
    goes whole, query and all; with `request_log` (an access line, Django's request and security logs, gunicorn's error
    log) every request target is masked too (`path_redact`). Other lines keep their paths: a file path
    is not a request (`/work/main/telemetry/vehicle_context.py changed`)."""
    if "/" in text:
        if (pattern := secret_paths(vocabulary().secret_path_prefixes)) is not None:
            text = pattern.sub(lambda match: match[1] + REDACTED, text)
        if request_log:
            text = _TARGET.sub(lambda match: path_redact(match[0]), text)
    if "ip=" in text:
        text = _IP_FIELD.sub(lambda match: "ip=" + (client_network(match[1]) or REDACTED), text)
        if request_log and text.startswith(_UNPARSED):
            # gunicorn quotes what it could not parse, not always from the target on: a raw space inside
            # the token leaves its tail and the query in the "version" it quotes. Both go, as in a path.
            text = _QUERY.sub("?" + REDACTED, routed_path(text))
    return text_redact(text, token_shaped(text))


def _request_logger(name: str) -> bool:
    """Loggers whose lines show request targets as the client sent them."""
    return name in ("django.server", "django.request", "gunicorn.error") or name.startswith("django.security.")


_exception_format = logging.Formatter().formatException


class PlainLogRedactFilter(logging.Filter):
    """A handler filter: redacts the formatted message and the traceback text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_log = _request_logger(record.name)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - arguments that don't fit: logging prints msg and args as they are
            record.msg = plain_log_redact(str(record.msg), request_log=request_log)
            if isinstance(record.args, tuple):
                record.args = tuple(plain_log_redact(a if isinstance(a, str) else repr(a), request_log=request_log)
                                    for a in record.args)
            elif record.args:
                record.args = (plain_log_redact(repr(record.args), request_log=request_log),)
        else:
            redacted = plain_log_redact(message, request_log=request_log)
            if redacted != message:
                record.msg, record.args = redacted, ()
        # Formatters use exc_text when it is set; another handler (unfiltered) may have set it already.
        if record.exc_info and not record.exc_text:
            record.exc_text = _exception_format(record.exc_info)
        if record.exc_text:
            record.exc_text = plain_log_redact(record.exc_text)
        return True
