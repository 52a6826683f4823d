from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from csn import views


class IdConverter:
    """`<id:name>`: a primary key, 1 .. 2**63 - 1 (every model's key is a bigint). A number past the
    column's range matches no URL: a 404 `not_found`, as for an id that does not exist, instead of the
    database refusing the parameter (a 500)."""

    regex = "[0-9]{1,19}"
    max_value = 2**63 - 1

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= self.max_value:
            raise ValueError(value)  # no match: the resolver goes on, ends in 404
        return number

    def to_url(self, value) -> str:
        return str(value)


class TokenConverter:
    """`<token:name>`: an opaque URL-safe token (share links: `secrets.token_urlsafe`), at most 64
    characters. Anything else (a NUL, a slash, a lone surrogate) is a 404 before the database sees it."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


# Registered before the apps' URL modules are imported (by `include` below), which use them.
register_converter(IdConverter, "id")
register_converter(TokenConverter, "token")

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("content.api.urls")),
    path("", include("streaming.viewing.api.urls")),
    path("", include("streaming.live.api.urls")),
    path("", include("streaming.playback.api.urls")),
    path("", include("streaming.fans.api.urls")),
    path("", include("streaming.watch.api.urls")),
    path("", include("analytics.api.urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/changelog/", views.api_changelog, name="api-changelog"),
    path("api/", include("streaming.live.schema_urls")),  # /api/asyncapi.yaml: the live protocol
    re_path(r"^api/", views.api_not_found),  # after every API route: the JSON 404, DEBUG or not
    path("accounts/", include("accounts.urls")),
    path("", include("streaming.live.urls")),
]


def serve_local_media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)


# Local media (the embedded default) is served by Django; in production the bucket serves it.
if not settings.PRODUCTION and not settings.AWS_STORAGE_BUCKET_NAME:
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", serve_local_media))

handler400 = "csn.api.errors.json_400"
handler403 = "csn.api.errors.json_403"
handler404 = "csn.api.errors.json_404"
handler500 = "csn.api.errors.json_500"
