from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.enrichment import user_plan
        from analytics.services.enrichment import Subject, enricher_register

        enricher_register(user_plan, subject=Subject.USER)
