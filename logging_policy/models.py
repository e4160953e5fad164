"""The sampling policy as admins edit it: one active LoggingPolicy, its operation rules, the audit trail.

The admin edits these rows; processes never read them on the request path. They
use the cached snapshot from `logging_policy.policy` (see docs/policy.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from logging_policy.payload import Payload, policy_payload
from logging_policy.sampling import DEFAULT_BUDGET_PER_MINUTE, DEFAULT_KEY_FIELDS, KEY_FIELDS, TIERS
from logging_policy.vocabulary import vocabulary


def _rate_validators() -> list[Any]:
    message = "A rate is a fraction between 0 and 1 (0.05 keeps 5 %% of events); %(show_value)s is outside."
    return [MinValueValidator(0.0, message=message), MaxValueValidator(1.0, message=message)]


def _positive(what: str) -> MinValueValidator:
    return MinValueValidator(1, message=f"{what} must be a positive whole number (at least 1).")


def default_key_fields() -> list[str]:
    return list(DEFAULT_KEY_FIELDS)


class LoggingPolicy(models.Model):
    is_active = models.BooleanField(default=True, editable=False)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by one on every save; events carry it as sampling.policy_version."
    )
    default_sample_rate = models.FloatField(
        default=0.05, validators=_rate_validators(),
        help_text="Share of ordinary events kept for operations without a rule (0..1). "
                  "Higher keeps more events: more log volume.",
    )
    default_slow_threshold_ms = models.PositiveIntegerField(
        default=1000, validators=[_positive("The slow threshold")],
        help_text="Events slower than this (ms) are always kept, unless their operation sets its own threshold. "
                  "Lower keeps more events: more log volume.",
    )
    moderate_min_trips = models.PositiveIntegerField(
        default=20, validators=[_positive("The moderate tier threshold")],
        help_text="Lifetime trips from which a vehicle is 'moderate' (below it: 'light'). "
                  "Only moves volume when the moderate tier is always kept.",
    )
    heavy_min_trips = models.PositiveIntegerField(
        default=100, validators=[_positive("The heavy tier threshold")],
        help_text="Lifetime trips from which a vehicle is 'heavy'. With heavy always kept, "
                  "lower means more vehicles kept whole: more log volume.",
    )
    new_vehicle_days = models.PositiveIntegerField(
        default=30,
        help_text="Vehicles younger than this many days are kept at least at the new-vehicle rate (0 turns it off). "
                  "Higher keeps more events: more log volume.",
    )
    new_vehicle_rate = models.FloatField(
        default=0.25, validators=_rate_validators(),
        help_text="Minimum share of a new vehicle's events kept (0..1); an operation rate above it wins. "
                  "Higher keeps more events: more log volume.",
    )
    always_keep_tiers = models.JSONField(
        default=list, blank=True,
        help_text="Usage tiers whose events are always kept. Each tier added means more log volume.",
    )
    critical_events = models.JSONField(
        default=list, blank=True,
        help_text="Business facts that make an event always kept (errors always are, and so is policy_changed). "
                  "Each event added means more log volume.",
    )
    default_budget_per_minute = models.PositiveIntegerField(
        default=DEFAULT_BUDGET_PER_MINUTE, validators=[_positive("A budget")],
        help_text="Kept events a minute per sampling key and process, for client errors and sampled events: "
                  "a flood of one key is sampled down to this; a rarer key keeps its rate. Higher: more log "
                  "volume, more precise counts.",
    )
    key_fields = models.JSONField(
        default=default_key_fields, blank=True,
        help_text="Event fields that, with the operation, make a sampling key: each key has its own budget. "
                  "More fields: more keys, more log volume.",
    )
    dry_run = models.BooleanField(
        default=False,
        help_text="Preview: keep every event and stamp sampling.would_keep with what this policy would do. "
                  "On means all events are written: much more log volume.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sampling policy"
        verbose_name_plural = "sampling policy"
        permissions = [("change_sampling_policy", "Can edit the sampling policy (what events are kept)")]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                    name="logging_policy_one_active"),
        ]

    def __str__(self) -> str:
        return f"Sampling policy v{self.version}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.moderate_min_trips and self.heavy_min_trips and self.moderate_min_trips >= self.heavy_min_trips:
            errors["moderate_min_trips"] = (
                f"The moderate threshold ({self.moderate_min_trips} trips) must be below the heavy threshold "
                f"({self.heavy_min_trips} trips)."
            )
        unknown_tiers = sorted(set(self.always_keep_tiers or []) - set(TIERS))
        if unknown_tiers:
            errors["always_keep_tiers"] = f"Unknown tier(s): {', '.join(unknown_tiers)}. Known: {', '.join(TIERS)}."
        known_events = vocabulary().business_events
        unknown_events = sorted(set(self.critical_events or []) - set(known_events))
        if unknown_events:
            errors["critical_events"] = (
                f"Unknown event name(s): {', '.join(unknown_events)}. Known: {', '.join(known_events)}."
            )
        unknown_fields = sorted(set(self.key_fields or []) - set(KEY_FIELDS))
        if unknown_fields:
            errors["key_fields"] = f"Unknown key field(s): {', '.join(unknown_fields)}. Known: {', '.join(KEY_FIELDS)}."
        if errors:
            raise ValidationError(errors)

    def payload(self) -> Payload:
        """This policy with its rules as plain data (one query for the rules)."""
        return policy_payload(self, ((rule.operation, rule) for rule in self.rules.order_by("operation")))


class OperationRule(models.Model):
    policy = models.ForeignKey(LoggingPolicy, on_delete=models.CASCADE, related_name="rules")
    operation = models.CharField(
        max_length=100,
        validators=[RegexValidator(r"^[a-z0-9_.:-]+$", message="An operation name is lower-case letters, digits "
                                   "and _ . : - (for example telemetry_upload or trip_finalize).")],
        help_text="The event's `operation`: a view's (telemetry_upload), a Celery task's name "
                  "short name (trip_finalize) or an external call's (external_api.weather).",
    )
    sample_rate = models.FloatField(
        validators=_rate_validators(),
        help_text="Share of this operation's ordinary events kept (0..1). Higher: more log volume.",
    )
    slow_threshold_ms = models.PositiveIntegerField(
        null=True, blank=True, validators=[_positive("The slow threshold")],
        help_text="Events slower than this (ms) are always kept; empty uses the policy's default. "
                  "Lower: more log volume.",
    )
    always_keep = models.BooleanField(
        default=False, help_text="Keep every event of this operation. On: more log volume.",
    )
    budget_per_minute = models.PositiveIntegerField(
        null=True, blank=True, validators=[_positive("A budget")],
        help_text="Kept events a minute per key of this operation and process; empty uses the policy's "
                  "default budget. Higher: more log volume.",
    )

    class Meta:
        ordering = ["operation"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "operation"], name="logging_policy_rule_unique_operation"),
        ]

    def __str__(self) -> str:
        return self.operation


class PolicyChange(models.Model):
    """One saved edit of the policy: who, when, and the values before and after."""

    policy = models.ForeignKey(LoggingPolicy, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept apart from the foreign key so the record survives the user's deletion.
    changed_by_username = models.CharField(max_length=150, blank=True)
    version = models.PositiveIntegerField()
    before = models.JSONField(null=True)
    after = models.JSONField()
    diff = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"v{self.version} by {self.changed_by_username or 'unknown'} at {self.changed_at:%Y-%m-%d %H:%M:%S}"


class SavedQuery(models.Model):
    """An explorer query kept by name: data (field paths and operators as strings), not code.

    `definition` is the JSON of logging_policy/explore_definition.py; `$name` values are parameters
    given in the address (?name=...)."""

    slug = models.SlugField(max_length=80, unique=True,
                            help_text="Its address: /admin/logging_policy/explore/<slug>/.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    definition = models.JSONField(
        help_text='For example {"days": 30, "filters": [{"field": "error.code", "op": "exists"}], '
                  '"group_by": ["error.code"], "aggregate": "COUNT"}. Operators: = != > < contains exists; '
                  "aggregates: COUNT SUM AVG P50 P95 P99 MAX (with a numeric field); a value $name is a parameter.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved queries"

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from logging_policy.explore_definition import definition_check  # noqa: PLC0415 - model stays light
        from logging_policy.explore_query import QueryRefusedError  # noqa: PLC0415

        try:
            definition_check(self.definition)
        except QueryRefusedError as exc:
            raise ValidationError({"definition": str(exc)}) from None
