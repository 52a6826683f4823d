"""The hot endpoints render without DRF serializers; their output must stay what the schema says."""

from datetime import UTC, datetime

import pytest

from streaming.viewing.api.serializers import ProgressSerializer, ProgressWithContentSerializer, progress_representation
from streaming.viewing.selectors import continue_watching
from streaming.viewing.tests.factories import watched
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db


def test_hand_built_dicts_equal_the_serializers(user):
    plain = ContentFactory(year=2024, is_premium=True)
    with_thumbnail = ContentFactory(thumbnail="thumbnails/a.jpg")
    for content in (plain, with_thumbnail):
        watched(user, content, percent=42.5)

    cards = {}
    for item in continue_watching(user=user):
        assert progress_representation(item) == ProgressSerializer(item).data
        assert progress_representation(item, with_content=True) == ProgressWithContentSerializer(item).data
        cards[item.content_id] = progress_representation(item, with_content=True)["content"]
    assert cards[plain.pk]["thumbnail_url"] is None
    assert cards[with_thumbnail.pk]["thumbnail_url"].endswith("thumbnails/a.jpg")


def test_datetimes_render_like_drf(user):
    progress = watched(user, ContentFactory())
    progress.recorded_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert progress_representation(progress)["recorded_at"] == "2026-01-02T03:04:05.678000Z"
    assert progress_representation(progress)["recorded_at"] == ProgressSerializer(progress).data["recorded_at"]
