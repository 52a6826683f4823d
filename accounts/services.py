"""Writes for who the user is: registration, profile, preferences, subscription, tokens, favorites,
notifications."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import (
    Announcement,
    FavoritePlayer,
    FavoriteTeam,
    Notification,
    Preferences,
    Subscription,
    User,
)
from analytics import events
from content.models import Content, Player, Team
from content.selectors import content_available_q
from csn.errors import ApplicationError, NotFoundError, PermissionDeniedError
from csn.representation import datetime_text
from streaming import broadcast


def _validate_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ApplicationError(
            "The password is too weak.",
            code="weak_password",
            fields={"password": [{"code": "weak_password", "message": m} for m in exc.messages]},
        ) from exc


def user_create(*, email: str, password: str, display_name: str, is_staff: bool = False) -> User:
    """A new account with its preferences and a free subscription. Emails are unique, case-insensitively."""
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email, display_name=display_name)
    _validate_password(password, candidate)
    if User.objects.filter(email__iexact=email).exists():
        raise _email_taken()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, display_name=display_name, is_staff=is_staff
            )
            Preferences.objects.create(user=user)
            Subscription.objects.create(user=user)
            events.signed_up(user_id=user.pk, method="email")
    except IntegrityError as exc:  # lost a race with the same email
        raise _email_taken() from exc
    return user


def _email_taken() -> ApplicationError:
    return ApplicationError(
        "An account with this email already exists.",
        code="email_taken",
        fields={"email": [{"code": "email_taken", "message": "An account with this email already exists."}]},
    )


def ensure_user_rows(*, user: User) -> None:
    """Users made outside `user_create` (createsuperuser, admin) get their rows on first use."""
    Preferences.objects.get_or_create(user=user)
    Subscription.objects.get_or_create(user=user)


@transaction.atomic
def profile_update(*, user: User, display_name: str | None = None, avatar_url: str | None = None) -> User:
    fields = []
    if display_name is not None:
        user.display_name = display_name
        fields.append("display_name")
    if avatar_url is not None:
        user.avatar_url = avatar_url
        fields.append("avatar_url")
    if fields:
        user.save(update_fields=fields)
    return user


PREFERENCE_FIELDS = ("language", "autoplay", "notify_game_live", "notify_new_content", "notify_announcements")


@transaction.atomic
def preferences_update(*, user: User, **changes) -> Preferences:
    prefs, _ = Preferences.objects.select_for_update().get_or_create(user=user)
    fields = [name for name in PREFERENCE_FIELDS if name in changes]
    for name in fields:
        setattr(prefs, name, changes[name])
    if fields:
        prefs.save(update_fields=[*fields, "updated_at"])
    return prefs


@transaction.atomic
def subscription_update(*, user: User, plan: str, status: str, current_period_end=None) -> Subscription:
    """Staff (admin) or billing change a plan; the change is an analytics event."""
    sub, _ = Subscription.objects.select_for_update().get_or_create(user=user)
    before = (sub.plan, sub.status)
    sub.plan, sub.status, sub.current_period_end = plan, status, current_period_end
    sub.save()
    if before != (plan, status):
        events.subscription_changed(user_id=user.pk, from_plan=before[0], to_plan=plan, status=status)
    return sub


def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Needs the current password; revokes the user's API token so other devices sign in again."""
    if not user.check_password(current_password):
        raise ApplicationError(
            "The current password is wrong.",
            code="wrong_password",
            fields={"current_password": [{"code": "wrong_password", "message": "The current password is wrong."}]},
        )
    _validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        Token.objects.filter(user=user).delete()


def token_issue(*, user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


# --- Favorites --------------------------------------------------------------------------------


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
def favorite_team_add(*, user: User, team_id: int) -> tuple[FavoriteTeam, bool]:
    """Idempotent: following a team twice keeps one row (get_or_create retries after a lost race)."""
    return FavoriteTeam.objects.get_or_create(user=user, team=_team_or_404(team_id))


@transaction.atomic
def favorite_team_remove(*, user: User, team_id: int) -> bool:
    deleted, _ = FavoriteTeam.objects.filter(user=user, team_id=team_id).delete()
    return bool(deleted)


@transaction.atomic
def favorite_player_add(*, user: User, player_id: int) -> tuple[FavoritePlayer, bool]:
    return FavoritePlayer.objects.get_or_create(user=user, player=_player_or_404(player_id))


@transaction.atomic
def favorite_player_remove(*, user: User, player_id: int) -> bool:
    deleted, _ = FavoritePlayer.objects.filter(user=user, player_id=player_id).delete()
    return bool(deleted)


# --- Notifications ----------------------------------------------------------------------------


def notification_event_data(notification: Notification) -> dict:
    """The live event a user's devices get for a new notification (JSON-safe)."""
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "created_at": datetime_text(notification.created_at),
    }


def _recipient_ids(*, audience: Q | Exists | None, opt_in: str, dedupe_key: str = "") -> list[int]:
    """One query: active users in the audience who have not opted out and were not told already.

    A user without a preferences row (made outside registration) has the defaults: opted in.
    """
    users = User.objects.filter(is_active=True).filter(Q(**{f"preferences__{opt_in}": True}) | Q(preferences=None))
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
    broadcast.publish_many([(f"user:{n.user_id}", "notification.created", notification_event_data(n)) for n in created])
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
        data={"content_id": content.pk, "content_type": content.type},
        dedupe_key=dedupe_key,
    )


@transaction.atomic
def notify_announcement(*, title: str, body: str, sender: User) -> Announcement:
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
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Another user's notification does not exist for this one (404)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFoundError("No such notification.", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        broadcast.publish_user_event(user_id=user.pk, name="notification.read", data={"ids": [notification.pk]})
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        broadcast.publish_user_event(user_id=user.pk, name="notification.read", data={"all": True})
    return marked
