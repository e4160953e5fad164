"""`make run` on a PostgreSQL server that does not have the database yet: `ensure_database` creates it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)


def database_exists(name: str) -> bool:
    admin = psycopg2.connect(f"{SERVER}/postgres")
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        admin.close()


def test_a_missing_database_is_created_once_then_migrations_run() -> None:
    name = f"vt_ensure_{uuid.uuid4().hex[:8]}"
    url = f"{SERVER}/{name}"
    assert not database_exists(name)
    try:
        first = manage("ensure_database", database_url=url)
        assert first.stdout == f"Created the PostgreSQL database {name}.\n" and database_exists(name)
        assert manage("ensure_database", database_url=url).stdout == ""  # already there: nothing to say
        manage("migrate", "--noinput", database_url=url)  # the rest of `make migrate` works on it
    finally:
        admin = psycopg2.connect(f"{SERVER}/postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_sqlite_needs_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert manage("ensure_database", database_url=url).stdout == ""
    assert not (tmp_path / "db.sqlite3").exists()  # not even opened


def test_an_unreachable_server_is_a_clear_error_not_a_traceback() -> None:
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/volttracker"}  # nothing listens on port 1
    failed = subprocess.run([sys.executable, "manage.py", "ensure_database"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr and "Warning" not in failed.stderr
    assert "Could not make sure the database volttracker exists on the PostgreSQL server at 127.0.0.1:1" in failed.stderr
