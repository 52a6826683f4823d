"""The watch page end to end: real daphne, real headless Chromium (Debian's `chromium`)."""

import json
import os
import urllib.request

import pytest
from django.conf import global_settings, settings
from django.test import Client as HttpClient

from accounts.services import token_issue
from streaming.live.tests.factories import scorekeeper
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHROMIUM = os.environ.get("CSN_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
HOSTILE = '<img src=x onerror="window.pwned=1"><b>bold</b>'


def _session(user) -> str:
    http = HttpClient()
    http.force_login(user)
    return http.cookies[settings.SESSION_COOKIE_NAME].value


def _chromium(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-extensions",
        ],
    )


def test_watch_page_not_found_for_unknown_game(client):
    assert client.get("/watch/999999/").status_code == 404


def test_chat_and_scores_reach_every_page_and_html_stays_text():
    from playwright.sync_api import expect, sync_playwright

    game = LiveGameFactory(home_score=0, away_score=0)
    alice, bob = UserFactory(display_name="Alice"), UserFactory(display_name="Bob")
    cookies = {"alice": _session(alice), "bob": _session(bob)}
    keeper_token = token_issue(user=scorekeeper()).key

    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            pages = {}
            for name, session in cookies.items():
                context = browser.new_context()
                context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
                page = context.new_page()
                page.goto(f"{base}/watch/{game.pk}/")
                expect(page.locator("#conn")).to_have_text("live")
                expect(page.locator("#chat-text")).to_be_enabled()
                pages[name] = page

            pages["alice"].fill("#chat-text", HOSTILE)
            pages["alice"].press("#chat-text", "Enter")
            for page in pages.values():
                line = page.locator("#chat li .text").last
                expect(line).to_have_text(HOSTILE)  # shown as text
                assert page.locator("#chat img, #chat b").count() == 0
                assert page.evaluate("window.pwned === undefined")
            expect(pages["bob"].locator("#chat li .author").last).to_have_text("Alice")

            pages["bob"].fill("#chat-text", "what a game")
            pages["bob"].press("#chat-text", "Enter")
            expect(pages["alice"].locator("#chat li .text").last).to_have_text("what a game")

            request = urllib.request.Request(
                f"{base}/api/v1/games/{game.pk}/events/",
                data=json.dumps({"home_score": 7, "period": "Q3", "description": "Three from the corner"}).encode(),
                headers={"Authorization": f"Token {keeper_token}", "Content-Type": "application/json"},
                method="POST",
            )
            assert urllib.request.urlopen(request, timeout=10).status == 201
            for page in pages.values():
                expect(page.locator("#home-score")).to_have_text("7")
                expect(page.locator("#period")).to_have_text("Q3")
                expect(page.locator("#plays li").first).to_contain_text("Three from the corner")
                expect(page.locator("#viewers")).to_have_text("2")
        finally:
            browser.close()


def test_a_viewer_signs_in_from_the_watch_page_chats_and_signs_out(settings):
    from playwright.sync_api import expect, sync_playwright

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # as the server process checks it
    game = LiveGameFactory()
    UserFactory(email="fan@example.com", display_name="Fan", password=PASSWORD)
    watch = f"/watch/{game.pk}/"

    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{base}{watch}")
            expect(page.locator("#conn")).to_have_text("live")
            page.click("#chat-sign-in")
            expect(page).to_have_url(f"{base}/accounts/sign-in/?next={watch}")
            page.fill("input[name=username]", "Fan@Example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("#sign-in button[type=submit]")

            expect(page).to_have_url(f"{base}{watch}")
            expect(page.locator("#chat-text")).to_be_enabled()
            page.fill("#chat-text", "signed in and chatting")
            page.press("#chat-text", "Enter")
            expect(page.locator("#chat li .text").last).to_have_text("signed in and chatting")
            expect(page.locator("#chat li .author").last).to_have_text("Fan")

            other_tab = context.new_page()  # the same browser session, open on the same game
            other_tab.goto(f"{base}{watch}")
            expect(other_tab.locator("#chat-text")).to_be_enabled()

            page.click("#sign-out button[type=submit]")
            expect(page).to_have_url(f"{base}{watch}")
            expect(page.locator("#chat-sign-in")).to_be_visible()
            expect(page.locator("#chat-form")).to_have_count(0)
            # The other tab's socket closes (4401) and it offers to sign in again, back to this game.
            expect(other_tab.locator("#conn")).to_have_text("signed out")
            again = other_tab.locator("#notice a")
            expect(again).to_have_text("Sign in again")
            expect(again).to_have_attribute("href", f"/accounts/sign-in/?next={watch}")
        finally:
            browser.close()
