"""An item's revisions in the Studio: the list, two compared field by field, one restored (as a new
revision, through the edit rules, audited). A ModelAdmin mixin for ContentAdmin."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from content.models import Content
from content.services.editing import revision_restore
from content.services.revisions import access_revision, content_revisions, revision_compare
from csn.errors import ApplicationError

REVISIONS_SHOWN = 100


class RevisionsAdminMixin:
    def revision_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:pk>/revisions/", view(self.revisions_view), name="content_content_revisions"),
            path("<id:pk>/revisions/compare/", view(self.revisions_compare_view), name="content_content_compare"),
            path(
                "<id:pk>/revisions/<id:version_id>/restore/",
                view(self.revision_restore_view),
                name="content_content_restore",
            ),
        ]

    def _revision_content(self, request, pk) -> Content:
        content = get_object_or_404(Content, pk=pk)
        if not self.has_view_permission(request, content):
            raise PermissionDenied
        return content

    def _revision_context(self, request, content, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": content,
            "app_label": self.model._meta.app_label,
            "has_view_permission": True,
            **extra,
        }

    def revisions_view(self, request, pk):
        content = self._revision_content(request, pk)
        versions = list(content_revisions(content=content)[:REVISIONS_SHOWN])
        context = self._revision_context(
            request,
            content,
            title=f"Revisions of “{content.title}”",
            versions=versions,
            can_restore=self.has_change_permission(request, content),
        )
        return TemplateResponse(request, "admin/content/content/revisions.html", context)

    def revisions_compare_view(self, request, pk):
        content = self._revision_content(request, pk)
        try:
            older = access_revision(content=content, version_id=request.GET.get("from", ""))
            newer = access_revision(content=content, version_id=request.GET.get("to", ""))
        except ApplicationError as exc:
            messages.error(request, f"{exc.message} Pick two revisions from the list.")
            return HttpResponseRedirect(reverse("admin:content_content_revisions", args=[pk]))
        if older.revision.date_created > newer.revision.date_created:
            older, newer = newer, older
        context = self._revision_context(
            request,
            content,
            title=f"Compare revisions of “{content.title}”",
            older=older,
            newer=newer,
            changes=revision_compare(older=older, newer=newer),
            can_restore=self.has_change_permission(request, content),
        )
        return TemplateResponse(request, "admin/content/content/revision_compare.html", context)

    def revision_restore_view(self, request, pk, version_id):
        content = self._revision_content(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:content_content_revisions", args=[pk]))
        try:
            revision_restore(
                content=content,
                version_id=version_id,
                actor=request.user,
                loaded_version=request.POST.get("loaded_version") or None,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:content_content_revisions", args=[pk]))
        messages.success(request, "The revision was restored as a new revision; the history says so.")
        return HttpResponseRedirect(reverse("admin:content_content_change", args=[pk]))
