"""Values that parse as JSON but no database or response can hold refuse their own event only: the
other events of the batch are queued (the hardening issue: one such event used to fail the batch, a 500)."""

import json

import pytest

from analytics.models import OutboxEvent

URL = "/api/v1/analytics/events/"


@pytest.fixture(autouse=True)
def _empty_outbox(user):
    OutboxEvent.objects.all().delete()


def pause(video_id=7, position=12.5, **extra):
    return {"name": "video_pause", "properties": {"video_id": video_id, "position_seconds": position}, **extra}


def post_raw(client, events: list):
    """The body as JSON text, `\\udXXX` escapes kept (a lone surrogate has no UTF-8 form to send raw);
    `"<1e400>"` is sent as the number 1e400, which Python's parser reads as infinity."""
    body = json.dumps({"events": events}).replace('"<1e400>"', "1e400")  # json.dumps writes inf as Infinity
    return client.post(URL, body, content_type="application/json")


BAD_EVENTS = [
    (pause(timestamp="2026-02-30T10:00:00Z"), "timestamp", "invalid_timestamp"),
    (pause(timestamp="2026-13-01T10:00:00Z"), "timestamp", "invalid_timestamp"),
    (pause(timestamp="2026-01-01T25:61:00Z"), "timestamp", "invalid_timestamp"),
    (pause(timestamp="2026-01-01T10:00:00+99:00"), "timestamp", "invalid_timestamp"),
    (pause(timestamp="0001-01-01T00:00:00+23:59"), "timestamp", "timestamp_too_old"),
    (pause(timestamp="9999-12-31T23:59:59-23:59"), "timestamp", "timestamp_in_future"),
    ({"name": "page_view", "properties": {"path": "/a\ud800"}}, "properties.path", "invalid_characters"),
    ({"name": "page_view", "properties": {"path": "/", "title": "\udfff"}}, "properties.title", "invalid_characters"),
    (
        {"name": "video_share", "properties": {"video_id": 1, "channel": "x\ud83d"}},
        "properties.channel",
        None,  # refused whichever way (wrong_type or invalid_characters): the point is the batch
    ),
    (pause(position="<1e400>"), "properties.position_seconds", "out_of_range"),
    (pause(video_id=2**63), "properties.video_id", "out_of_range"),
    (pause(video_id=-(2**63) - 1), "properties.video_id", "out_of_range"),
    (pause(video_id=10**300), "properties.video_id", "out_of_range"),
    ({"name": "page_view", "properties": {"path": "/", "\ud800": 1}}, "properties.\\ud800", "unknown_property"),
    ({**pause(), "\udc00x": 1}, "\\udc00x", "unknown_field"),
    ({"name": "video_pause\ud800", "properties": {}}, "name", "unknown_event"),
]


@pytest.mark.parametrize(("event", "field", "code"), BAD_EVENTS)
@pytest.mark.django_db
def test_one_bad_value_refuses_its_event_only(auth_client, outbox_held, event, field, code):
    batch = [pause(video_id=n) for n in range(1, 50)]
    batch.insert(20, event)
    response = post_raw(auth_client, batch)

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (49, 1)
    errors = body["error"]["fields"]
    assert [key.split(".")[1] for key in errors] == ["20"] * len(errors)
    if code is not None:
        assert errors[f"events.20.{field}"][0]["code"] == code
    assert OutboxEvent.objects.count() == 49


@pytest.mark.django_db
def test_the_edges_of_the_ranges_are_accepted(auth_client):
    response = post_raw(
        auth_client, [pause(video_id=2**63 - 1, position=1.7e308), pause(video_id=-(2**63), position=-0.0)]
    )
    assert response.json()["accepted"] == 2, response.content
