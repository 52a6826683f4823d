"""The editorial groups and their rights, plus a GIN index for tag filters on PostgreSQL."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = "Editors"
PUBLISHERS = "Publishers"

CATALOGUE_VIEW = ["view_team", "view_player", "view_game", "view_contentauditlog"]
GROUP_PERMISSIONS = {
    # Editors write drafts and catalogue entries and hand them to review.
    EDITORS: [
        *CATALOGUE_VIEW,
        "add_content",
        "change_content",
        "view_content",
        "submit_content",
        "add_mediaasset",
        "change_mediaasset",
        "view_mediaasset",
        "add_team",
        "change_team",
        "add_player",
        "change_player",
        "add_game",
        "change_game",
    ],
    # Publishers decide what goes on air; they may fix items under review or on air.
    PUBLISHERS: [
        *CATALOGUE_VIEW,
        "change_content",
        "view_content",
        "publish_content",
        "add_mediaasset",
        "change_mediaasset",
        "view_mediaasset",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); we need them now.
    content_config = apps.get_app_config("content")
    content_config.models_module = True
    create_permissions(content_config, apps=apps, verbosity=0)
    content_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="content", codename__in=codenames)
        group.permissions.add(*perms)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EDITORS, PUBLISHERS]).delete()


def add_tags_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS content_tags_gin ON content_content USING gin (tags jsonb_path_ops)"
        )


def drop_tags_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS content_tags_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_workflow_roles_and_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
        migrations.RunPython(add_tags_gin_index, drop_tags_gin_index),
    ]
