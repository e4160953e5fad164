"""The explorer's addresses, mounted at admin/logging_policy/explore/ by the project's urls.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from logging_policy.explore_views import explore_view

urlpatterns = [
    path("", admin.site.admin_view(explore_view), name="logging_policy_explore"),
    path("<slug:slug>/", admin.site.admin_view(explore_view), name="logging_policy_explore_saved"),
]
