"""gunicorn's configuration, read from the working directory (the image's /app, a checkout) by every
`gunicorn` started there; command-line flags still win.

gunicorn's error log is no Django logger: it prints an invalid request line whole (the upload token, a
GET upload's `eml=` and position) and the client's full address. Its lines pass the redaction every
other plain log line passes (logging_policy/log_filters.py).
"""

from __future__ import annotations

import logging
from typing import Any


def on_starting(server: Any) -> None:
    """In the master, before any worker forks: the filter is on the logger, so every handler (the error
    log file, stderr, syslog) and every worker gets only redacted lines, across a config reload too."""
    from logging_policy.log_filters import PlainLogRedactFilter  # noqa: PLC0415 - the app's path is set by now

    error_log = logging.getLogger("gunicorn.error")
    if not any(isinstance(f, PlainLogRedactFilter) for f in error_log.filters):
        error_log.addFilter(PlainLogRedactFilter())
