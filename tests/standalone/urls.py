from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the standalone view fails")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("hello/", hello, name="hello"),
    path("broken/", broken, name="broken"),
]

handler404 = "logging_policy.views.not_found"
handler500 = "logging_policy.views.server_error"
