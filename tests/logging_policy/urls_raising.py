"""The project's URLs plus a view that raises, to test what the middleware makes of it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from volttracker.urls import handler404, handler500, urlpatterns as project_urls


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view fell over")


urlpatterns = [*project_urls, path("explode/", explode, name="explode")]
__all__ = ("handler404", "handler500", "urlpatterns")
