"""Media assets: uploads through the admin, previews, and the assets listed on an item's page."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from content.admin.shared import (
    HLS_SCRIPTS,
    ServiceRefusalsAsMessages,
    adopt_saved,
    badge,
    file_response,
    human_size,
    media_preview,
)
from content.models import MediaAsset, MediaRendition
from content.services.editing import clean_tags
from content.services.media import media_asset_update, media_upload, media_validate
from content.services.renditions import image_check
from csn.errors import ApplicationError

MEDIA_COLOURS = {
    MediaAsset.Status.PENDING: "#b45309",
    MediaAsset.Status.UPLOADED: "#1d4ed8",
    MediaAsset.Status.PROCESSING: "#7c3aed",
    MediaAsset.Status.READY: "#15803d",
    MediaAsset.Status.FAILED: "#b91c1c",
}


def asset_preview(asset: MediaAsset, *, height: int = 40):
    """Served through the admin (staff only); nothing to show until the bytes are in."""
    if not asset.file or asset.status in (MediaAsset.Status.PENDING, MediaAsset.Status.FAILED):
        return "—"
    return media_preview(reverse("admin:content_mediaasset_file", args=[asset.pk]), asset.content_type, height=height)


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
        return asset_preview(asset)

    @admin.display(description="Status")
    def status_badge(self, asset):
        return badge(asset.get_status_display(), MEDIA_COLOURS[asset.status])

    @admin.display(description="Size")
    def size(self, asset):
        return human_size(asset.size_bytes)


class MediaAssetForm(forms.ModelForm):
    class Meta:
        model = MediaAsset
        fields = ["file", "folder_path", "tags", "content"]

    tags = forms.CharField(required=False, help_text="Comma-separated")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("file", None)  # absent when the admin builds the form without it
            if not self.is_bound:
                self.initial["tags"] = ", ".join(self.instance.tags or [])
        else:
            self.fields["file"].required = True

    def clean_tags(self):
        return clean_tags(self.cleaned_data.get("tags") or "")

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file is not None and hasattr(file, "content_type"):
            try:
                media_validate(content_type=file.content_type, size_bytes=file.size)
                if file.content_type.startswith("image/"):
                    image_check(file)  # not an image, or a decompression bomb
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return file


@admin.register(MediaAsset)
class MediaAssetAdmin(ServiceRefusalsAsMessages, admin.ModelAdmin):
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

    class Media:
        js = HLS_SCRIPTS

    readonly_fields = [
        "large_preview",
        "status_badge",
        "error",
        "original_name",
        "content_type",
        "size",
        "checksum_sha256",
        "rendition_list",
        "uploaded_by",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Renditions")
    def rendition_list(self, asset):
        renditions = list(asset.renditions.all())
        if not renditions:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{} x {} {}</a> ({})',
            (
                (
                    reverse("admin:content_mediaasset_rendition", args=[asset.pk, r.pk]),
                    r.width,
                    r.height,
                    r.format.upper(),
                    human_size(r.size_bytes),
                )
                for r in renditions
            ),
        )

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
            "rendition_list",
            "folder_path",
            "tags",
            "content",
            "uploaded_by",
            "created_at",
            "updated_at",
        ]

    @admin.display(description="")
    def list_preview(self, asset):
        return asset_preview(asset)

    @admin.display(description="Preview")
    def large_preview(self, asset):
        return asset_preview(asset, height=160)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, asset):
        return badge(asset.get_status_display(), MEDIA_COLOURS[asset.status])

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, asset):
        return human_size(asset.size_bytes)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = media_asset_update(
                asset=obj,
                actor=request.user,
                folder_path=data["folder_path"],
                tags=data["tags"],
                content=data["content"],
            )
        else:
            saved = media_upload(
                actor=request.user,
                file=data["file"],
                folder_path=data["folder_path"],
                tags=data["tags"],
                content=data["content"],
            )
        adopt_saved(obj, saved)

    def get_urls(self):
        own = [
            path("<id:pk>/file/", self.admin_site.admin_view(self.file_view), name="content_mediaasset_file"),
            path(
                "direct-upload/", self.admin_site.admin_view(self.direct_upload_view), name="content_mediaasset_direct"
            ),
            path(
                "<id:pk>/renditions/<id:rendition>/",
                self.admin_site.admin_view(self.rendition_view),
                name="content_mediaasset_rendition",
            ),
        ]
        return own + super().get_urls()

    def file_view(self, request, pk):
        asset = get_object_or_404(MediaAsset, pk=pk)
        if not self.has_view_permission(request, asset):
            raise PermissionDenied
        return file_response(asset.file)

    def rendition_view(self, request, pk, rendition):
        rendition = get_object_or_404(MediaRendition, pk=rendition, asset_id=pk)
        if not self.has_view_permission(request, rendition.asset):
            raise PermissionDenied
        return file_response(rendition.file)

    def direct_upload_view(self, request):
        """Large files straight to storage with a progress bar (direct-upload.js drives the media API)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Upload a large file straight to storage",
            "start_url": reverse("media-upload-start"),
            "asset_url": reverse("admin:content_mediaasset_change", args=[0]),
        }
        return TemplateResponse(request, "admin/content/mediaasset/direct_upload.html", context)
