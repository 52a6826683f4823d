"""The live protocol's AsyncAPI document, served next to the OpenAPI schema (csn/urls.py: under /api/)."""

from django.urls import path

from streaming.live import views

urlpatterns = [path("asyncapi.yaml", views.asyncapi_document, name="asyncapi")]
