"""The Studio's look and its dashboard: every figure on the page is the database's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import OutboxEvent
from content.models import Content, MediaAsset
from content.services.workflow import content_publish, content_submit
from streaming.live.models import ChatMessage, GameEvent, LiveSession
from testing.factories import (
    ContentFactory,
    LiveGameFactory,
    MediaAssetFactory,
    OutboxEventFactory,
    UserFactory,
    member_of,
)

pytestmark = pytest.mark.django_db


def _figure(html: str, name: str) -> int:
    marker = f'data-figure="{name}">'
    start = html.index(marker) + len(marker)
    return int(html[start : html.index("<", start)])


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client, superuser


def test_branded_titles(staff_client):
    client, _ = staff_client
    html = client.get("/admin/").content.decode()
    assert "<title>Dashboard | CSN Studio</title>" in html
    assert "Studio</a>" in html and "Django administration" not in html


def test_dashboard_figures_match_the_database(staff_client):
    client, admin = staff_client
    editor, publisher = member_of("Editors"), member_of("Publishers")
    old = ContentFactory(title="Oldest in review", state=Content.State.DRAFT)
    content_submit(content=old, actor=editor)
    newer = ContentFactory(title="Newer in review", state=Content.State.DRAFT)
    content_submit(content=newer, actor=editor)
    published = ContentFactory(title="On air", state=Content.State.DRAFT)
    content_submit(content=published, actor=editor)
    content_publish(content=published, actor=publisher)
    MediaAssetFactory(status=MediaAsset.Status.FAILED, error="never arrived")
    MediaAssetFactory(status=MediaAsset.Status.READY)
    OutboxEventFactory.create_batch(3)
    OutboxEventFactory(status=OutboxEvent.Status.DEAD)
    game = LiveGameFactory()
    now = timezone.now()
    for user in UserFactory.create_batch(2):
        LiveSession.objects.create(game=game, user=user, last_heartbeat_at=now)
    gone = LiveSession.objects.create(game=game, user=UserFactory(), last_heartbeat_at=now - timedelta(minutes=5))
    LiveSession.objects.filter(pk=gone.pk).update(started_at=now - timedelta(minutes=30))
    ChatMessage.objects.create(game=game, user=admin, user_name="a", text="now")
    old_chat = ChatMessage.objects.create(game=game, user=admin, user_name="a", text="earlier")
    ChatMessage.objects.filter(pk=old_chat.pk).update(created_at=now - timedelta(minutes=3))
    GameEvent.objects.create(game=game, description="Dunk by Smith", status="live", home_score=2, away_score=0)

    html = client.get("/admin/").content.decode()

    in_review = Content.objects.filter(state=Content.State.IN_REVIEW).count()
    assert _figure(html, "review") == in_review == 2
    assert html.index("Oldest in review") < html.index("Newer in review")  # oldest first
    assert _figure(html, "failed-uploads") == MediaAsset.objects.filter(status="failed").count() == 1
    assert "never arrived" in html
    assert _figure(html, "published-14d") == 1
    assert _figure(html, "outbox-pending") == OutboxEvent.objects.filter(status="pending").count() >= 3
    assert (
        _figure(html, "outbox-due")
        == OutboxEvent.objects.filter(status="pending", next_attempt_at__lte=timezone.now()).count()
    )
    assert _figure(html, "outbox-dead") == 1
    row = html[html.index(f'data-game="{game.pk}"') :]
    assert '<td class="viewers">2</td>' in row  # the stale session is not counted
    assert '<td class="chat">1</td>' in row  # one message in the last minute
    assert "Dunk by Smith" in row
    assert "Viewers of each live game, last hour" in html


def test_scheduled_moves_are_on_the_dashboard(staff_client):
    client, _ = staff_client
    soon = timezone.now() + timedelta(hours=1)
    item = ContentFactory(title="Goes out soon", state=Content.State.IN_REVIEW, publish_at=soon)
    html = client.get("/admin/").content.decode()
    panel = html[html.index('id="panel-scheduled"') :]
    assert "Goes out soon" in panel and f"/admin/content/content/{item.pk}/change/" in panel


def test_panels_follow_rights(client, editor):
    client.force_login(editor)
    html = client.get("/admin/").content.decode()
    assert 'id="panel-review"' in html
    assert 'id="panel-analytics"' not in html  # editors do not see the outbox
