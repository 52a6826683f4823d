"""Content items and their editorial workflow: the edit form, the workflow buttons, bulk actions."""

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from content.admin.audit import AuditLogInline
from content.admin.media import MediaInline
from content.admin.revisions import RevisionsAdminMixin
from content.admin.shared import (
    HLS_SCRIPTS,
    ServiceRefusalsAsMessages,
    adopt_saved,
    badge,
    file_response,
    hls_preview,
    media_preview,
)
from content.models import Content, ContentAuditLog, ContentDraft
from content.services import drafts
from content.services.editing import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    clean_tags,
    content_create,
    content_edit_conflict,
    content_update,
    content_version,
)
from content.services.rights import content_edit_refusal, content_transitions_for
from content.services.scheduling import content_schedule
from content.services.workflow import TRANSITIONS, content_transition
from csn.errors import ApplicationError

STATE_COLOURS = {
    Content.State.DRAFT: "#6b7280",
    Content.State.IN_REVIEW: "#b45309",
    Content.State.PUBLISHED: "#15803d",
    Content.State.ARCHIVED: "#374151",
}


class ContentForm(forms.ModelForm):
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. finals, nba, 2024")
    video_url = forms.URLField(required=False, max_length=500, assume_scheme="https", help_text="HLS manifest (.m3u8)")

    class Meta:
        model = Content
        fields = [*EDITABLE_FIELDS, *M2M_FIELDS]

    # The item's version when the page was loaded: a save over a newer one is refused (no lost update).
    loaded_version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["loaded_version"] = content_version(self.instance)
            draft = ContentDraft.objects.filter(content=self.instance).first()
            if draft is not None and self.instance.state == Content.State.PUBLISHED:
                # The form edits the draft revision; the live item is unchanged until it is published.
                for name, value in drafts.draft_values(draft).items():
                    self.initial[name] = value
            tags = self.initial.get("tags", self.instance.tags)
            self.initial["tags"] = ", ".join(tags or [])

    def clean_tags(self):
        return clean_tags(self.cleaned_data.get("tags") or "")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            conflict = content_edit_conflict(content_id=self.instance.pk, loaded_version=cleaned.get("loaded_version"))
            if conflict is not None:
                # Nothing is lost: the editor's input stays in the form; saving again replaces the newer save.
                self.data = self.data.copy()
                self.data["loaded_version"] = content_version(Content.objects.get(pk=self.instance.pk))
                raise forms.ValidationError(
                    f"{conflict.message} Or save again to replace their version with yours.", code=conflict.code
                )
        return cleaned


class ScheduleForm(forms.Form):
    """Publish at / unpublish at, to the minute, in the server's time zone."""

    publish_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    unpublish_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


@dataclass(frozen=True)
class HistoryLine:
    """One audit row in the shape Django's History page (admin/object_history.html) reads."""

    action_time: datetime
    user: object
    message: str

    @classmethod
    def of(cls, row: ContentAuditLog) -> "HistoryLine":
        return cls(action_time=row.created_at, user=row.actor, message=row.change_message())

    def get_change_message(self) -> str:
        return self.message


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000)


@admin.register(Content)
class ContentAdmin(RevisionsAdminMixin, ServiceRefusalsAsMessages, admin.ModelAdmin):
    form = ContentForm
    change_form_template = "admin/content/content/change_form.html"
    list_display = [
        "thumbnail_preview",
        "title",
        "type",
        "state_badge",
        "is_premium",
        "year",
        "team_names",
        "published_at",
        "updated_at",
    ]
    list_display_links = ["thumbnail_preview", "title"]
    list_filter = ["state", "type", "teams", "is_premium", "year"]
    search_fields = ["title", "slug", "description"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["game", "teams", "players"]
    prepopulated_fields = {"slug": ("title",)}
    list_select_related = ["game"]
    list_per_page = 50
    readonly_fields = [
        "state_badge",
        "review_note",
        "published_at",
        "publish_at",
        "unpublish_at",
        "thumbnail_preview_large",
        "video_preview",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["title", "slug", "type", "description", "year", "runtime_seconds", "tags", "loaded_version"]},
        ),
        ("Workflow", {"fields": ["state_badge", "review_note", "published_at", "publish_at", "unpublish_at"]}),
        ("Media", {"fields": ["thumbnail", "thumbnail_preview_large", "video_url", "video_preview"]}),
        ("Access", {"fields": ["is_premium", "available_from", "available_until"]}),
        ("Links", {"fields": ["game", "teams", "players"]}),
        ("Record", {"classes": ["collapse"], "fields": ["created_by", "created_at", "updated_by", "updated_at"]}),
    ]
    inlines = [MediaInline, AuditLogInline]

    class Media:
        js = HLS_SCRIPTS

    actions = ["submit_selected", "publish_selected", "reject_selected", "unpublish_selected", "archive_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("teams")

    # --- rights: the service's rules decide what the form lets you do ---

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is not None and obj.state == Content.State.PUBLISHED:
            return True  # editors change a published item through a draft revision (save_model)
        return obj is None or content_edit_refusal(user=request.user, content=obj) is None

    def _saves_to_draft(self, request, obj) -> bool:
        """A save of a published item goes to its draft revision when one exists, when asked ("Save as
        draft revision"), or when the user may not change the live item."""
        if obj.pk is None or obj.state != Content.State.PUBLISHED:
            return False
        return (
            "_save_draft" in request.POST
            or ContentDraft.objects.filter(content_id=obj.pk).exists()
            or content_edit_refusal(user=request.user, content=obj) is not None
        )

    def has_delete_permission(self, request, obj=None):
        # Deleting would erase the audit trail; editors archive instead.
        return request.user.is_superuser

    # --- list columns and previews ---

    @admin.display(description="State", ordering="state")
    def state_badge(self, content):
        return badge(content.get_state_display(), STATE_COLOURS[content.state])

    @admin.display(description="Teams")
    def team_names(self, content):
        return ", ".join(team.name for team in content.teams.all()) or "—"

    def _thumbnail_url(self, content):
        if not content.thumbnail:
            return None
        return reverse("admin:content_content_thumbnail", args=[content.pk])

    @admin.display(description="")
    def thumbnail_preview(self, content):
        return media_preview(self._thumbnail_url(content), "image/", height=40)

    @admin.display(description="Thumbnail preview")
    def thumbnail_preview_large(self, content):
        return media_preview(self._thumbnail_url(content), "image/", height=160)

    @admin.display(description="Video preview")
    def video_preview(self, content):
        if not content.video_url:
            return "—"
        return format_html(
            '{}<br><a href="{}" target="_blank" rel="noopener">{}</a>',
            hls_preview(content.video_url),
            content.video_url,
            Truncator(content.video_url).chars(80),
        )

    def history_view(self, request, object_id, extra_context=None):
        """Django's History page, read from the item's audit log, the same lines as the History below the
        form (every edit and transition, in words, with its note); Django's own log entries miss the
        workflow. Django's view still checks the rights and finds the item."""
        response = super().history_view(request, object_id, extra_context)
        if not isinstance(response, TemplateResponse):
            return response  # no such item: Django's redirect
        rows = response.context_data["object"].audit_log.select_related("actor").order_by("created_at", "id")
        paginator = self.get_paginator(request, rows, 100)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        page.object_list = [HistoryLine.of(row) for row in page.object_list]
        response.context_data.update(
            action_list=page,
            page_range=paginator.get_elided_page_range(page.number),
            pagination_required=paginator.count > 100,
        )
        return response

    # --- writes: through the services ---

    def save_model(self, request, obj, form, change):
        names = [*EDITABLE_FIELDS, *M2M_FIELDS]
        if change and self._saves_to_draft(request, obj):
            live = Content.objects.get(pk=obj.pk)
            changes = {name: form.cleaned_data[name] for name in drafts.DRAFTED_FIELDS if name in form.cleaned_data}
            drafts.draft_save(content=live, actor=request.user, changes=changes)
            if "thumbnail" in form.changed_data:
                messages.warning(request, "A thumbnail is not part of a draft revision: upload it as media.")
            messages.info(request, "Saved as a draft revision: the live item is unchanged until it is published.")
            adopt_saved(obj, live)
            return
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in names}
            saved = content_update(
                content=obj, actor=request.user, loaded_version=form.cleaned_data.get("loaded_version"), **changes
            )
        else:
            values = {name: form.cleaned_data.get(name) for name in names if name in form.cleaned_data}
            values = {k: v for k, v in values.items() if v not in (None, "")}
            saved = content_create(actor=request.user, **values)
        adopt_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Teams and players were set by the service (and audited there); inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["workflow_transitions"] = content_transitions_for(user=request.user, content=obj)
            context["workflow_url"] = reverse("admin:content_content_transition", args=[obj.pk])
            draft = ContentDraft.objects.filter(content=obj).first() if obj.state == Content.State.PUBLISHED else None
            context["pending_draft"] = draft
            context["draft_fields"] = [ContentAuditLog(changed_fields=list(draft.changes)).summary()] if draft else []
            context["draft_transitions"] = drafts.draft_moves_for(user=request.user, draft=draft)
            context["can_schedule"] = request.user.has_perm("content.publish_content") and obj.state in (
                Content.State.IN_REVIEW,
                Content.State.PUBLISHED,
            )
            context["schedule_url"] = reverse("admin:content_content_schedule", args=[obj.pk])
            context["revisions_url"] = reverse("admin:content_content_revisions", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        own = [
            path(
                "<id:pk>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="content_content_transition",
            ),
            path(
                "<id:pk>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="content_content_thumbnail",
            ),
            path("<id:pk>/schedule/", self.admin_site.admin_view(self.schedule_view), name="content_content_schedule"),
            *self.revision_urls(),
        ]
        return own + super().get_urls()

    def transition_view(self, request, pk):
        """The workflow buttons on an item's page."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:content_content_change", args=[pk]))
        content = get_object_or_404(Content, pk=pk)
        if not self.has_view_permission(request, content):
            raise PermissionDenied
        name = request.POST.get("transition", "")
        note = request.POST.get("note", "")
        try:
            if name in drafts.DRAFT_MOVES:
                said = drafts.draft_move(content=content, actor=request.user, name=name, note=note)
            else:
                content_transition(content=content, actor=request.user, name=name, note=note)
                said = f"“{content.title}” is now {content.get_state_display().lower()}."
        except ApplicationError as exc:  # a refusal is a message on the page, not a 500
            messages.error(request, exc.message)
        else:
            messages.success(request, said)
        return HttpResponseRedirect(reverse("admin:content_content_change", args=[pk]))

    def schedule_view(self, request, pk):
        """The schedule box on an item's page: publish at / unpublish at (empty clears)."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:content_content_change", args=[pk]))
        content = get_object_or_404(Content, pk=pk)
        if not self.has_view_permission(request, content):
            raise PermissionDenied
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Enter times as YYYY-MM-DD HH:MM.")
        else:
            try:
                content_schedule(content=content, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Schedule saved: beat makes the move at that minute.")
        return HttpResponseRedirect(reverse("admin:content_content_change", args=[pk]))

    def thumbnail_view(self, request, pk):
        content = get_object_or_404(Content, pk=pk)
        if not self.has_view_permission(request, content):
            raise PermissionDenied
        return file_response(content.thumbnail)

    # --- bulk workflow actions ---

    def _bulk(self, request, queryset, name, note=""):
        done, failed = 0, []
        for content in queryset:
            try:
                content_transition(content=content, actor=request.user, name=name, note=note)
                done += 1
            except ApplicationError as exc:
                failed.append((content.title, exc.message))
        label = TRANSITIONS[name].label
        if done:
            messages.success(request, f"{label}: {done} item(s) done.")
        if failed:
            messages.error(
                request,
                format_html(
                    "{} refused for {} item(s):<ul>{}</ul>",
                    label,
                    len(failed),
                    format_html_join("", "<li>{}: {}</li>", failed),
                ),
            )

    @admin.action(description="Submit selected for review")
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description="Approve and publish selected")
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, "publish")

    @admin.action(description="Send selected back to draft (with a reason)")
    def reject_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._bulk(request, queryset, "reject", note=form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Send back to draft",
            "queryset": queryset,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/content/content/reject_confirmation.html", context)

    @admin.action(description="Unpublish selected")
    def unpublish_selected(self, request, queryset):
        self._bulk(request, queryset, "unpublish")

    @admin.action(description="Archive selected")
    def archive_selected(self, request, queryset):
        self._bulk(request, queryset, "archive")
