from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from volttracker.db_timeouts import web_database_timeouts_apply

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

application = get_wsgi_application()
# This module is the web process's entry point (gunicorn and runserver alike), so only web requests
# get these bounds; manage.py commands and Celery never import it.
web_database_timeouts_apply(settings.DATABASES, statement_ms=settings.DATABASE_WEB_STATEMENT_TIMEOUT_MS,
                            lock_ms=settings.DATABASE_WEB_LOCK_TIMEOUT_MS)
