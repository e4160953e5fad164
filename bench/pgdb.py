"""PostgreSQL databases for benchmarks: created when missing, or recreated from scratch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse


@contextmanager
def _server_cursor(url: str) -> Iterator[Any]:
    """A cursor on the server's `postgres` database, in autocommit (CREATE/DROP DATABASE need it)."""
    import psycopg2

    admin = psycopg2.connect(url.replace(urlparse(url).path, "/postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            yield cur
    finally:
        admin.close()


def database_ensure(url: str) -> None:
    """Create the database of `url` unless it exists."""
    name = urlparse(url).path.lstrip("/")
    with _server_cursor(url) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')


def database_recreate(url: str) -> None:
    """Drop and create the database of `url` (it only ever holds generated data)."""
    name = urlparse(url).path.lstrip("/")
    with _server_cursor(url) as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
