"""CSV imports of schedules (games) and rosters (players): upload, the dry run's report, import."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from content.admin.shared import badge
from content.models import ImportJob
from content.services.imports import COLUMNS, import_commit_request, import_progress, import_start
from csn.errors import ApplicationError

STATUS_COLOURS = {
    ImportJob.Status.CHECKING: "#7c3aed",
    ImportJob.Status.CHECKED: "#1d4ed8",
    ImportJob.Status.INVALID: "#b91c1c",
    ImportJob.Status.IMPORTING: "#7c3aed",
    ImportJob.Status.DONE: "#15803d",
    ImportJob.Status.FAILED: "#b91c1c",
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices, label="What the file holds")
    file = forms.FileField(label="CSV file (UTF-8)", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))


def _may_import(user) -> bool:
    return (
        user.is_active and user.is_staff and (user.has_perm("content.add_game") or user.has_perm("content.add_player"))
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "original_name",
        "status_badge",
        "total_rows",
        "created_count",
        "updated_count",
        "error_count",
        "created_by",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]

    def has_view_permission(self, request, obj=None):
        return _may_import(request.user)

    def has_add_permission(self, request):
        return _may_import(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return _may_import(request.user)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, job):
        return badge(job.get_status_display(), STATUS_COLOURS[job.status])

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/progress/", view(self.progress_view), name="content_importjob_progress"),
            path("<id:pk>/commit/", view(self.commit_view), name="content_importjob_commit"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "columns": COLUMNS, **extra}

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = import_start(actor=request.user, kind=form.cleaned_data["kind"], file=form.cleaned_data["file"])
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return HttpResponseRedirect(reverse("admin:content_importjob_change", args=[job.pk]))
        context = self._context(request, title="Import games or players from CSV", form=form)
        return TemplateResponse(request, "admin/content/importjob/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=object_id) if str(object_id).isdigit() else None
        if job is None:
            return HttpResponseRedirect(reverse("admin:content_importjob_changelist"))
        context = self._context(
            request,
            title=str(job),
            job=job,
            progress=import_progress(job=job),
            progress_url=reverse("admin:content_importjob_progress", args=[job.pk]),
            commit_url=reverse("admin:content_importjob_commit", args=[job.pk]),
        )
        return TemplateResponse(request, "admin/content/importjob/job.html", context)

    def progress_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(import_progress(job=get_object_or_404(ImportJob, pk=pk)))

    def commit_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=pk)
        if request.method == "POST":
            try:
                import_commit_request(job=job, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:content_importjob_change", args=[pk]))
