from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.services import notify_content_published
        from content.announcements import content_published

        content_published.subscribe(lambda event: notify_content_published(content=event.content))
