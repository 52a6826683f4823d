"""The editorial workflow: who may do what, in which state, and what the audit trail records."""

import pytest

from analytics.models import OutboxEvent
from content.models import Content, ContentAuditLog
from content.services.editing import content_create, content_update
from content.services.rights import content_transitions_for
from content.services.workflow import (
    TRANSITIONS,
    content_archive,
    content_publish,
    content_reject,
    content_submit,
    content_transition,
    content_unpublish,
)
from csn.errors import ApplicationError, PermissionDeniedError
from testing.factories import ContentFactory, PlayerFactory, TeamFactory

State = Content.State
ROLES = ["editor", "publisher", "superuser", "staff_without_role", "viewer"]
SOURCE = {
    "submit": State.DRAFT,
    "publish": State.IN_REVIEW,
    "reject": State.IN_REVIEW,
    "unpublish": State.PUBLISHED,
    "archive": State.PUBLISHED,
}
TARGET = {
    "submit": State.IN_REVIEW,
    "publish": State.PUBLISHED,
    "reject": State.DRAFT,
    "unpublish": State.DRAFT,
    "archive": State.ARCHIVED,
}
ALLOWED = {
    "submit": {"editor", "superuser"},
    "publish": {"publisher", "superuser"},
    "reject": {"publisher", "superuser"},
    "unpublish": {"publisher", "superuser"},
    "archive": {"publisher", "superuser"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(SOURCE))
def test_permission_matrix(request, role, name):
    actor = request.getfixturevalue(role)
    item = ContentFactory(state=SOURCE[name])
    if role in ALLOWED[name]:
        content_transition(content=item, actor=actor, name=name, note="needs a better title")
        item.refresh_from_db()
        assert item.state == TARGET[name]
        (row,) = ContentAuditLog.objects.filter(content=item)
        assert (row.action, row.actor, row.from_state, row.to_state, row.note) == (
            "transition",
            actor,
            SOURCE[name],
            TARGET[name],
            "needs a better title",  # every transition keeps its note
        )
    else:
        with pytest.raises(PermissionDeniedError) as exc:
            content_transition(content=item, actor=actor, name=name, note="needs a better title")
        assert exc.value.code == "not_allowed"
        item.refresh_from_db()
        assert item.state == SOURCE[name]
        assert not ContentAuditLog.objects.filter(content=item).exists()
        assert not OutboxEvent.objects.filter(name__startswith="content_").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_create_rights(request, role):
    actor = request.getfixturevalue(role)
    if role in {"editor", "superuser"}:
        item = content_create(actor=actor, title="Finals recap", type="highlight", tags=["Finals", "finals"])
        assert item.state == State.DRAFT and item.slug == "finals-recap" and item.tags == ["finals"]
        assert item.created_by == actor
        row = ContentAuditLog.objects.get(content=item)
        assert row.action == "create" and row.to_state == "draft" and "title" in row.changed_fields
        event = OutboxEvent.objects.get(name="content_added")
        assert event.distinct_id == str(actor.pk) and event.properties["content_id"] == item.pk
    else:
        with pytest.raises(PermissionDeniedError):
            content_create(actor=actor, title="Finals recap", type="highlight")
        assert not Content.objects.exists() and not ContentAuditLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "state", "allowed"),
    [
        ("editor", State.DRAFT, True),
        ("editor", State.IN_REVIEW, False),
        ("editor", State.PUBLISHED, False),
        ("publisher", State.DRAFT, True),
        ("publisher", State.IN_REVIEW, True),
        ("publisher", State.PUBLISHED, True),
        ("superuser", State.PUBLISHED, True),
        ("staff_without_role", State.DRAFT, False),
        ("viewer", State.DRAFT, False),
    ],
)
def test_edit_rights_by_state(request, role, state, allowed):
    actor = request.getfixturevalue(role)
    item = ContentFactory(state=state, title="Old")
    if allowed:
        content_update(content=item, actor=actor, title="New")
        item.refresh_from_db()
        assert item.title == "New" and item.updated_by == actor
        assert ContentAuditLog.objects.get(content=item).changed_fields == ["title"]
    else:
        with pytest.raises(PermissionDeniedError):
            content_update(content=item, actor=actor, title="New")
        item.refresh_from_db()
        assert item.title == "Old" and not ContentAuditLog.objects.exists()


@pytest.mark.django_db
def test_archived_items_are_read_only_even_for_superusers(superuser):
    item = ContentFactory(state=State.ARCHIVED)
    with pytest.raises(ApplicationError) as exc:
        content_update(content=item, actor=superuser, title="New")
    assert exc.value.code == "read_only"


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(SOURCE))
def test_illegal_transitions_are_refused_and_not_audited(superuser, name):
    transition = TRANSITIONS[name]
    for state in set(State.values) - set(transition.sources):
        item = ContentFactory(state=state)
        with pytest.raises(ApplicationError) as exc:
            content_transition(content=item, actor=superuser, name=name, note="reason")
        assert exc.value.code == "illegal_transition"
        assert State(state).label.lower() in exc.value.message
        item.refresh_from_db()
        assert item.state == state
    assert not ContentAuditLog.objects.exists()


@pytest.mark.django_db
def test_reject_needs_a_reason_and_keeps_it_for_the_editor(publisher):
    item = ContentFactory(state=State.IN_REVIEW)
    with pytest.raises(ApplicationError) as exc:
        content_reject(content=item, actor=publisher, reason="  ")
    assert exc.value.code == "reason_required" and "note" in exc.value.fields
    assert not ContentAuditLog.objects.exists()

    content_reject(content=item, actor=publisher, reason="Wrong score in the title")
    item.refresh_from_db()
    assert item.state == State.DRAFT and item.review_note == "Wrong score in the title"
    assert ContentAuditLog.objects.get(content=item).note == "Wrong score in the title"


@pytest.mark.django_db
def test_full_lifecycle_audit_trail_and_publish_event(editor, publisher):
    team = TeamFactory()
    item = content_create(actor=editor, title="Game 7", type="full_game", teams=[team], year=2024)
    content_update(content=item, actor=editor, description="The decider", players=[PlayerFactory(team=team)])
    content_submit(content=item, actor=editor)
    content_publish(content=item, actor=publisher)
    item.refresh_from_db()
    assert item.state == State.PUBLISHED and item.published_at is not None
    content_unpublish(content=item, actor=publisher)
    item.refresh_from_db()
    content_archive(content=item, actor=publisher)

    trail = list(
        ContentAuditLog.objects.filter(content=item).order_by("id").values_list("action", "from_state", "to_state")
    )
    assert trail == [
        ("create", "", "draft"),
        ("edit", "", ""),
        ("transition", "draft", "in_review"),
        ("transition", "in_review", "published"),
        ("transition", "published", "draft"),
        ("transition", "draft", "archived"),
    ]
    edit = ContentAuditLog.objects.get(content=item, action="edit")
    assert edit.changed_fields == ["description", "players"] and edit.actor == editor
    published = OutboxEvent.objects.get(name="content_published")
    assert published.distinct_id == str(publisher.pk)
    assert published.properties["content_id"] == item.pk and published.properties["content_type"] == "full_game"


@pytest.mark.django_db
def test_an_edit_that_changes_nothing_writes_nothing(editor):
    team = TeamFactory()
    item = ContentFactory(state=State.DRAFT, title="Same", teams=[team])
    content_update(content=item, actor=editor, title="Same", teams=[team])
    assert not ContentAuditLog.objects.exists()


@pytest.mark.django_db
def test_invalid_fields_are_refused_with_field_errors(editor):
    with pytest.raises(ApplicationError) as exc:
        content_create(actor=editor, title="X", type="podcast")
    assert exc.value.code == "invalid" and "type" in exc.value.fields
    item = ContentFactory(state=State.DRAFT)
    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(ApplicationError) as exc:
        content_update(content=item, actor=editor, available_from=now, available_until=now)
    assert "available_until" in exc.value.fields
    assert not ContentAuditLog.objects.exists() and not Content.objects.exclude(pk=item.pk).exists()


@pytest.mark.django_db
def test_a_stale_copy_cannot_edit_an_item_that_moved_on(editor, publisher):
    item = ContentFactory(state=State.DRAFT)
    stale = Content.objects.get(pk=item.pk)
    content_submit(content=item, actor=editor)
    with pytest.raises(ApplicationError) as exc:
        content_update(content=stale, actor=publisher, title="Sneaky")
    assert exc.value.code == "state_changed" and exc.value.status_code == 409


@pytest.mark.django_db
def test_transitions_for_lists_only_what_the_user_may_do(editor, publisher):
    item = ContentFactory(state=State.IN_REVIEW)
    assert [t.name for t in content_transitions_for(user=publisher, content=item)] == ["publish", "reject"]
    assert content_transitions_for(user=editor, content=item) == []


@pytest.mark.django_db
def test_duplicate_slug_is_a_field_error(editor):
    content_create(actor=editor, title="Recap", type="clip")
    with pytest.raises(ApplicationError) as exc:
        content_create(actor=editor, title="Another", slug="recap", type="clip")
    assert "slug" in exc.value.fields
    assert content_create(actor=editor, title="Recap", type="clip").slug == "recap-2"


@pytest.mark.django_db
def test_thumbnail_upload_replace_and_clear_are_audited(editor, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    item = content_create(
        actor=editor, title="With poster", type="clip", thumbnail=SimpleUploadedFile("a.png", b"png-a")
    )
    assert (tmp_path / item.thumbnail.name).read_bytes() == b"png-a"
    item = content_update(content=item, actor=editor, thumbnail=SimpleUploadedFile("b.png", b"png-b"))
    assert (tmp_path / item.thumbnail.name).read_bytes() == b"png-b"
    item = content_update(content=item, actor=editor, thumbnail=item.thumbnail)  # unchanged
    item = content_update(content=item, actor=editor, thumbnail=False)  # the admin's "clear"
    item.refresh_from_db()
    assert not item.thumbnail
    edits = ContentAuditLog.objects.filter(content=item, action="edit").values_list("changed_fields", flat=True)
    assert list(edits) == [["thumbnail"], ["thumbnail"]]


def test_every_transition_has_words_in_the_history():
    for transition in TRANSITIONS.values():
        for source in transition.sources:
            assert (source, transition.target) in ContentAuditLog.TRANSITION_WORDS, transition.name


@pytest.mark.django_db
def test_the_history_reads_as_words(editor, publisher):
    item = content_create(actor=editor, title="Finals recap", type="highlight", runtime_seconds=90)
    content_update(content=item, actor=editor, title="Finals recap, game 7", video_url="https://cdn.example.com/a.m3u8")
    content_submit(content=item, actor=editor, note="ready for a look")
    content_reject(content=item, actor=publisher, reason="the score is wrong")
    content_submit(content=item, actor=editor)
    content_publish(content=item, actor=publisher, note="lead story tonight")

    lines = [str(row) for row in ContentAuditLog.objects.filter(content=item).order_by("created_at", "id")]
    messages = [row.change_message() for row in ContentAuditLog.objects.filter(content=item).order_by("id")]

    editor_name, publisher_name = editor.display_name, publisher.display_name
    assert lines == [
        f"Created by {editor_name}",
        f"Changed title and video url by {editor_name}",
        f"Submitted for review (Draft → In review) by {editor_name}",
        f"Sent back to draft (In review → Draft) by {publisher_name}",
        f"Submitted for review (Draft → In review) by {editor_name}",
        f"Approved and published (In review → Published) by {publisher_name}",
    ]
    assert messages[2] == "Submitted for review (Draft → In review). Note: ready for a look"
    assert messages[3].endswith("Note: the score is wrong")
    assert messages[4] == "Submitted for review (Draft → In review)."
    assert messages[5].endswith("Note: lead story tonight")


@pytest.mark.django_db
def test_the_history_names_a_deleted_actor_and_a_removed_field(editor):
    item = ContentFactory(state=State.DRAFT)
    row = ContentAuditLog.objects.create(content=item, actor=None, action="edit", changed_fields=["old_field", "tags"])
    assert str(row) == "Changed old field and tags by a deleted account"


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_has_its_editorial_groups_again():
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    publishers = Group.objects.get(name="Publishers")
    assert publishers.permissions.filter(codename="publish_content").exists()
    assert Group.objects.get(name="Editors").permissions.filter(codename="submit_content").exists()
