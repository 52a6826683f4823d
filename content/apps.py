from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "content"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from analytics.services.enrichment import Subject, enricher_register
        from content.enrichment import content_facts
        from content.services.revisions import revisions_register

        revisions_register()
        from content.studio import panels_register

        panels_register()

        enricher_register(content_facts, subject=Subject.ITEM)
