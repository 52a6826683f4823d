"""Writes of what a fan follows and what they are told: favorite teams and players, notifications
(a favorite team's game goes live, new content for a favorite, staff announcements)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from content.models import Content, Player, Team
from content.selectors import content_available_q
from content.spoilers import users_holding
from csn.errors import ApplicationError, NotFoundError, PermissionDeniedError
from csn.realtime import publish as realtime
from csn.realtime.topics import user_topic
from csn.retention import delete_in_batches
from streaming.fans.models import Announcement, FavoritePlayer, FavoriteTeam, Notification
from streaming.fans.representation import notification_data


def _team_or_404(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFoundError("No such team.", code="team_not_found")
    return team


def _player_or_404(player_id: int) -> Player:
    player = Player.objects.select_related("team").filter(pk=player_id).first()
    if player is None:
        raise NotFoundError("No such player.", code="player_not_found")
    return player


@transaction.atomic
def favorite_team_add(*, user, team_id: int) -> tuple[FavoriteTeam, bool]:
    """Idempotent: following a team twice keeps one row (get_or_create retries after a lost race)."""
    return FavoriteTeam.objects.get_or_create(user=user, team=_team_or_404(team_id))


@transaction.atomic
def favorite_team_remove(*, user, team_id: int) -> bool:
    deleted, _ = FavoriteTeam.objects.filter(user=user, team_id=team_id).delete()
    return bool(deleted)


@transaction.atomic
def favorite_player_add(*, user, player_id: int) -> tuple[FavoritePlayer, bool]:
    return FavoritePlayer.objects.get_or_create(user=user, player=_player_or_404(player_id))


@transaction.atomic
def favorite_player_remove(*, user, player_id: int) -> bool:
    deleted, _ = FavoritePlayer.objects.filter(user=user, player_id=player_id).delete()
    return bool(deleted)


def _recipient_ids(*, audience: Q | Exists | None, opt_in: str, dedupe_key: str = "") -> list[int]:
    """One query: active users in the audience who have not opted out and were not told already.

    A user without a preferences row (made outside registration) has the defaults: opted in.
    """
    opted_in = Q(**{f"preferences__{opt_in}": True}) | Q(preferences=None)
    users = get_user_model().objects.filter(opted_in, is_active=True)
    if audience is not None:
        users = users.filter(audience)
    if dedupe_key:
        users = users.exclude(Exists(Notification.objects.filter(user=OuterRef("pk"), dedupe_key=dedupe_key)))
    return list(users.values_list("pk", flat=True))


def _notify(*, user_ids: list[int], kind: str, title: str, body: str, data: dict, dedupe_key: str = "") -> int:
    """Bulk-create one notification per user; each goes to its user's topic after commit."""
    now = timezone.now()
    created = Notification.objects.bulk_create(
        [
            Notification(
                user_id=user_id, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key, created_at=now
            )
            for user_id in user_ids
        ],
        batch_size=1000,
    )
    game_id = data.get("game_id") if data.get("reveals_result") else None
    holding = users_holding(game_id=game_id, user_ids=user_ids) if game_id else set()
    realtime.publish_many(
        [
            (user_topic(n.user_id), "notification.created", notification_data(n, hidden=n.user_id in holding))
            for n in created
        ]
    )
    return len(created)


@transaction.atomic
def notify_game_live(*, game) -> int:
    """Tell the fans of either team (who want game-live notifications) that the game is live.
    Once per game and user, however often it is called. Returns how many were notified."""
    fans = Exists(FavoriteTeam.objects.filter(user=OuterRef("pk"), team_id__in=[game.home_team_id, game.away_team_id]))
    dedupe_key = f"game_live:{game.pk}"
    user_ids = _recipient_ids(audience=fans, opt_in="notify_game_live", dedupe_key=dedupe_key)
    if not user_ids:
        return 0
    title = f"{game.away_team.name} @ {game.home_team.name} is live"
    return _notify(
        user_ids=user_ids,
        kind=Notification.Kind.GAME_LIVE,
        title=title,
        body="Watch now.",
        data={"game_id": game.pk, "home_team_id": game.home_team_id, "away_team_id": game.away_team_id},
        dedupe_key=dedupe_key,
    )


@transaction.atomic
def notify_content_published(*, content) -> int:
    """Tell the fans of the content's teams and players (who want new-content notifications).
    Only content viewers can open now; once per content and user, even if republished."""
    if not Content.objects.filter(content_available_q(), pk=content.pk).exists():
        return 0
    fans = Exists(FavoriteTeam.objects.filter(user=OuterRef("pk"), team__content=content)) | Exists(
        FavoritePlayer.objects.filter(user=OuterRef("pk"), player__content=content)
    )
    dedupe_key = f"new_content:{content.pk}"
    user_ids = _recipient_ids(audience=fans, opt_in="notify_new_content", dedupe_key=dedupe_key)
    if not user_ids:
        return 0
    return _notify(
        user_ids=user_ids,
        kind=Notification.Kind.NEW_CONTENT,
        title=f"New: {content.title}",
        body=(content.description or "")[:280],
        data={
            "content_id": content.pk,
            "content_type": content.type,
            "game_id": content.game_id,
            "reveals_result": content.reveals_result,
        },
        dedupe_key=dedupe_key,
    )


@transaction.atomic
def notify_announcement(*, title: str, body: str, sender) -> Announcement:
    """A staff broadcast to every active user who has not opted out of announcements."""
    if not (sender and sender.is_active and sender.is_staff):
        raise PermissionDeniedError("Only staff send announcements.")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise ApplicationError("An announcement needs a title and a body.", code="invalid")
    announcement = Announcement.objects.create(title=title, body=body, sender=sender)
    user_ids = _recipient_ids(audience=None, opt_in="notify_announcements")
    announcement.recipient_count = _notify(
        user_ids=user_ids,
        kind=Notification.Kind.ANNOUNCEMENT,
        title=title,
        body=body,
        data={"announcement_id": announcement.pk},
        dedupe_key=f"announcement:{announcement.pk}",
    )
    announcement.save(update_fields=["recipient_count"])
    return announcement


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Another user's notification does not exist for this one (404)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFoundError("No such notification.", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        realtime.publish_user_event(user_id=user.pk, name="notification.read", data={"ids": [notification.pk]})
    return notification


@transaction.atomic
def notification_mark_all_read(*, user) -> int:
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        realtime.publish_user_event(user_id=user.pk, name="notification.read", data={"all": True})
    return marked


def notifications_read_prune() -> int:
    """Notifications read more than RETAIN_READ_NOTIFICATIONS_DAYS ago (unread ones are kept)."""
    cutoff = timezone.now() - timedelta(days=settings.RETAIN_READ_NOTIFICATIONS_DAYS)
    return delete_in_batches(Notification.objects.filter(read_at__lt=cutoff), what="read_notifications")
