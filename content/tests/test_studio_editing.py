"""Revisions, draft revisions of published items, the version check and scheduling: services and pages."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from reversion.models import Version

from content.models import Content, ContentAuditLog, ContentDraft
from content.services import drafts
from content.services.editing import content_create, content_update, content_version, revision_restore
from content.services.revisions import content_revisions, revision_compare
from content.services.scheduling import content_schedule, schedule_run
from content.services.workflow import content_submit
from content.tests.test_admin import form_data
from csn.errors import ApplicationError, ConflictError, PermissionDeniedError
from testing.factories import ContentFactory, TeamFactory

State = Content.State
pytestmark = pytest.mark.django_db


def browser(user):
    client = Client()
    client.force_login(user)
    return client


# --- revisions ---


def test_every_write_is_a_revision_and_two_compare_field_by_field(editor):
    team = TeamFactory(name="Lakers")
    item = content_create(actor=editor, title="First cut", type="clip", description="one")
    item = content_update(content=item, actor=editor, title="Second cut", teams=[team])
    content_submit(content=item, actor=editor)
    versions = list(content_revisions(content=item))
    assert len(versions) == 3 and versions[0].revision.user == editor
    assert versions[0].revision.comment.startswith("Submitted for review")
    changes = {c.name: c for c in revision_compare(older=versions[2], newer=versions[0])}
    assert (changes["title"].old, changes["title"].new) == ("First cut", "Second cut")
    assert (changes["teams"].old, changes["teams"].new) == ("—", "Lakers")
    assert (changes["state"].old, changes["state"].new) == ("Draft", "In review")
    assert not changes["description"].changed


def test_a_restore_is_a_new_revision_and_audited(editor):
    item = content_create(actor=editor, title="Original", type="clip", tags=["a"])
    first = content_revisions(content=item).get()
    item = content_update(content=item, actor=editor, title="Rewritten", tags=["b"])
    restored = revision_restore(content=item, version_id=first.pk, actor=editor)
    assert (restored.title, restored.tags) == ("Original", ["a"])
    assert content_revisions(content=item).count() == 3  # nothing rewritten: one more revision
    row = ContentAuditLog.objects.filter(content=item).order_by("-id").first()
    assert row.action == "restore" and row.summary() == "Restored an earlier revision (changed title and tags)"


def test_restore_follows_the_edit_rules(editor, publisher):
    item = content_create(actor=editor, title="Original", type="clip")
    first = content_revisions(content=item).get()
    content_update(content=item, actor=editor, title="Later")
    content_submit(content=item, actor=editor)
    with pytest.raises(PermissionDeniedError):  # in review: the publishers' now
        revision_restore(content=Content.objects.get(pk=item.pk), version_id=first.pk, actor=editor)
    other = ContentFactory()
    with pytest.raises(ApplicationError) as exc:  # another item's revision is not found
        revision_restore(content=other, version_id=first.pk, actor=publisher)
    assert exc.value.code == "not_found"


def test_revision_pages(editor):
    item = content_create(actor=editor, title="Original", type="clip")
    content_update(content=item, actor=editor, title="Rewritten")
    older, newer = content_revisions(content=item).order_by("pk")
    client = browser(editor)
    page = client.get(f"/admin/content/content/{item.pk}/revisions/").content.decode()
    assert "Changed title." in page and f'data-version="{older.pk}"' in page
    diff = client.get(f"/admin/content/content/{item.pk}/revisions/compare/", {"from": older.pk, "to": newer.pk})
    html = diff.content.decode()
    assert diff.status_code == 200 and 'data-field="title" class="changed"' in html
    bad = client.get(f"/admin/content/content/{item.pk}/revisions/compare/", {"from": "x", "to": "99999999"})
    assert bad.status_code == 302  # a message, not a 500
    response = client.post(f"/admin/content/content/{item.pk}/revisions/{older.pk}/restore/")
    assert response.status_code == 302 and Content.objects.get(pk=item.pk).title == "Original"


# --- draft revisions of published items ---


def test_a_draft_revision_goes_through_review_and_replaces_the_live_item(editor, publisher):
    item = ContentFactory(title="Live title", description="live")
    draft = drafts.draft_save(content=item, actor=editor, changes={"title": "New title", "description": "live"})
    assert draft.changes == {"title": "New title"}  # only what differs from the live item
    item.refresh_from_db()
    assert item.title == "Live title" and item.state == State.PUBLISHED
    drafts.draft_submit(content=item, actor=editor)
    with pytest.raises(PermissionDeniedError):
        drafts.draft_save(content=item, actor=editor, changes={"title": "Sneaky"})  # in review: publishers'
    with pytest.raises(ApplicationError) as exc:
        drafts.draft_reject(content=item, actor=publisher, reason="")
    assert exc.value.code == "reason_required"
    published = drafts.draft_publish(content=item, actor=publisher, note="looks good")
    assert published.title == "New title" and published.state == State.PUBLISHED
    assert not ContentDraft.objects.exists()
    words = [row.summary() for row in ContentAuditLog.objects.filter(content=item).order_by("id")]
    assert words == [
        "Draft revision started (title)",
        "Draft revision submitted for review",
        "Draft revision published (title)",
    ]
    assert Version.objects.get_for_object(item).count() == 1  # the publication is a revision


def test_draft_moves_are_refused_out_of_turn(editor, publisher):
    item = ContentFactory()
    with pytest.raises(ApplicationError) as exc:
        drafts.draft_publish(content=item, actor=publisher)
    assert exc.value.code == "no_draft"
    drafts.draft_save(content=item, actor=editor, changes={"title": "x"})
    with pytest.raises(ApplicationError) as exc:
        drafts.draft_publish(content=item, actor=publisher)  # not reviewed yet
    assert exc.value.code == "illegal_transition"
    with pytest.raises(PermissionDeniedError):
        drafts.draft_publish(content=item, actor=editor)  # publishers only
    draft_item = ContentFactory(state=State.DRAFT)
    with pytest.raises(ApplicationError) as exc:
        drafts.draft_save(content=draft_item, actor=editor, changes={"title": "x"})
    assert exc.value.code == "not_published"


def test_the_draft_revision_buttons_on_the_page(editor, publisher):
    item = ContentFactory(title="Live", slug="live")
    browser(editor).post(f"/admin/content/content/{item.pk}/change/", form_data(title="Drafted", slug="live"))
    page = browser(editor).get(f"/admin/content/content/{item.pk}/change/").content.decode()
    assert 'id="draft-banner"' in page and 'value="Drafted"' in page  # the form shows the draft
    browser(editor).post(f"/admin/content/content/{item.pk}/transition/", {"transition": "draft_submit"})
    browser(publisher).post(f"/admin/content/content/{item.pk}/transition/", {"transition": "draft_publish"})
    item.refresh_from_db()
    assert item.title == "Drafted" and item.state == State.PUBLISHED


# --- the version check ---


def test_a_save_over_a_newer_save_is_refused_with_who_changed_what(editor):
    item = content_create(actor=editor, title="Shared", type="clip")
    earlier = timezone.now() - timedelta(minutes=5)  # opened a while ago
    Content.objects.filter(pk=item.pk).update(updated_at=earlier)
    ContentAuditLog.objects.filter(content=item).update(created_at=earlier + timedelta(milliseconds=3))
    item.refresh_from_db()
    loaded = content_version(item)
    content_update(content=item, actor=editor, title="Theirs", loaded_version=loaded)
    with pytest.raises(ConflictError) as exc:
        content_update(content=item, actor=editor, description="Mine", loaded_version=loaded)
    assert exc.value.code == "edited_meanwhile"
    assert editor.display_name in exc.value.message and "changed title" in exc.value.message
    assert "created" not in exc.value.message  # the save the editor had loaded is not named
    assert Content.objects.get(pk=item.pk).description == ""


def test_the_page_keeps_the_second_editors_input_and_a_second_save_goes_through(editor):
    item = ContentFactory(state=State.DRAFT, title="Shared", slug="shared")
    page = browser(editor).get(f"/admin/content/content/{item.pk}/change/").content.decode()
    loaded = page.split('name="loaded_version" value="')[1].split('"')[0]
    first = browser(editor).post(
        f"/admin/content/content/{item.pk}/change/", form_data(title="First", slug="shared", loaded_version=loaded)
    )
    assert first.status_code == 302
    second = browser(editor).post(
        f"/admin/content/content/{item.pk}/change/", form_data(title="Second", slug="shared", loaded_version=loaded)
    )
    html = second.content.decode()
    assert second.status_code == 200 and "changed after you opened it" in html and 'value="Second"' in html
    assert Content.objects.get(pk=item.pk).title == "First"  # nothing lost, nothing overwritten silently
    newer = html.split('name="loaded_version" value="')[1].split('"')[0]
    again = browser(editor).post(
        f"/admin/content/content/{item.pk}/change/", form_data(title="Second", slug="shared", loaded_version=newer)
    )
    assert again.status_code == 302 and Content.objects.get(pk=item.pk).title == "Second"


# --- scheduling ---


def test_schedule_refuses_the_past_and_the_wrong_state(publisher, editor):
    item = ContentFactory(state=State.IN_REVIEW)
    past = timezone.now() - timedelta(minutes=1)
    with pytest.raises(ApplicationError) as exc:
        content_schedule(content=item, actor=publisher, publish_at=past, unpublish_at=None)
    assert exc.value.code == "schedule_in_past" and "publish_at" in exc.value.fields
    soon = timezone.now() + timedelta(minutes=5)
    with pytest.raises(ApplicationError) as exc:
        content_schedule(content=item, actor=publisher, publish_at=soon, unpublish_at=soon - timedelta(minutes=1))
    assert exc.value.code == "schedule_inverted"
    with pytest.raises(PermissionDeniedError):
        content_schedule(content=item, actor=editor, publish_at=soon, unpublish_at=None)
    draft = ContentFactory(state=State.DRAFT)
    with pytest.raises(ApplicationError) as exc:
        content_schedule(content=draft, actor=publisher, publish_at=soon, unpublish_at=None)
    assert exc.value.code == "illegal_schedule"


def test_beat_publishes_and_unpublishes_once_at_the_minute(publisher):
    item = ContentFactory(state=State.IN_REVIEW)
    now = timezone.now()
    at = now + timedelta(minutes=2)
    item = content_schedule(content=item, actor=publisher, publish_at=at, unpublish_at=at + timedelta(hours=1))
    assert item.publish_at.second == 0 and item.publish_at.microsecond == 0  # to the minute
    assert schedule_run(now=now) == {"published": 0, "unpublished": 0}
    assert schedule_run(now=at) == {"published": 1, "unpublished": 0}
    assert schedule_run(now=at) == {"published": 0, "unpublished": 0}  # idempotent
    item.refresh_from_db()
    assert item.state == State.PUBLISHED and item.publish_at is None and item.updated_by == publisher
    assert schedule_run(now=at + timedelta(hours=1)) == {"published": 0, "unpublished": 1}
    item.refresh_from_db()
    assert item.state == State.DRAFT and item.unpublish_at is None
    notes = list(ContentAuditLog.objects.filter(content=item, action="transition").values_list("note", flat=True))
    assert notes == ["As scheduled.", "As scheduled."]


def test_a_schedule_whose_publisher_lost_the_right_is_dropped(publisher):
    item = ContentFactory(state=State.IN_REVIEW)
    at = timezone.now() + timedelta(minutes=2)
    content_schedule(content=item, actor=publisher, publish_at=at, unpublish_at=None)
    publisher.groups.clear()
    type(publisher).objects.filter(pk=publisher.pk).update(is_active=True)
    assert schedule_run(now=at) == {"published": 0, "unpublished": 0}
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW and item.publish_at is None


def test_schedule_box_on_the_page(publisher):
    item = ContentFactory(state=State.IN_REVIEW)
    client = browser(publisher)
    assert 'id="schedule-form"' in client.get(f"/admin/content/content/{item.pk}/change/").content.decode()
    past = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/admin/content/content/{item.pk}/schedule/", {"publish_at": past}, follow=True)
    assert "must lie in the future" in response.content.decode()
    later = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/admin/content/content/{item.pk}/schedule/", {"publish_at": later, "unpublish_at": ""})
    item.refresh_from_db()
    assert item.publish_at is not None and item.scheduled_by == publisher
    garbage = client.post(f"/admin/content/content/{item.pk}/schedule/", {"publish_at": "soon"}, follow=True)
    assert garbage.status_code == 200 and "YYYY-MM-DD HH:MM" in garbage.content.decode()
