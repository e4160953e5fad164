"""The vehicle admin's track-log upload: a form on the change page, a thin view around the import service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from logging_policy.error_codes import CodedError
from telemetry.models import Vehicle
from telemetry.tracklog_import import tracklog_import
from volttracker.db_timeouts import statement_timeout_set_local


class TracklogUploadForm(forms.Form):
    file = forms.FileField(label="Track log (CSV)",
                           help_text="A trackLog-….csv file from the phone (docs/import.md); one drive per file.")
    tz = forms.CharField(label="Time zone", required=False, max_length=64,
                         help_text="Only for a log whose GPS Time names no zone: an IANA name, "
                                   "e.g. America/Los_Angeles.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.TRACKLOG_UPLOAD_MAX_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit here is {limit} MB "
                "(TRACKLOG_UPLOAD_MAX_MB). Import larger files with manage.py import_tracklog.")
        return upload


class TracklogImportMixin(admin.ModelAdmin):
    """For VehicleAdmin: the form under the vehicle's own, and the URL it posts to."""

    change_form_template = "admin/telemetry/vehicle/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_tracklog_view)  # staff only, CSRF-checked
        return [path("<path:object_id>/import-tracklog/", view, name="telemetry_vehicle_import_tracklog"),
                *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {**(extra_context or {}), "tracklog_form": TracklogUploadForm()}
        return super().change_view(request, object_id, form_url, context)

    def import_tracklog_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        vehicle = get_object_or_404(Vehicle, pk=object_id)
        if not self.has_change_permission(request, vehicle):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:telemetry_vehicle_change", args=[vehicle.pk]))
        if request.method != "POST":
            return back
        form = TracklogUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))  # ErrorList yields the messages
            return back
        upload = form.cleaned_data["file"]
        try:
            with transaction.atomic():
                # A big file's COPY and finalization may rightly run past the web requests' statement limit.
                statement_timeout_set_local(0)
                result = tracklog_import(vehicle=vehicle, data=upload.read(), name=upload.name,
                                         tz=form.cleaned_data["tz"] or None)
        except CodedError as exc:  # not a track log: the message names the line and the reason
            messages.error(request, f"{upload.name} was not imported: {exc.message}. Nothing of it was stored.")
        else:
            messages.success(request, result.summary())
        return back
