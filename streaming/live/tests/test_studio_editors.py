"""Editing together: Studio pages on the gateway say who has an item open (topic `studio:<id>`)."""

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Permission

from accounts.services import token_issue
from content.models import ContentEditor
from streaming.tests.live import Client, db
from testing.factories import ContentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def studio_staff(**kwargs):
    """Staff who may view content (transactional tests flush the role groups' rights, so given here)."""
    user = UserFactory(is_staff=True, **kwargs)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="content", codename="view_content"))
    return user


def _signed_in(user):
    async def connect():
        client = await Client().connect()
        token = await db(lambda: token_issue(user=user).key)()
        assert (await client.request({"type": "auth", "token": token}))["type"] == "ack"
        return client

    return connect


def test_the_second_editor_sees_the_first_and_the_first_sees_the_second_come_and_go():
    item = ContentFactory()
    alice = studio_staff(display_name="Alice")
    bob = studio_staff(display_name="Bob")

    async def scenario():
        first = await _signed_in(alice)()
        snapshot = await first.request({"type": "subscribe", "topic": f"studio:{item.pk}"})
        assert snapshot["type"] == "snapshot" and snapshot["data"] == {"editors": []}
        await first.send({"type": "studio.open", "content": item.pk})
        seen = [await first.recv(), await first.recv()]  # the event and the ack, in either order
        ack = next(m for m in seen if m["type"] == "ack")
        assert ack["editors"] == [{"id": alice.pk, "name": "Alice"}]

        second = await _signed_in(bob)()
        await second.request({"type": "subscribe", "topic": f"studio:{item.pk}"})
        reply = await second.request({"type": "studio.open", "content": item.pk})
        messages = [reply, await second.recv()]
        ack = next(m for m in messages if m["type"] == "ack")
        assert [e["name"] for e in ack["editors"]] == ["Alice", "Bob"]  # the second is warned of the first
        events = await first.recv_events(1)
        assert [e["name"] for e in events[0]["data"]["editors"]] == ["Alice", "Bob"]

        await second.close()  # leaving closes the item for its socket
        events = await first.recv_events(1)
        assert events[0]["data"]["editors"] == [{"id": alice.pk, "name": "Alice"}]
        await first.close()
        assert not await db(ContentEditor.objects.exists)()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "message, code",
    [
        ({"type": "studio.open", "content": "7"}, "invalid_message"),
        ({"type": "studio.open", "content": True}, "invalid_message"),
        ({"type": "studio.open", "content": 2**63}, "invalid_message"),
        ({"type": "studio.open", "content": 99999999}, "not_found"),
        ({"type": "subscribe", "topic": "studio:99999999"}, "not_found"),
    ],
)
def test_bad_studio_messages(message, code):
    staff = studio_staff()

    async def scenario():
        client = await _signed_in(staff)()
        reply = await client.request(message)
        assert (reply["type"], reply["code"]) == ("error", code)
        await client.close()

    async_to_sync(scenario)()


def test_viewers_may_not_follow_or_open_studio_items():
    item = ContentFactory()
    viewer_user = UserFactory()

    async def scenario():
        anonymous = await Client().connect()
        assert (await anonymous.request({"type": "studio.open", "content": item.pk}))["code"] == "auth_required"
        assert (await anonymous.request({"type": "subscribe", "topic": f"studio:{item.pk}"}))["code"] == "not_allowed"
        viewer = await _signed_in(viewer_user)()
        assert (await viewer.request({"type": "studio.open", "content": item.pk}))["code"] == "not_allowed"
        assert (await viewer.request({"type": "subscribe", "topic": f"studio:{item.pk}"}))["code"] == "not_allowed"
        await anonymous.close()
        await viewer.close()

    async_to_sync(scenario)()
