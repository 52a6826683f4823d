from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from csn import views

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("content.api.urls")),
    path("", include("streaming.viewing.api.urls")),
    path("", include("streaming.live.api.urls")),
    path("", include("streaming.fans.api.urls")),
    path("", include("analytics.api.urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
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
