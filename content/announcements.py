"""What the catalogue announces to the layers above it (`csn.announcements`)."""

from dataclasses import dataclass

from content.models import Content
from csn.announcements import Announcement


@dataclass(frozen=True)
class ContentPublished:
    """An item went on air (in review -> published). Announced inside the publish transaction."""

    content: Content


content_published = Announcement(ContentPublished)
