"""The CMS as editors use it: pages, saves, workflow buttons and bulk actions, all through the services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from analytics.models import OutboxEvent
from content.models import Content, ContentAuditLog, Game, MediaAsset
from testing.factories import ContentFactory, GameFactory, MediaAssetFactory, PlayerFactory, TeamFactory
from testing.images import image_bytes

State = Content.State
INLINES = {
    "media-TOTAL_FORMS": "0",
    "media-INITIAL_FORMS": "0",
    "audit_log-TOTAL_FORMS": "0",
    "audit_log-INITIAL_FORMS": "0",
}


def browser(user):
    client = Client()
    client.force_login(user)
    return client


def form_data(**overrides):
    data = {
        "title": "Finals Game 7",
        "slug": "finals-game-7",
        "type": "full_game",
        "description": "",
        "year": "2024",
        "runtime_seconds": "7200",
        "tags": "Finals, NBA",
        "video_url": "https://cdn.example.com/g7/master.m3u8",
        "available_from_0": "",
        "available_from_1": "",
        "available_until_0": "",
        "available_until_1": "",
        **INLINES,
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_changelist_with_filters_search_and_date_hierarchy(editor):
    team = TeamFactory(name="Lakers")
    ContentFactory(title="Lakers recap", teams=[team], state=State.DRAFT)
    ContentFactory(title="Other")
    client = browser(editor)
    response = client.get("/admin/content/content/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Lakers recap", "By state", "By type", "By is premium", "By year", "Submit selected for review"):
        assert text in page, text
    response = client.get(
        "/admin/content/content/", {"q": "lakers", "state__exact": "draft", "teams__id__exact": team.pk}
    )
    assert response.status_code == 200 and "Lakers recap" in response.content.decode()
    assert "Other" not in response.content.decode()
    assert client.get("/admin/content/content/", {"created_at__year": "2020"}).status_code == 200


@pytest.mark.django_db
def test_add_through_admin_uses_the_service(editor):
    team, game = TeamFactory(), GameFactory()
    player = PlayerFactory(team=team)
    response = browser(editor).post(
        "/admin/content/content/add/",
        form_data(teams=[team.pk], players=[player.pk], game=game.pk),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Content.objects.get(slug="finals-game-7")
    assert item.state == State.DRAFT and item.created_by == editor and item.tags == ["finals", "nba"]
    assert list(item.teams.all()) == [team] and list(item.players.all()) == [player] and item.game == game
    audit = ContentAuditLog.objects.get(content=item)
    assert audit.action == "create" and "teams" in audit.changed_fields
    assert OutboxEvent.objects.filter(name="content_added").count() == 1


@pytest.mark.django_db
def test_edit_through_admin_audits_changed_fields_and_shows_history(editor):
    item = ContentFactory(
        state=State.DRAFT,
        title="Old title",
        slug="old",
        tags=["finals", "nba"],
        year=2024,
        runtime_seconds=7200,
        type="full_game",
        video_url="https://cdn.example.com/g7/master.m3u8",
    )
    client = browser(editor)
    response = client.post(f"/admin/content/content/{item.pk}/change/", form_data(title="New title", slug="old"))
    assert response.status_code == 302, response.content.decode()[:3000]
    audit = ContentAuditLog.objects.get(content=item)
    assert audit.action == "edit" and audit.changed_fields == ["title"] and audit.actor == editor
    page = client.get(f"/admin/content/content/{item.pk}/change/").content.decode()
    assert "History" in page and "Submit for review" in page


@pytest.mark.django_db
def test_notes_typed_with_submit_and_publish_reach_both_histories_in_words(editor, publisher):
    client = browser(editor)
    assert client.post("/admin/content/content/add/", form_data()).status_code == 302
    item = Content.objects.get(slug="finals-game-7")
    client.post(f"/admin/content/content/{item.pk}/change/", form_data(title="Finals, game 7", slug="finals-game-7"))
    url = f"/admin/content/content/{item.pk}/transition/"
    client.post(url, {"transition": "submit", "note": "Cut to 2 hours"})
    browser(publisher).post(url, {"transition": "publish", "note": "Lead story tonight"})

    notes = list(ContentAuditLog.objects.filter(content=item).order_by("id").values_list("note", flat=True))
    assert notes == ["", "", "Cut to 2 hours", "Lead story tonight"]

    change_page = browser(publisher).get(f"/admin/content/content/{item.pk}/change/").content.decode()
    history_page = browser(publisher).get(f"/admin/content/content/{item.pk}/history/").content.decode()
    for page in (change_page, history_page):
        for words in (
            "Created",
            "Changed title",
            "Submitted for review (Draft → In review)",
            "Cut to 2 hours",
            "Approved and published (In review → Published)",
            "Lead story tonight",
        ):
            assert words in page, words
        for raw in (f"create {item.pk} by", f"transition {item.pk} by", "[&#x27;title&#x27;]", "in_review"):
            assert raw not in page, raw
    assert editor.email in history_page and publisher.email in history_page


@pytest.mark.django_db
def test_the_audit_log_list_reads_as_words(editor, superuser):
    item = ContentFactory(state=State.DRAFT, title="Recap")
    browser(editor).post(f"/admin/content/content/{item.pk}/transition/", {"transition": "submit", "note": "ok?"})
    client = browser(superuser)

    page = client.get("/admin/content/contentauditlog/").content.decode()
    assert "Submitted for review (Draft → In review)" in page and "ok?" in page
    assert "in_review" not in page.replace('to_state=in_review"', "")  # the filter's link may carry the code
    assert "In review" in client.get("/admin/content/contentauditlog/", {"to_state": "in_review"}).content.decode()
    row = ContentAuditLog.objects.get(content=item)
    detail = client.get(f"/admin/content/contentauditlog/{row.pk}/change/").content.decode()
    assert "Submitted for review (Draft → In review)" in detail


@pytest.mark.django_db
def test_editors_change_published_items_only_through_a_draft_revision(editor):
    item = ContentFactory(title="On air", slug="on-air")
    client = browser(editor)
    page = client.get(f"/admin/content/content/{item.pk}/change/").content.decode()
    assert 'name="title"' in page and 'name="_save_draft"' in page
    response = client.post(f"/admin/content/content/{item.pk}/change/", form_data(title="Retitled", slug="on-air"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.title == "On air" and item.state == "published"  # the live item is untouched
    assert item.pending_draft.changes["title"] == "Retitled"
    assert list(ContentAuditLog.objects.values_list("action", "to_state")) == [("draft", "draft")]


@pytest.mark.django_db
def test_workflow_buttons(editor, publisher):
    item = ContentFactory(state=State.DRAFT)
    url = f"/admin/content/content/{item.pk}/transition/"
    response = browser(publisher).post(url, {"transition": "submit"}, follow=True)
    assert "You may not submit for review" in response.content.decode()
    item.refresh_from_db()
    assert item.state == State.DRAFT

    browser(editor).post(url, {"transition": "submit"})
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW
    page = browser(publisher).get(f"/admin/content/content/{item.pk}/change/").content.decode()
    assert "Approve and publish" in page and "Send back to draft" in page

    response = browser(publisher).post(url, {"transition": "reject", "note": ""}, follow=True)
    assert "Say why" in response.content.decode()
    browser(publisher).post(url, {"transition": "reject", "note": "Score is wrong"})
    item.refresh_from_db()
    assert item.state == State.DRAFT and item.review_note == "Score is wrong"
    page = browser(editor).get(f"/admin/content/content/{item.pk}/change/").content.decode()
    assert "Sent back by the reviewer: Score is wrong" in page
    assert ContentAuditLog.objects.filter(content=item).count() == 2


@pytest.mark.django_db
def test_bulk_publish_reports_refusals_per_item(publisher):
    ready = ContentFactory.create_batch(2, state=State.IN_REVIEW)
    draft = ContentFactory(state=State.DRAFT, title="Not ready")
    response = browser(publisher).post(
        "/admin/content/content/",
        {"action": "publish_selected", "_selected_action": [c.pk for c in [*ready, draft]]},
        follow=True,
    )
    page = response.content.decode()
    assert "Approve and publish: 2 item(s) done." in page
    assert "Not ready" in page and "refused for 1 item(s)" in page
    assert set(Content.objects.filter(pk__in=[c.pk for c in ready]).values_list("state", flat=True)) == {"published"}
    draft.refresh_from_db()
    assert draft.state == State.DRAFT
    assert OutboxEvent.objects.filter(name="content_published").count() == 2


@pytest.mark.django_db
def test_bulk_reject_asks_for_a_reason_first(publisher):
    items = ContentFactory.create_batch(2, state=State.IN_REVIEW)
    client = browser(publisher)
    data = {"action": "reject_selected", "_selected_action": [c.pk for c in items]}
    response = client.post("/admin/content/content/", data)
    assert response.status_code == 200 and "Say what needs to change" in response.content.decode()
    assert set(Content.objects.values_list("state", flat=True)) == {"in_review"}
    client.post("/admin/content/content/", {**data, "apply": "1", "reason": "Needs captions"})
    assert set(Content.objects.values_list("state", "review_note")) == {("draft", "Needs captions")}


@pytest.mark.django_db
def test_media_upload_in_admin_with_status_visible(editor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    item = ContentFactory(state=State.DRAFT)
    client = browser(editor)
    file = SimpleUploadedFile("poster.png", image_bytes(), content_type="image/png")
    response = client.post(
        "/admin/content/mediaasset/add/", {"file": file, "folder_path": "posters/", "tags": "a, b", "content": item.pk}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    asset = MediaAsset.objects.get()
    assert (asset.status, asset.folder_path, asset.tags, asset.uploaded_by) == (
        "uploaded",
        "posters",
        ["a", "b"],
        editor,
    )
    assert (tmp_path / asset.file.name).exists()
    listing = client.get("/admin/content/mediaasset/").content.decode()
    assert "Uploaded" in listing and f"/admin/content/mediaasset/{asset.pk}/file/" in listing
    assert client.get(f"/admin/content/mediaasset/{asset.pk}/file/").status_code == 200
    assert "Uploaded" in client.get(f"/admin/content/content/{item.pk}/change/").content.decode()

    bad = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/x-dosexec")
    response = client.post("/admin/content/mediaasset/add/", {"file": bad, "folder_path": "", "tags": ""})
    assert response.status_code == 200 and "are not accepted" in response.content.decode()
    assert MediaAsset.objects.count() == 1


@pytest.mark.django_db
def test_failed_upload_shows_its_error(editor):
    MediaAssetFactory(status="failed", error="The file never reached storage.")
    page = browser(editor).get("/admin/content/mediaasset/").content.decode()
    assert "Failed" in page


@pytest.mark.django_db
def test_autocomplete_for_teams_players_and_games(editor):
    TeamFactory(name="Los Angeles Lakers")
    PlayerFactory(name="Anthony Davis")
    client = browser(editor)
    for field, term, expected in (("teams", "lak", "Los Angeles Lakers"), ("players", "davis", "Anthony Davis")):
        response = client.get(
            "/admin/autocomplete/",
            {"app_label": "content", "model_name": "content", "field_name": field, "term": term},
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["text"].startswith(expected)
    game = GameFactory()
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "content", "model_name": "content", "field_name": "game", "term": game.home_team.name},
    )
    assert response.json()["results"][0]["id"] == str(game.pk)


@pytest.mark.django_db
def test_audit_log_is_read_only_and_delete_is_for_superusers(editor, superuser):
    item = ContentFactory(state=State.DRAFT)
    client = browser(editor)
    assert client.get("/admin/content/contentauditlog/").status_code == 200
    assert client.get("/admin/content/contentauditlog/add/").status_code == 403
    assert client.get(f"/admin/content/content/{item.pk}/delete/").status_code == 403
    assert browser(superuser).get(f"/admin/content/content/{item.pk}/delete/").status_code == 200


@pytest.mark.django_db
def test_other_catalogue_pages_load(editor):
    GameFactory(status="live")
    PlayerFactory()
    client = browser(editor)
    for url in (
        "/admin/content/team/",
        "/admin/content/player/",
        "/admin/content/game/",
        "/admin/content/content/add/",
    ):
        assert client.get(url).status_code == 200, url


def game_form(game, **overrides):
    data = {
        "home_team": game.home_team_id,
        "away_team": game.away_team_id,
        "sport": game.sport,
        "venue": game.venue,
        "starts_at_0": game.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": game.starts_at.strftime("%H:%M:%S"),
        "status": game.status,
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["live", "final"])
def test_a_started_game_status_score_period_and_clock_are_not_edited_in_admin(editor, superuser, status):
    game = GameFactory(status=status, home_score=3, away_score=1, period="Q2", clock="5:00")
    for user in (editor, superuser):
        client = browser(user)
        page = client.get(f"/admin/content/game/{game.pk}/change/").content.decode()
        assert 'name="home_score"' not in page and 'name="status"' not in page
        assert f"/admin/streaming/gameevent/add/?game={game.pk}" in page  # the scorekeeper's service
        response = client.post(
            f"/admin/content/game/{game.pk}/change/",
            game_form(
                game, status="scheduled", home_score="99", away_score="98", period="OT", clock="0:01", venue="New"
            ),
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        game.refresh_from_db()
        assert (game.status, game.home_score, game.away_score, game.period, game.clock) == (status, 3, 1, "Q2", "5:00")
        assert game.venue == "New"


@pytest.mark.django_db
def test_an_unstarted_game_may_be_postponed_but_not_set_live_in_admin(editor):
    game = GameFactory()
    client = browser(editor)

    refused = client.post(f"/admin/content/game/{game.pk}/change/", game_form(game, status="live", home_score="5"))
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    game.refresh_from_db()
    assert (game.status, game.home_score) == ("scheduled", 0)

    postponed = client.post(f"/admin/content/game/{game.pk}/change/", game_form(game, status="postponed"))
    assert postponed.status_code == 302
    game.refresh_from_db()
    assert game.status == "postponed"

    added = client.post("/admin/content/game/add/", game_form(game, status="live", home_score="5", venue="Added"))
    assert added.status_code == 200 and "Select a valid choice" in added.content.decode()


@pytest.mark.django_db
def test_a_game_that_went_live_while_its_page_was_open_keeps_its_status_and_score(editor):
    game = GameFactory()
    page_read = game_form(game, venue="Renamed")
    Game.objects.filter(pk=game.pk).update(status="live", home_score=2)  # the scorekeeper, meanwhile

    response = browser(editor).post(f"/admin/content/game/{game.pk}/change/", page_read)

    assert response.status_code == 302
    game.refresh_from_db()
    assert (game.status, game.home_score, game.venue) == ("live", 2, "Renamed")
