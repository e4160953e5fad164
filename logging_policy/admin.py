"""The sampling policy in the admin: one page with its operation rules inline, and its change history.

Editing needs `logging_policy.change_sampling_policy`; being staff is not enough.
Viewing needs that or the model's view permission.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Field, Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from logging_policy.changes import (
    policy_active_get_or_create,
    policy_change_record,
    policy_change_summary,
    policy_stale_message,
    policy_version_next,
)
from logging_policy.models import LoggingPolicy, OperationRule, PolicyChange, SavedQuery
from logging_policy.overview import projected_summary, sampling_overview_view
from logging_policy.policy import CHECK_INTERVAL_S, policy_heal_bound_s
from logging_policy.sampling import KEY_FIELDS, TIERS
from logging_policy.vocabulary import vocabulary

EDIT_PERMISSION = "logging_policy.change_sampling_policy"


def can_edit(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(EDIT_PERMISSION)


def can_view(request: HttpRequest, model: type[Model]) -> bool:
    return can_edit(request) or request.user.has_perm(f"logging_policy.view_{model._meta.model_name}")


def _choices_field(name: str, known: tuple[str, ...], what: str) -> forms.MultipleChoiceField:
    field = LoggingPolicy._meta.get_field(name)
    assert isinstance(field, Field)  # a list column of the policy, not a relation
    return forms.MultipleChoiceField(
        choices=[(value, value) for value in known],
        # The class reaches the group's wrapper; policy_form.css keeps each choice on one line.
        widget=forms.CheckboxSelectMultiple(attrs={"class": "policy-choices"}),
        required=False,
        help_text=field.help_text,
        error_messages={"invalid_choice": f"Unknown {what} %(value)s. Known: {', '.join(known)}."},
    )


class LoggingPolicyForm(forms.ModelForm):
    always_keep_tiers = _choices_field("always_keep_tiers", TIERS, "tier")
    critical_events = forms.MultipleChoiceField()  # made in __init__: the apps register their facts after this
    key_fields = _choices_field("key_fields", KEY_FIELDS, "key field")

    # The version the page was loaded at: a save from an older one is refused (two admins at once).
    edited_version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = LoggingPolicy
        fields = ["default_sample_rate", "default_slow_threshold_ms", "moderate_min_trips", "heavy_min_trips",
                  "always_keep_tiers", "new_vehicle_days", "new_vehicle_rate", "critical_events", "dry_run",
                  "default_budget_per_minute", "key_fields"]

    class Media:
        css = {"all": ["logging_policy/policy_form.css"]}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["critical_events"] = _choices_field("critical_events", vocabulary().business_events, "event name")
        self.fields["edited_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        edited = cleaned.get("edited_version")
        if self.instance.pk is not None and edited is not None and (
                stale := policy_stale_message(policy_pk=self.instance.pk, edited_version=edited)):
            raise forms.ValidationError(stale, code="stale")
        return cleaned


class OperationRuleInline(admin.TabularInline):
    model = OperationRule
    extra = 1

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request, LoggingPolicy)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request)


@admin.register(LoggingPolicy)
class LoggingPolicyAdmin(admin.ModelAdmin):
    form = LoggingPolicyForm
    inlines = [OperationRuleInline]
    readonly_fields = ["version", "updated_at", "effect", "projected", "recent_changes"]
    fieldsets = [
        (None, {"fields": ["version", "updated_at", "dry_run", "effect", "edited_version"]}),
        ("Rates", {"fields": ["default_sample_rate", "new_vehicle_days", "new_vehicle_rate"]}),
        ("Always kept", {"fields": ["default_slow_threshold_ms", "critical_events", "always_keep_tiers"]}),
        ("Budgets", {"fields": ["default_budget_per_minute", "key_fields", "projected"],
                     "description": "Client errors and sampled events are counted per key (the operation and "
                                    "these fields); a key over its budget is sampled down to it, each kept "
                                    "event weighted by 1 / its keep probability. An operation's rule may set "
                                    "its own budget."}),
        ("Usage tiers", {"fields": ["moderate_min_trips", "heavy_min_trips"],
                         "description": "light: fewer trips than moderate; heavy: at least the heavy threshold."}),
        ("History", {"fields": ["recent_changes"]}),
    ]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request, LoggingPolicy) or can_view(request, PolicyChange)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request, LoggingPolicy)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one active policy, created by the migration (or on first visit)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """There is one policy: the list is its page."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        policy = policy_active_get_or_create()
        return HttpResponseRedirect(reverse("admin:logging_policy_loggingpolicy_change", args=[policy.pk]))

    def get_urls(self) -> list[URLPattern]:
        def overview(request: HttpRequest) -> HttpResponse:
            return sampling_overview_view(request, model_admin=self, policy_pk=policy_active_get_or_create().pk)

        return [path("overview/", self.admin_site.admin_view(overview), name="logging_policy_sampling_overview"),
                *super().get_urls()]

    @admin.display(description="Effect")
    def effect(self, obj: LoggingPolicy) -> str:
        return format_html("<a href='{}' id='sampling-overview-link'>Sampling overview</a>: events seen, kept and "
                           "would keep per operation and reason, last hour and day",
                           reverse("admin:logging_policy_sampling_overview"))

    @admin.display(description="Projected kept events per day")
    def projected(self, obj: LoggingPolicy) -> str:
        return projected_summary(policy=obj.payload())

    @admin.display(description="Recent changes")
    def recent_changes(self, obj: LoggingPolicy) -> str:
        changes = obj.changes.all()[:5]
        rows = format_html_join("", "<li><a href='{}'>{}</a></li>", (
            (reverse("admin:logging_policy_policychange_change", args=[c.pk]), str(c)) for c in changes
        ))
        link = reverse("admin:logging_policy_policychange_changelist")
        return format_html("<ul>{}</ul><a href='{}'>Full change history</a>", rows, link)

    def save_model(self, request: HttpRequest, obj: LoggingPolicy, form: forms.ModelForm, change: bool) -> None:
        request._policy_before = policy_version_next(policy=obj)  # type: ignore[attr-defined]  # noqa: SLF001 - read in save_related
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)

        def tell(published: bool) -> None:
            if published:
                messages.info(request, f"Policy v{form.instance.version} is in force here now and in every "
                                       f"process within {CHECK_INTERVAL_S:g} seconds.")
            else:
                messages.warning(request, "Saved, but the shared cache (Redis) could not be reached: every "
                                          f"process applies this policy within {policy_heal_bound_s():g} seconds "
                                          "of it coming back.")

        policy_change_record(policy=form.instance, before=request._policy_before,  # type: ignore[attr-defined]  # noqa: SLF001
                             user=request.user, on_published=tell)


@admin.register(PolicyChange)
class PolicyChangeAdmin(admin.ModelAdmin):
    """The audit trail: read-only."""

    list_display = ["changed_at", "changed_by_username", "version", "summary"]
    list_filter = ["changed_at"]
    readonly_fields = ("changed_at", "changed_by_username", "changed_by", "version", "diff", "before", "after")
    fields = readonly_fields

    @admin.display(description="What changed")
    def summary(self, obj: PolicyChange) -> str:
        return policy_change_summary(obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request, PolicyChange)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request, PolicyChange)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SavedQuery)
class SavedQueryAdmin(admin.ModelAdmin):
    """Explorer queries kept by name: the seeded seven and the admins' own (docs/queries.md)."""

    list_display = ["title", "slug", "explore"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "description", "definition"]

    @admin.display(description="Explorer")
    def explore(self, obj: SavedQuery) -> str:
        return format_html("<a href='{}'>Run</a>", reverse("logging_policy_explore_saved", args=[obj.slug]))
