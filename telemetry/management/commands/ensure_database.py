"""`manage.py ensure_database`: create the PostgreSQL database DATABASE_URL names, if it is missing.

`make run` runs it before migrating, so that pointing DATABASE_URL at a fresh PostgreSQL server is
all a newcomer does. SQLite needs nothing (the file is created on first connect). In production
the database is made by whoever provisions it (compose: the postgres image's POSTGRES_DB).
"""

from __future__ import annotations

import warnings
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection


class Command(BaseCommand):
    help = "Create the PostgreSQL database that DATABASE_URL names unless it exists (make run does this first)."
    requires_system_checks: list[str] = []  # checks may need the very database that is missing

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            return
        name = connection.settings_dict["NAME"]
        try:
            # Django's own way in when the database itself is missing (its test runner creates test_* so).
            # When even the `postgres` database is unreachable it warns before failing: the error says it.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                with connection._nodb_cursor() as cursor:  # noqa: SLF001
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                    if cursor.fetchone() is None:
                        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
                        self.stdout.write(f"Created the PostgreSQL database {name}.")
        except DatabaseError as exc:
            where = f"{connection.settings_dict['HOST'] or 'localhost'}:{connection.settings_dict['PORT'] or 5432}"
            raise CommandError(f"Could not make sure the database {name} exists on the PostgreSQL server at "
                               f"{where} ({str(exc).strip().splitlines()[0]}). Is the server running, and may "
                               f"this user create databases? Otherwise create it yourself: createdb {name}") from exc
