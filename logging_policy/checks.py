"""System checks of the logging settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def wide_events_path_writable(app_configs: Any = None, **_: Any) -> list[CheckMessage]:
    """A WIDE_EVENTS_PATH the process cannot write loses every event, so say so before serving."""
    raw = getattr(settings, "WIDE_EVENTS_PATH", "")
    if not raw:
        return []
    path = Path(raw)
    if path.is_dir():
        problem = "is a directory"
    elif path.exists() and not os.access(path, os.W_OK):
        problem = "is not writable"
    elif not path.exists() and not path.parent.is_dir():
        problem = f"is in a directory that does not exist ({path.parent})"
    elif not path.exists() and not os.access(path.parent, os.W_OK):
        problem = "cannot be created: its directory is not writable"
    else:
        return []
    return [Error(
        f"WIDE_EVENTS_PATH {problem}.",
        hint="Point it at a file the web and worker processes can append to, or leave it empty for stdout.",
        id="logging_policy.E001",
    )]
