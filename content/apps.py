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

        from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

        from content.models import Content, Game, MediaAsset, Player, Team
        from content.services.cache import row_changed

        # Cached catalogue answers go stale when a row they show changes (content.services.cache).
        for model in (Content, Team, Player, Game, MediaAsset):
            post_save.connect(row_changed, sender=model, dispatch_uid=f"catalogue-cache-save-{model.__name__}")
            post_delete.connect(row_changed, sender=model, dispatch_uid=f"catalogue-cache-delete-{model.__name__}")
        for through in (Content.teams.through, Content.players.through):
            m2m_changed.connect(row_changed, sender=through, dispatch_uid=f"catalogue-cache-{through.__name__}")

        # After auth's own post_migrate handler has created this app's permissions.
        post_migrate.connect(editorial_groups_ensure, sender=self, dispatch_uid="content.editorial_groups")


def editorial_groups_ensure(**kwargs) -> None:
    """The Editors and Publishers groups exist and hold their rights (migration 0003's list) after every
    migrate, and after a flush (`manage.py flush`, transactional tests), which empties the tables the
    migration filled."""
    import importlib

    from django.contrib.auth.models import Group, Permission

    groups = importlib.import_module("content.migrations.0003_editorial_groups").GROUP_PERMISSIONS
    for name, codenames in groups.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="content", codename__in=codenames))
