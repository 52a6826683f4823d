from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.enrichment import user_plan
        from accounts.services import notify_content_published
        from analytics.services.enrichment import Subject, enricher_register
        from content.announcements import content_published

        content_published.subscribe(lambda event: notify_content_published(content=event.content))
        enricher_register(user_plan, subject=Subject.USER)
