"""System checks of the deployment (`manage.py check --deploy` runs them too)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def production_has_redis(app_configs: Any = None, **_: Any) -> list[CheckMessage]:
    """Production without Redis would queue tasks in a local folder and keep the policy per machine."""
    if settings.IS_PRODUCTION and not settings.REDIS_URL:
        return [Error(
            "REDIS_URL is not set in production.",
            hint="Celery's broker and the cache that carries policy changes between processes need Redis "
                 "(docs/operations.md); the file-system fallbacks are for one development machine.",
            id="volttracker.E001",
        )]
    return []
