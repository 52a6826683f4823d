"""What every CMS page shares: badges, sizes, previews, serving stored files, service refusals as messages."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.utils.html import format_html

from csn.errors import ApplicationError


def badge(label: str, colour: str):
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-size:11px;'
        'white-space:nowrap">{}</span>',
        colour,
        label,
    )


def human_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


HLS_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl")
# The Studio's HLS player: hls.js from the npm registry, vendored (content/static/studio/vendor/).
HLS_SCRIPTS = ["studio/vendor/hls.js-1.7.4/hls.light.min.js", "studio/hls-preview.js"]


def hls_preview(url: str, *, height: int = 200):
    """A <video> that plays an HLS manifest in any browser (hls-preview.js attaches hls.js)."""
    return format_html(
        '<video data-hls-src="{}" class="studio-hls" controls muted preload="none" style="max-height:{}px"></video>',
        url,
        height,
    )


def media_preview(url: str | None, content_type: str, *, height: int = 60):
    if not url:
        return "—"
    if content_type in HLS_TYPES:
        return hls_preview(url, height=height * 3)
    if content_type.startswith("image/"):
        return format_html('<img src="{}" style="max-height:{}px;border-radius:4px" alt="">', url, height)
    if content_type.startswith("video/"):
        return format_html('<video src="{}" style="max-height:{}px" controls preload="none"></video>', url, height * 3)
    return format_html('<a href="{}">download</a>', url)


def file_response(field_file):
    """Stream a stored file to staff: local files are not served publicly; the bucket gets a signed URL.
    A missing file is the page's 404."""
    if not field_file:
        raise Http404
    url = field_file.storage.url(field_file.name)
    if url.startswith(("http://", "https://")):
        return HttpResponseRedirect(url)
    try:
        return FileResponse(field_file.storage.open(field_file.name, "rb"))
    except FileNotFoundError as exc:
        raise Http404 from exc


def adopt_saved(obj, saved) -> None:
    """Make the admin's `obj` the row a service saved: the admin goes on with `obj` (change message,
    redirect) after save_model."""
    obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
    obj._state.adding, obj._state.db = False, saved._state.db


class ServiceRefusalsAsMessages:
    """A ModelAdmin mixin: a service's refusal during a save rolls the whole save back; the editor sees
    why on the same page instead of a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())
