from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Preferences
from content.models import Content
from csn.errors import PermissionDeniedError
from streaming.fans import services
from streaming.fans.models import Announcement, FavoritePlayer, FavoriteTeam, Notification
from testing.factories import ContentFactory, LiveGameFactory, PlayerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def fan_of(*teams, **preferences):
    user = UserFactory()
    for team in teams:
        FavoriteTeam.objects.create(user=user, team=team)
    if preferences:
        Preferences.objects.filter(user=user).update(**preferences)
    return user


def recipients(kind):
    return set(Notification.objects.filter(kind=kind).values_list("user_id", flat=True))


# --- Game live --------------------------------------------------------------------------------


def test_game_live_notifies_fans_of_either_team_who_opted_in(published):
    game = LiveGameFactory()
    home_fan, away_fan, both = fan_of(game.home_team), fan_of(game.away_team), fan_of(game.home_team, game.away_team)
    opted_out = fan_of(game.home_team, notify_game_live=False)
    inactive = fan_of(game.away_team)
    inactive.is_active = False
    inactive.save()
    fan_of(TeamFactory())  # another team's fan
    without_preferences = fan_of(game.home_team)
    Preferences.objects.filter(user=without_preferences).delete()  # made outside registration: defaults

    count = services.notify_game_live(game=game)

    expected = {home_fan.pk, away_fan.pk, both.pk, without_preferences.pk}
    assert count == 4
    assert recipients("game_live") == expected
    assert opted_out.pk not in recipients("game_live")
    notification = Notification.objects.get(user=home_fan)
    assert game.home_team.name in notification.title
    assert notification.data["game_id"] == game.pk
    assert {(uid, name) for uid, name, _ in published} == {(uid, "notification.created") for uid in expected}
    assert {data["id"] for _, _, data in published} == set(Notification.objects.values_list("id", flat=True))
    # The event carries the notification as the API renders it (timestamps included).
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(home_fan)
    (listed,) = api.get("/api/v1/notifications/").json()["results"]
    (event,) = [data for uid, _, data in published if uid == home_fan.pk]
    assert event == {key: listed[key] for key in event}
    assert event["created_at"].endswith("Z")


def test_game_live_notifies_once_however_often_it_is_called(published):
    game = LiveGameFactory()
    fan_of(game.home_team)

    assert services.notify_game_live(game=game) == 1
    assert services.notify_game_live(game=game) == 0
    assert Notification.objects.count() == 1
    assert len(published) == 1


def test_fan_out_queries_do_not_grow_with_the_audience():
    def queries_for(fans):
        game = LiveGameFactory()
        for _ in range(fans):
            fan_of(game.home_team)
        with CaptureQueriesContext(connection) as captured:
            assert services.notify_game_live(game=game) == fans
        return len(captured)

    assert queries_for(2) == queries_for(25)


# --- New content ------------------------------------------------------------------------------


def test_new_content_notifies_fans_of_its_teams_and_players():
    team, other_team = TeamFactory(), TeamFactory()
    player = PlayerFactory(team=other_team)
    content = ContentFactory(teams=[team], players=[player])
    team_fan = fan_of(team)
    player_fan = UserFactory()
    FavoritePlayer.objects.create(user=player_fan, player=player)
    fan_of(team, notify_new_content=False)
    fan_of(other_team)  # follows the player's team, not the player: not this content

    assert services.notify_content_published(content=content) == 2
    assert recipients("new_content") == {team_fan.pk, player_fan.pk}
    assert Notification.objects.get(user=team_fan).data == {
        "content_id": content.pk,
        "content_type": content.type,
        "game_id": None,
        "reveals_result": False,
    }
    assert services.notify_content_published(content=content) == 0  # republished: no second notification


def test_content_viewers_cannot_open_yet_notifies_nobody():
    team = TeamFactory()
    fan_of(team)
    draft = ContentFactory(teams=[team], state=Content.State.DRAFT, published_at=None)
    scheduled = ContentFactory(teams=[team], available_from=timezone.now() + timedelta(days=1))

    assert services.notify_content_published(content=draft) == 0
    assert services.notify_content_published(content=scheduled) == 0
    assert not Notification.objects.exists()


# --- Announcements ----------------------------------------------------------------------------


def test_announcement_reaches_everyone_not_opted_out(published):
    staff = UserFactory(is_staff=True)
    reader = UserFactory()
    opted_out = UserFactory()
    Preferences.objects.filter(user=opted_out).update(notify_announcements=False)

    announcement = services.notify_announcement(title="Maintenance", body="Tonight 2-3 UTC.", sender=staff)

    assert announcement.recipient_count == 2
    assert recipients("announcement") == {staff.pk, reader.pk}
    assert Notification.objects.get(user=reader).body == "Tonight 2-3 UTC."
    assert len(published) == 2


def test_only_staff_announce():
    with pytest.raises(PermissionDeniedError):
        services.notify_announcement(title="Hi", body="All", sender=UserFactory())
    assert not Announcement.objects.exists()
    assert not Notification.objects.exists()


def test_admin_announcement_page_broadcasts(client):
    admin = UserFactory(is_staff=True)
    admin.is_superuser = True
    admin.save()
    viewer = UserFactory()
    client.force_login(admin)

    response = client.post(
        "/admin/streaming/announcement/add/", {"title": "Playoffs", "body": "Start Friday."}, follow=True
    )

    assert response.status_code == 200
    announcement = Announcement.objects.get()
    assert announcement.sender == admin
    assert announcement.recipient_count == 2
    assert Notification.objects.filter(user=viewer, kind="announcement", title="Playoffs").exists()


# --- API --------------------------------------------------------------------------------------


def make(user, n=1, **extra):
    return [
        Notification.objects.create(user=user, kind="announcement", title=f"n{i}", body="b", **extra) for i in range(n)
    ]


def test_list_newest_first_with_unread_count(auth_client, user, other_user):
    old, _ = make(user, 2)
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    make(user, 1, read_at=timezone.now())
    make(other_user, 3)

    body = auth_client.get("/api/v1/notifications/").json()

    assert body["unread_count"] == 2
    assert [n["id"] for n in body["results"]][-1] == old.pk
    assert len(body["results"]) == 3


def test_list_is_paginated_in_two_queries(auth_client, user, django_assert_num_queries):
    make(user, 25)
    with django_assert_num_queries(2):  # the page, the unread count
        body = auth_client.get("/api/v1/notifications/").json()
    assert len(body["results"]) == 20
    assert body["next"]
    assert body["unread_count"] == 25


def test_mark_one_read(auth_client, user, published):
    [notification] = make(user)

    response = auth_client.post(f"/api/v1/notifications/{notification.pk}/read/")

    assert response.status_code == 200
    assert response.json()["read_at"]
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert published == [(user.pk, "notification.read", {"ids": [notification.pk]})]


def test_marking_another_users_notification_is_a_404(auth_client, other_user):
    [theirs] = make(other_user)

    response = auth_client.post(f"/api/v1/notifications/{theirs.pk}/read/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_only_the_users_own(auth_client, user, other_user):
    make(user, 3)
    make(other_user, 2)

    response = auth_client.post("/api/v1/notifications/read-all/")

    assert response.json() == {"marked": 3, "unread_count": 0}
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other_user, read_at__isnull=True).count() == 2
