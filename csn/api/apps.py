from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The API platform's own table: idempotency keys (csn.api.idempotency)."""

    name = "csn.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"
