"""CSN Studio end to end: real daphne, headless Chromium (Debian's), the issue's four stories. The
screenshots in docs/cms.md are taken here: set CSN_SCREENSHOT_DIR=docs/img to refresh them."""

import importlib
import json
import os
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client as HttpClient
from django.utils import timezone

from content.models import Content, ContentAuditLog, Game, ImportJob
from content.services.editing import content_create, content_update
from content.services.imports import import_check, import_commit
from content.services.scheduling import schedule_run
from streaming.live.models import GameEvent, LiveSession
from streaming.live.tests.test_watch_page import _chromium
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SHOTS = Path(os.environ.get("CSN_SCREENSHOT_DIR") or settings.BASE_DIR / "var" / "screenshots")
TIMEOUT = 15_000  # ms, for each wait in the browser
PRESENCE = 25_000  # ms: past the editing page's 20 s resync


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; the test's own ORM calls between its
    steps run one at a time and are safe, which Django cannot tell from the loop it sees."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def role(group_name: str, **kwargs):
    """A staff member of a role group, with the group's rights (a transactional test's flush empties the
    groups the migration made, so they are given again from the migration's own list)."""
    rights = importlib.import_module("content.migrations.0003_editorial_groups").GROUP_PERMISSIONS[group_name]
    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="content", codename__in=rights))
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(group)
    return user


def _session(user) -> str:
    http = HttpClient()
    http.force_login(user)
    return http.cookies[settings.SESSION_COOKIE_NAME].value


def _page(browser, base, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": _session(user), "url": base}])
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"studio-{name}.png"), full_page=False)


def _run_queued_imports() -> None:
    """What the Celery worker does when REDIS_URL is set (the server only queues); embedded, the server
    ran them in-process already and nothing is left."""
    for job in ImportJob.objects.filter(status=ImportJob.Status.CHECKING):
        import_check(job_id=job.pk)
    for job in ImportJob.objects.filter(status=ImportJob.Status.IMPORTING):
        import_commit(job_id=job.pk)


def test_an_editor_drafts_and_submits_a_publisher_schedules_beat_publishes_and_the_api_shows_it():
    from playwright.sync_api import expect, sync_playwright

    editor = role("Editors", display_name="Erin Editor")
    publisher = role("Publishers", display_name="Pat Publisher")
    game = LiveGameFactory(home_team=TeamFactory(name="Lakers"), away_team=TeamFactory(name="Celtics"))
    now = timezone.now()
    for minutes in (50, 35, 20, 10, 0):  # viewers arriving over the hour
        session = LiveSession.objects.create(game=game, user=UserFactory(), last_heartbeat_at=now)
        LiveSession.objects.filter(pk=session.pk).update(started_at=now - timedelta(minutes=minutes))
    GameEvent.objects.create(game=game, description="Three from the corner", status="live", home_score=3, away_score=0)
    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            page = _page(browser, base, editor)
            page.goto(f"{base}/admin/content/content/add/")
            page.fill("#id_title", "Game 7 recap")
            page.select_option("#id_type", "highlight")
            page.fill("#id_description", "Every basket of the night.")
            page.click("input[name=_continue]")
            expect(page.locator(".messagelist")).to_contain_text("was added successfully")
            page.fill("input[name=note]", "Ready for the late show")
            page.click("button[value=submit]")
            expect(page.locator(".messagelist")).to_contain_text("is now in review")
            item = Content.objects.get(title="Game 7 recap")
            assert item.state == Content.State.IN_REVIEW

            page = _page(browser, base, publisher)
            page.goto(f"{base}/admin/")
            expect(page.locator("#panel-review")).to_contain_text("Game 7 recap")
            page.goto(f"{base}/admin/content/content/{item.pk}/change/")
            at = timezone.localtime(timezone.now() + timedelta(minutes=2)).replace(second=0, microsecond=0)
            page.fill("input[name=publish_at]", at.strftime("%Y-%m-%dT%H:%M"))
            page.click("#schedule-form button[type=submit]")
            expect(page.locator(".messagelist")).to_contain_text("Schedule saved")
            page.goto(f"{base}/admin/")
            expect(page.locator("#panel-scheduled")).to_contain_text("Game 7 recap")
            expect(page.locator(f"#panel-live tr[data-game='{game.pk}'] .viewers")).to_have_text("5")
            expect(page.locator("#panel-live")).to_contain_text("Three from the corner")
            _shot(page, "dashboard")

            assert schedule_run(now=at - timedelta(minutes=1)) == {"published": 0, "unpublished": 0}
            assert schedule_run(now=at) == {"published": 1, "unpublished": 0}  # beat's run at that minute
            assert schedule_run(now=at) == {"published": 0, "unpublished": 0}
            with urllib.request.urlopen(f"{base}/api/v1/content/{item.pk}/", timeout=10) as response:
                shown = json.load(response)
            assert shown["title"] == "Game 7 recap"
            page.goto(f"{base}/admin/content/content/{item.pk}/change/")
            expect(page.locator(".field-state_badge")).to_contain_text("Published")
            expect(page.locator("#audit_log-group")).to_contain_text("Approved and published")
            _shot(page, "item")
        finally:
            browser.close()


def test_two_editors_on_one_item_the_second_is_warned_and_nothing_is_lost():
    from playwright.sync_api import expect, sync_playwright

    alice = role("Editors", display_name="Alice")
    bob = role("Editors", display_name="Bob")
    item = content_create(actor=alice, title="Shared story", type="clip", description="first words")
    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            first = _page(browser, base, alice)
            first.goto(f"{base}/admin/content/content/{item.pk}/change/")
            second = _page(browser, base, bob)
            second.goto(f"{base}/admin/content/content/{item.pk}/change/")
            # Live, both ways (the page also resyncs every 20 s, hence the long wait at most).
            expect(second.locator("#studio-editors")).to_contain_text("Also open by Alice", timeout=PRESENCE)
            expect(first.locator("#studio-editors")).to_contain_text("Also open by Bob", timeout=PRESENCE)

            first.fill("#id_title", "Alice's title")
            first.click("input[name=_continue]")
            expect(first.locator(".messagelist")).to_contain_text("was changed successfully")

            second.fill("#id_description", "Bob's better words")
            second.click("input[name=_continue]")
            expect(second.locator(".errorlist.nonfield")).to_contain_text("changed after you opened it")
            expect(second.locator(".errorlist.nonfield")).to_contain_text("Alice")
            expect(second.locator("#id_description")).to_have_value("Bob's better words")  # his input kept
            _shot(second, "conflict")
            assert Content.objects.get(pk=item.pk).title == "Alice's title"  # hers not overwritten

            second.click("input[name=_continue]")  # having seen the warning: save again
            expect(second.locator(".messagelist")).to_contain_text("was changed successfully")
            saved = Content.objects.get(pk=item.pk)
            assert saved.description == "Bob's better words"
            edits = ContentAuditLog.objects.filter(content=item, action="edit").count()
            assert edits == 2  # both saves are in the history
            second.close()
            expect(first.locator("#studio-editors")).to_be_hidden(timeout=PRESENCE)  # Bob left
        finally:
            browser.close()


def test_a_revision_compared_and_restored():
    from playwright.sync_api import expect, sync_playwright

    editor = role("Editors", display_name="Erin")
    item = content_create(actor=editor, title="Original headline", type="clip", tags=["finals"])
    content_update(content=item, actor=editor, title="Worse headline", tags=["finals", "oops"])
    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            page = _page(browser, base, editor)
            page.goto(f"{base}/admin/content/content/{item.pk}/change/")
            page.click("#revisions-link")
            expect(page.locator("#revisions tbody tr")).to_have_count(2)
            page.click("#compare")
            expect(page.locator("#diff tr[data-field=title].changed")).to_contain_text("Worse headline")
            expect(page.locator("#diff tr[data-field=tags].changed")).to_contain_text("finals, oops")
            _shot(page, "compare")
            page.click("#restore-older")
            expect(page.locator(".messagelist")).to_contain_text("restored as a new revision")
            expect(page.locator("#id_title")).to_have_value("Original headline")
            expect(page.locator("#audit_log-group")).to_contain_text("Restored an earlier revision")
        finally:
            browser.close()
    assert Content.objects.get(pk=item.pk).tags == ["finals"]


def _games_csv(path: Path, count: int, bad_rows: dict[int, str] | None = None) -> Path:
    bad_rows = bad_rows or {}
    with path.open("w", encoding="utf-8") as out:
        out.write("external_id,home_team,away_team,starts_at,venue\n")
        for n in range(1, count + 1):
            out.write(
                bad_rows.get(n) or f"nba-{n},lakers,celtics,2031-{1 + n % 12:02d}-{1 + n % 28:02d}T19:30:00Z,Arena\n"
            )
    return path


def test_a_csv_of_ten_thousand_games_with_a_progress_bar_and_errors_listed(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    editor = role("Editors", display_name="Erin")
    TeamFactory(slug="lakers", name="Lakers")
    TeamFactory(slug="celtics", name="Celtics")
    broken = _games_csv(
        tmp_path / "broken.csv",
        10_000,
        {
            17: "nba-17,lakers,unknown-team,2031-01-01T19:30:00Z,Arena\n",
            4242: "nba-1,lakers,celtics,2031-01-01,Arena\n",
        },
    )
    clean = _games_csv(tmp_path / "schedule.csv", 10_000)
    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            page = _page(browser, base, editor)
            page.goto(f"{base}/admin/content/importjob/add/")
            page.select_option("#id_kind", "games")
            page.set_input_files("#id_file", str(broken))
            # The upload's bar shows while the file goes up; a fast upload may navigate on before a check
            # could look, so the page notes (in the tab's sessionStorage, kept across the navigation)
            # that the bar was shown.
            page.evaluate(
                """() => { const bar = document.querySelector('#upload-progress');
                new MutationObserver(() => { if (!bar.hidden) sessionStorage.setItem('bar-shown', '1'); })
                    .observe(bar, {attributes: true}); }"""
            )
            page.click("#import-form input[type=submit]")
            page.wait_for_url(f"{base}/admin/content/importjob/*/change/")
            assert page.evaluate("sessionStorage.getItem('bar-shown')") == "1"
            _run_queued_imports()
            page.reload()
            expect(page.locator("#job-status")).to_have_text("Refused: errors in the file")
            expect(page.locator("#job-errors")).to_contain_text("No team with slug “unknown-team”")
            expect(page.locator("#job-errors")).to_contain_text("appears twice")
            expect(page.locator("#job-errors tbody tr")).to_have_count(2)
            _shot(page, "import-errors")
            assert not Game.objects.exists()

            page.goto(f"{base}/admin/content/importjob/add/")
            page.select_option("#id_kind", "games")
            page.set_input_files("#id_file", str(clean))
            page.click("#import-form input[type=submit]")
            page.wait_for_url(f"{base}/admin/content/importjob/*/change/")
            _run_queued_imports()
            page.reload()
            expect(page.locator("#job-progress")).to_have_attribute("value", "10000")  # the check's bar
            expect(page.locator("#job-preview tbody tr")).to_have_count(20)
            page.click("#import-now")
            _run_queued_imports()
            page.reload()
            expect(page.locator("#job-status")).to_have_text("Imported")
            expect(page.locator("#job-message")).to_contain_text("10000 created")
            _shot(page, "import-done")
        finally:
            browser.close()
    assert Game.objects.count() == 10_000


def test_a_large_upload_goes_straight_to_storage_with_a_progress_bar_and_the_api_shows_its_image(tmp_path, settings):
    from playwright.sync_api import expect, sync_playwright

    from content.models import MediaAsset
    from content.services.media import media_asset_update
    from content.services.renditions import renditions_make
    from testing.factories import ContentFactory
    from testing.images import image_bytes

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media  # the server's storage too (MEDIA_ROOT below)
    poster = tmp_path / "poster.png"
    poster.write_bytes(image_bytes(900, 600))
    editor = role("Editors", display_name="Erin")
    item = ContentFactory(title="Finals recap")
    with daphne_on_test_db(env={"MEDIA_ROOT": str(media)}) as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            page = _page(browser, base, editor)
            page.goto(f"{base}/admin/content/mediaasset/")
            page.click("#direct-upload-link")
            page.set_input_files("#direct-file", str(poster))
            page.fill("input[name=folder_path]", "basketball/posters")
            page.evaluate(
                """() => { const bar = document.querySelector('#direct-progress');
                new MutationObserver(() => { if (!bar.hidden) sessionStorage.setItem('bar-shown', '1'); })
                    .observe(bar, {attributes: true}); }"""
            )
            page.click("#direct-upload input[type=submit]")
            page.wait_for_url(f"{base}/admin/content/mediaasset/*/change/")
            assert page.evaluate("sessionStorage.getItem('bar-shown')") == "1"
            asset = MediaAsset.objects.get()
            assert (asset.folder_path, asset.size_bytes) == ("basketball/posters", poster.stat().st_size)
            if asset.status == MediaAsset.Status.UPLOADED:  # REDIS_URL: the server queued it for a worker
                renditions_make(asset_id=asset.pk)
            asset.refresh_from_db()
            assert asset.status == MediaAsset.Status.READY and asset.renditions.count() == 6
            page.reload()
            expect(page.locator("body")).to_contain_text("320 x 213 WEBP")

            media_asset_update(asset=asset, actor=editor, folder_path=asset.folder_path, tags=[], content=item)
            with urllib.request.urlopen(f"{base}/api/v1/content/{item.pk}/") as answer:
                images = json.load(answer)["images"]
            assert [(i["width"], i["format"]) for i in images][:2] == [(320, "jpeg"), (320, "webp")]
            assert {i["width"] for i in images} == {320, 640, 900}
            with urllib.request.urlopen(base + images[1]["url"]) as served:
                assert served.read(4) == b"RIFF"  # WebP, from the storage
        finally:
            browser.close()
