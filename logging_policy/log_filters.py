"""Keep the upload token out of the plain logs: the dev server's access lines and Django's error lines.

The token is the only credential Torque Pro can send, and it travels in the URL path
(`/api/torque/upload/<token>`). Wide events replace it at source and scrub it again at
emission (logging_policy/redact.py); these other lines carry the raw path: runserver logs
`"POST /api/torque/upload/<token> HTTP/1.1" 200 3` for every upload, and `django.request`
logs `Service Unavailable: /api/torque/upload/<token>` when the database is down. A GET upload's
query string (the owner's e-mail, the position) goes with the token.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from logging_policy.events import REDACTED

UPLOAD_PREFIX = "/api/torque/upload/"
# The token and whatever follows it up to a space or a quote: a GET upload's query string holds the
# owner's e-mail (`eml`) and the readings, position included.
_UPLOAD_TOKEN = re.compile(re.escape(UPLOAD_PREFIX) + r"[^\s\"']+")
_REPLACEMENT = UPLOAD_PREFIX + REDACTED
# A long opaque run of URL characters, anywhere in a path: possibly a token (a mistyped upload URL).
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9_~.+=%-]{16,}")
# A request target in an access line (`"GET /path?query HTTP/1.1"`, any method a client sends) or in
# Django's request log (`Not Found: /path`), as the client spelled it: percent-encoded, maybe.
_TARGET = re.compile(r"(?<=[A-Z] |: )/[^\s\"']*")


def path_redact(path: str) -> str:
    """A path with what may be a secret in it redacted: all that follows the upload prefix, also when
    percent-encoded (`/api/torque/%75pload/...` reaches the view too), elsewhere any long opaque run;
    a query string as a whole (a GET upload's carries the e-mail and the position)."""
    path, query_mark, _ = path.partition("?")
    if unquote(path).startswith(UPLOAD_PREFIX):
        return _REPLACEMENT
    return _OPAQUE_RUN.sub(REDACTED, path) + (query_mark and "?" + REDACTED)


def upload_tokens_redact(text: str) -> str:
    """A plain log line without upload tokens, e-mails or positions in the paths it shows."""
    if "/" not in text:
        return text
    return _TARGET.sub(lambda match: path_redact(match[0]), _UPLOAD_TOKEN.sub(_REPLACEMENT, text))


class UploadTokenFilter(logging.Filter):
    """A handler filter: rewrites the record's message and string arguments, never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = upload_tokens_redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(upload_tokens_redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, dict):
            record.args = {k: upload_tokens_redact(v) if isinstance(v, str) else v for k, v in args.items()}
        return True
