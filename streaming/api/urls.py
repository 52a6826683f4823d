from django.urls import include, path

urlpatterns: list = [
    path("", include("streaming.api.live_urls")),  # live (issue 6)
]
