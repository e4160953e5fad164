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


@pytest.mark.parametrize(("sqlstate", "expected"), [("57014", "E203"), ("55P03", "E203"), ("08006", "E200")])
def test_a_timed_out_query_is_e203_as_django_raises_it(sqlstate: str, expected: str) -> None:
    """Django raises its own OperationalError from the driver's, which carries the SQLSTATE."""
    from django import db

    class DriverError(Exception):
        pgcode = sqlstate

    try:
        raise db.OperationalError("canceling statement due to lock timeout") from DriverError()
    except db.OperationalError as exc:
        assert classify_exception(exc).code == expected
