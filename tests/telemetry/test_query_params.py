"""The upload view reads its query string like request.GET does, without building a QueryDict."""

from __future__ import annotations

import pytest
from django.core.exceptions import TooManyFieldsSent
from django.test import RequestFactory

from telemetry.views import query_params


@pytest.mark.parametrize("query", [
    "session=abc&time=1717171717171&kff1005=-83.05&eml=owner%40example.com",
    "k=1&k=2&empty=&plus=a+b&pct=%E2%9C%93&raw=caf\u00c3\u00a9",  # repeated key, blank, '+', UTF-8 (escaped and raw)
    "",
    "noequals&x=%ZZ",
])
def test_query_params_match_request_get(query: str) -> None:
    request = RequestFactory().get("/api/torque/upload/t")
    request.META["QUERY_STRING"] = query
    expected = {key: values[-1] for key, values in request.GET.lists()}
    assert query_params(request) == expected


def test_too_many_fields_are_refused_as_by_django(settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    request = RequestFactory().get("/api/torque/upload/t", {"a": 1, "b": 2, "c": 3, "d": 4})
    with pytest.raises(TooManyFieldsSent):
        query_params(request)
