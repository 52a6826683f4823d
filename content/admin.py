"""The editors' CMS. Every workflow move and every content write goes through content.services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from content import services
from content.models import Content, ContentAuditLog, Game, MediaAsset, Player, Team
from csn.errors import ApplicationError

STATE_COLOURS = {
    Content.State.DRAFT: "#6b7280",
    Content.State.IN_REVIEW: "#b45309",
    Content.State.PUBLISHED: "#15803d",
    Content.State.ARCHIVED: "#374151",
}
MEDIA_COLOURS = {
    MediaAsset.Status.PENDING: "#b45309",
    MediaAsset.Status.UPLOADED: "#1d4ed8",
    MediaAsset.Status.PROCESSING: "#7c3aed",
    MediaAsset.Status.READY: "#15803d",
    MediaAsset.Status.FAILED: "#b91c1c",
}


def _badge(label: str, colour: str):
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-size:11px;'
        'white-space:nowrap">{}</span>',
        colour,
        label,
    )


def _human_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def _media_preview(url: str | None, content_type: str, *, height: int = 60):
    if not url:
        return "—"
    if content_type.startswith("image/"):
        return format_html('<img src="{}" style="max-height:{}px;border-radius:4px" alt="">', url, height)
    if content_type.startswith("video/"):
        return format_html('<video src="{}" style="max-height:{}px" controls preload="none"></video>', url, height * 3)
    return format_html('<a href="{}">download</a>', url)


def _file_response(field_file):
    """Stream a stored file to staff: local files are not served publicly; the bucket gets a signed URL."""
    if not field_file:
        raise Http404
    url = field_file.storage.url(field_file.name)
    if url.startswith(("http://", "https://")):
        return HttpResponseRedirect(url)
    try:
        return FileResponse(field_file.storage.open(field_file.name, "rb"))
    except FileNotFoundError as exc:
        raise Http404 from exc


def _run_service(request, call) -> bool:
    """Run a service call from the admin; refusals become an error message, not a 500."""
    try:
        call()
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return False
    return True


# --- catalogue ------------------------------------------------------------------------------


class PlayerInline(admin.TabularInline):
    model = Player
    extra = 0
    fields = ["number", "name", "position"]
    ordering = ["number", "name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["logo_preview", "name", "sport", "player_count"]
    list_display_links = ["logo_preview", "name"]
    list_filter = ["sport"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PlayerInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(player_count=Count("players")).order_by("name")

    @admin.display(description="Players", ordering="player_count")
    def player_count(self, team):
        return team.player_count

    @admin.display(description="")
    def logo_preview(self, team):
        return _media_preview(team.logo.url if team.logo else None, "image/", height=28)


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "position", "team"]
    list_filter = ["team__sport", "position"]
    search_fields = ["name", "team__name"]
    autocomplete_fields = ["team"]
    list_select_related = ["team"]


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sport", "status_badge", "starts_at", "score", "venue"]
    list_filter = ["status", "sport"]
    search_fields = ["home_team__name", "away_team__name", "venue"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["home_team", "away_team"]
    list_select_related = ["home_team", "away_team"]
    ordering = ["-starts_at"]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, game):
        colour = {"live": "#b91c1c", "final": "#374151", "postponed": "#6b7280"}.get(game.status, "#1d4ed8")
        return _badge(game.get_status_display(), colour)

    @admin.display(description="Score")
    def score(self, game):
        return f"{game.away_score} - {game.home_score}"


# --- content --------------------------------------------------------------------------------


class AuditLogInline(admin.TabularInline):
    model = ContentAuditLog
    verbose_name_plural = "History"
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "from_state", "to_state", "changed_fields", "note"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class MediaInline(admin.TabularInline):
    model = MediaAsset
    verbose_name_plural = "Media (upload in Media assets)"
    extra = 0
    can_delete = False
    fields = ["preview", "original_name", "status_badge", "content_type", "size", "error"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Preview")
    def preview(self, asset):
        return MediaAssetAdmin.preview_for(asset)

    @admin.display(description="Status")
    def status_badge(self, asset):
        return _badge(asset.get_status_display(), MEDIA_COLOURS[asset.status])

    @admin.display(description="Size")
    def size(self, asset):
        return _human_size(asset.size_bytes)


class ContentForm(forms.ModelForm):
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. finals, nba, 2024")
    video_url = forms.URLField(required=False, max_length=500, assume_scheme="https", help_text="HLS manifest (.m3u8)")

    class Meta:
        model = Content
        fields = [*services.EDITABLE_FIELDS, *services.M2M_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self):
        return services.clean_tags(self.cleaned_data.get("tags") or "")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000)


@admin.register(Content)
class ContentAdmin(admin.ModelAdmin):
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
        "thumbnail_preview_large",
        "video_preview",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["title", "slug", "type", "description", "year", "runtime_seconds", "tags"]}),
        ("Workflow", {"fields": ["state_badge", "review_note", "published_at"]}),
        ("Media", {"fields": ["thumbnail", "thumbnail_preview_large", "video_url", "video_preview"]}),
        ("Access", {"fields": ["is_premium", "available_from", "available_until"]}),
        ("Links", {"fields": ["game", "teams", "players"]}),
        ("Record", {"classes": ["collapse"], "fields": ["created_by", "created_at", "updated_by", "updated_at"]}),
    ]
    inlines = [MediaInline, AuditLogInline]
    actions = ["submit_selected", "publish_selected", "reject_selected", "unpublish_selected", "archive_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("teams")

    # --- rights: the service's rules decide what the form lets you do ---

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or services.content_edit_refusal(user=request.user, content=obj) is None

    def has_delete_permission(self, request, obj=None):
        # Deleting would erase the audit trail; editors archive instead.
        return request.user.is_superuser

    # --- list columns and previews ---

    @admin.display(description="State", ordering="state")
    def state_badge(self, content):
        return _badge(content.get_state_display(), STATE_COLOURS[content.state])

    @admin.display(description="Teams")
    def team_names(self, content):
        return ", ".join(team.name for team in content.teams.all()) or "—"

    def _thumbnail_url(self, content):
        if not content.thumbnail:
            return None
        return reverse("admin:content_content_thumbnail", args=[content.pk])

    @admin.display(description="")
    def thumbnail_preview(self, content):
        return _media_preview(self._thumbnail_url(content), "image/", height=40)

    @admin.display(description="Thumbnail preview")
    def thumbnail_preview_large(self, content):
        return _media_preview(self._thumbnail_url(content), "image/", height=160)

    @admin.display(description="Video preview")
    def video_preview(self, content):
        if not content.video_url:
            return "—"
        return format_html(
            '<video src="{0}" controls preload="none" style="max-height:200px"></video><br>'
            '<a href="{0}" target="_blank" rel="noopener">{1}</a>',
            content.video_url,
            Truncator(content.video_url).chars(80),
        )

    # --- writes: through the services ---

    def save_model(self, request, obj, form, change):
        names = [*services.EDITABLE_FIELDS, *services.M2M_FIELDS]
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in names}
            saved = services.content_update(content=obj, actor=request.user, **changes)
        else:
            values = {name: form.cleaned_data.get(name) for name in names if name in form.cleaned_data}
            values = {k: v for k, v in values.items() if v not in (None, "")}
            saved = services.content_create(actor=request.user, **values)
        # The admin goes on with `obj` (change message, redirect): make it the saved row.
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding, obj._state.db = False, saved._state.db

    def save_related(self, request, form, formsets, change):
        # Teams and players were set by the service (and audited there); inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:  # the whole save was rolled back; say why
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["workflow_transitions"] = services.content_transitions_for(user=request.user, content=obj)
            context["workflow_url"] = reverse("admin:content_content_transition", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="content_content_transition",
            ),
            path(
                "<int:pk>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="content_content_thumbnail",
            ),
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
        if _run_service(
            request, lambda: services.content_transition(content=content, actor=request.user, name=name, note=note)
        ):
            messages.success(request, f"“{content.title}” is now {content.get_state_display().lower()}.")
        return HttpResponseRedirect(reverse("admin:content_content_change", args=[pk]))

    def thumbnail_view(self, request, pk):
        content = get_object_or_404(Content, pk=pk)
        if not self.has_view_permission(request, content):
            raise PermissionDenied
        return _file_response(content.thumbnail)

    # --- bulk workflow actions ---

    def _bulk(self, request, queryset, name, note=""):
        done, failed = 0, []
        for content in queryset:
            try:
                services.content_transition(content=content, actor=request.user, name=name, note=note)
                done += 1
            except ApplicationError as exc:
                failed.append((content.title, exc.message))
        label = services.TRANSITIONS[name].label
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


# --- media ----------------------------------------------------------------------------------


class MediaAssetForm(forms.ModelForm):
    class Meta:
        model = MediaAsset
        fields = ["file", "folder_path", "tags", "content"]

    tags = forms.CharField(required=False, help_text="Comma-separated")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("file")
            if not self.is_bound:
                self.initial["tags"] = ", ".join(self.instance.tags or [])
        else:
            self.fields["file"].required = True

    def clean_tags(self):
        return services.clean_tags(self.cleaned_data.get("tags") or "")

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file is not None and hasattr(file, "content_type"):
            try:
                services.media_validate(content_type=file.content_type, size_bytes=file.size)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return file


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    form = MediaAssetForm
    list_display = [
        "list_preview",
        "__str__",
        "status_badge",
        "content_type",
        "size",
        "folder_path",
        "content",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["status", "content_type"]
    search_fields = ["original_name", "folder_path", "content__title"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["content"]
    list_select_related = ["content", "uploaded_by"]
    readonly_fields = [
        "large_preview",
        "status_badge",
        "error",
        "original_name",
        "content_type",
        "size",
        "checksum_sha256",
        "uploaded_by",
        "created_at",
        "updated_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["file", "folder_path", "tags", "content"]
        return [
            "large_preview",
            "status_badge",
            "error",
            "original_name",
            "content_type",
            "size",
            "checksum_sha256",
            "folder_path",
            "tags",
            "content",
            "uploaded_by",
            "created_at",
            "updated_at",
        ]

    @staticmethod
    def preview_for(asset, *, height=40):
        if not asset.file or asset.status in (MediaAsset.Status.PENDING, MediaAsset.Status.FAILED):
            return "—"
        return _media_preview(
            reverse("admin:content_mediaasset_file", args=[asset.pk]), asset.content_type, height=height
        )

    @admin.display(description="")
    def list_preview(self, asset):
        return self.preview_for(asset)

    @admin.display(description="Preview")
    def large_preview(self, asset):
        return self.preview_for(asset, height=160)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, asset):
        return _badge(asset.get_status_display(), MEDIA_COLOURS[asset.status])

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, asset):
        return _human_size(asset.size_bytes)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.media_asset_update(
                asset=obj,
                actor=request.user,
                folder_path=data["folder_path"],
                tags=data["tags"],
                content=data["content"],
            )
        else:
            saved = services.media_upload(
                actor=request.user,
                file=data["file"],
                folder_path=data["folder_path"],
                tags=data["tags"],
                content=data["content"],
            )
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding, obj._state.db = False, saved._state.db

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def get_urls(self):
        own = [
            path("<int:pk>/file/", self.admin_site.admin_view(self.file_view), name="content_mediaasset_file"),
        ]
        return own + super().get_urls()

    def file_view(self, request, pk):
        asset = get_object_or_404(MediaAsset, pk=pk)
        if not self.has_view_permission(request, asset):
            raise PermissionDenied
        return _file_response(asset.file)


@admin.register(ContentAuditLog)
class ContentAuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "content", "actor", "action", "from_state", "to_state", "changed", "note"]
    list_filter = ["action", "to_state"]
    search_fields = ["content__title", "actor__email", "note"]
    date_hierarchy = "created_at"
    list_select_related = ["content", "actor"]

    @admin.display(description="Changed fields")
    def changed(self, row):
        return ", ".join(row.changed_fields)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
