"""Pages served by Django outside the API (the watch page lives here)."""

urlpatterns: list = []
