import pytest
from django.urls import reverse

from analytics.models import OutboxEvent
from testing.factories import OutboxEventFactory, UserFactory

CHANGELIST = reverse("admin:analytics_outboxevent_changelist")


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    OutboxEvent.objects.all().delete()
    return client


@pytest.mark.django_db
def test_outbox_list_shows_status_attempts_and_last_error(staff_client):
    OutboxEventFactory(
        name="video_pause", status=OutboxEvent.Status.DEAD, attempts=12, last_error="PostHog answered 503"
    )

    page = staff_client.get(CHANGELIST, {"status__exact": "dead"}).content.decode()

    assert "video_pause" in page
    assert "Dead (gave up)" in page
    assert "PostHog answered 503" in page
    assert ">12<" in page


@pytest.mark.django_db
def test_retry_action_puts_dead_rows_back_in_the_queue(staff_client):
    dead = OutboxEventFactory(status=OutboxEvent.Status.DEAD, attempts=12, last_error="503")
    pending = OutboxEventFactory(attempts=2)

    response = staff_client.post(
        CHANGELIST, {"action": "retry_dead", "_selected_action": [dead.pk, pending.pk]}, follow=True
    )

    assert "1 dead event(s) queued for delivery again." in response.content.decode()
    dead.refresh_from_db()
    pending.refresh_from_db()
    assert (dead.status, dead.attempts) == (OutboxEvent.Status.PENDING, 0)
    assert pending.attempts == 2  # only dead rows are touched


@pytest.mark.django_db
def test_outbox_rows_cannot_be_edited_or_added_in_admin(staff_client):
    row = OutboxEventFactory()
    assert staff_client.get(reverse("admin:analytics_outboxevent_add")).status_code == 403
    page = staff_client.get(reverse("admin:analytics_outboxevent_change", args=[row.pk])).content.decode()
    assert 'name="_save"' not in page


@pytest.mark.django_db
def test_staff_who_may_only_view_the_outbox_cannot_retry(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxevent"))
    client.force_login(viewer)
    dead = OutboxEventFactory(status=OutboxEvent.Status.DEAD, attempts=12)

    page = client.get(CHANGELIST)
    assert page.status_code == 200 and "retry_dead" not in page.content.decode()
    client.post(CHANGELIST, {"action": "retry_dead", "_selected_action": [dead.pk]})
    dead.refresh_from_db()
    assert dead.status == OutboxEvent.Status.DEAD
