"""The watch page's reconnect policy in headless Chromium, against a scripted gateway (Playwright's
websocket routing): it asks for its protocol version, comes back after a restart (1012) or a slow-reader
cut-off (4008) after a jittered delay, and stays away after a flood (4029), an unknown version (4406) or
a sign-out (4401)."""

import json
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from streaming.live.tests.test_watch_page import _chromium
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HELLO = {"type": "hello", "protocol": 1, "versions": [1], "server_time": "2026-12-03T13:00:00Z", "ping_interval": 25}


CASES = [  # close code, whether the page comes back, what it shows at the end
    (1012, True, "live"),
    (4008, True, "live"),
    (4029, False, "disconnected"),
    (4406, False, "disconnected"),
    (4401, False, "signed out"),
]


def test_the_watch_page_reconnects_only_when_the_close_code_says_so():
    game = LiveGameFactory()
    with daphne_on_test_db() as (base,), sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            for code, reconnects, shown in CASES:
                page = browser.new_page()
                # Full jitter is a random share of the cap: pin it at the top to bound the wait here.
                page.add_init_script("Math.random = () => 0.999;")
                connections = []

                def gateway(ws, connections=connections, code=code):
                    connections.append((ws.url, time.monotonic()))
                    ws.send(json.dumps(HELLO | {"user": None, "limits": {}}))
                    if len(connections) == 1:
                        ws.close(code=code, reason="scripted")

                page.route_web_socket("**/ws/**", gateway)
                page.goto(f"{base}/watch/{game.pk}/")
                deadline = time.monotonic() + (5 if reconnects else 1.5)
                while time.monotonic() < deadline and len(connections) < 2:
                    page.wait_for_timeout(100)
                expect(page.locator("#conn")).to_have_text(shown, timeout=5000)
                assert len(connections) == (2 if reconnects else 1), code
                if reconnects:  # the first delay is at most the 0.5 s cap
                    assert 0.3 < connections[1][1] - connections[0][1] < 3, code
                assert connections[0][0].endswith("/ws/?v=2")  # the protocol version it speaks
                page.close()
        finally:
            browser.close()
