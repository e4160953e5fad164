"""docs/error-codes.md lists exactly the taxonomy in logging_policy/error_codes.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from logging_policy.error_codes import ERROR_CODES, ErrorCode, classify_exception

DOC = Path(__file__).resolve().parents[2] / "docs" / "error-codes.md"
RANGES = {"0": "validation", "1": "external_api", "2": "database", "3": "parsing", "4": "business", "5": "system"}


def doc_row(e: ErrorCode) -> str:
    yes = {True: "yes", False: "no"}
    return (f"| {e.code} | {e.name} | {e.category} | {e.severity} | {yes[e.alert]} | {yes[e.retriable]} "
            f"| {e.http_status} | {e.description} |")


def test_error_code_doc_equals_the_code() -> None:
    documented = [line for line in DOC.read_text().splitlines() if line.startswith("| E")]
    assert documented == [doc_row(e) for e in ERROR_CODES.values()]


def test_each_code_sits_in_its_categorys_range() -> None:
    assert {code: e.category.value for code, e in ERROR_CODES.items()} == {
        code: RANGES[code[1]] for code in ERROR_CODES}


@pytest.mark.parametrize(("exc_name", "expected"), [
    ("OperationalError", "E200"), ("IntegrityError", "E201"), ("DatabaseError", "E202"), ("KeyError", "E500")])
def test_exceptions_map_to_codes(exc_name: str, expected: str) -> None:
    from django import db

    exc_type = getattr(db, exc_name, None) or KeyError
    assert classify_exception(exc_type("boom")).code == expected


@pytest.mark.parametrize(("sqlstate", "expected"), [
    ("57014", "E203"), ("55P03", "E203"), ("40P01", "E204"), ("40001", "E204"), ("08006", "E200")])
def test_timeouts_and_deadlocks_have_their_codes_as_django_raises_them(sqlstate: str, expected: str) -> None:
    """Django raises its own OperationalError from the driver's, which carries the SQLSTATE: a timed-out
    query is E203, a deadlock E204, a dropped connection stays E200."""
    from django import db

    class DriverError(Exception):
        pgcode = sqlstate

    try:
        raise db.OperationalError("canceling statement due to lock timeout") from DriverError()
    except db.OperationalError as exc:
        assert classify_exception(exc).code == expected
