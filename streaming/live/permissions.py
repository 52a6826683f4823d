"""Who may do what in the live area: Django permissions, as in the CMS. The Scorekeepers and Moderators
groups hold them (`role_groups_ensure`, after every migrate); a superuser holds every right; staff
moderate chat as well."""

from dataclasses import dataclass

from csn.errors import PermissionDeniedError


@dataclass(frozen=True)
class LivePermission:
    app_label: str
    codename: str

    @property
    def name(self) -> str:
        return f"{self.app_label}.{self.codename}"


KEEP_SCORE = LivePermission("streaming", "keep_score")
MODERATE_CHAT = LivePermission("streaming", "moderate_chat")


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_keep_score(user) -> bool:
    return _signed_in(user) and user.has_perm(KEEP_SCORE.name)


def can_mark_moments(user) -> bool:
    """Scorekeepers, and editors (who may change content), mark plays as key moments."""
    return can_keep_score(user) or (_signed_in(user) and user.has_perm("content.change_content"))


def can_moderate(user) -> bool:
    return _signed_in(user) and (user.is_staff or user.has_perm(MODERATE_CHAT.name))


def moderator_required(user) -> None:
    if not can_moderate(user):
        raise PermissionDeniedError("Only moderators may do this.", code="permission_denied")


ROLE_GROUPS = {"Scorekeepers": [KEEP_SCORE], "Moderators": [MODERATE_CHAT]}


def role_groups_ensure(**kwargs) -> None:
    """The live roles exist and hold their rights. Run on `post_migrate` (after Django has created the
    permissions), so a new database, a migrated one and a flushed one all have them."""
    from django.contrib.auth.models import Group, Permission

    for name, rights in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for right in rights:
            permission = Permission.objects.filter(
                content_type__app_label=right.app_label, codename=right.codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)
