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

        from django.db.models.signals import m2m_changed, post_delete, post_save

        from content.models import Content, Game, Player, Team
        from content.services.cache import row_changed

        # Cached catalogue answers go stale when a row they show changes (content.services.cache).
        for model in (Content, Team, Player, Game):
            post_save.connect(row_changed, sender=model, dispatch_uid=f"catalogue-cache-save-{model.__name__}")
            post_delete.connect(row_changed, sender=model, dispatch_uid=f"catalogue-cache-delete-{model.__name__}")
        for through in (Content.teams.through, Content.players.through):
            m2m_changed.connect(row_changed, sender=through, dispatch_uid=f"catalogue-cache-{through.__name__}")
