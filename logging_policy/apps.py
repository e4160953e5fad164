from __future__ import annotations

from django.apps import AppConfig


class LoggingPolicyConfig(AppConfig):
    name = "logging_policy"
    verbose_name = "Logging policy"
