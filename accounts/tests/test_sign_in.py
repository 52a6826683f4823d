"""The browser's sign-in page: any account (not only staff), back to the page it came from, our host only."""

import pytest
from django.conf import settings
from django.test import Client

from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGN_IN = "/accounts/sign-in/"
SIGN_OUT = "/accounts/sign-out/"
PASSWORD = "correct horse battery staple"


def sign_in(client, email, password=PASSWORD, next_url=None):
    body = {"username": email, "password": password}
    if next_url is not None:
        body["next"] = next_url
    return client.post(SIGN_IN, body)


def test_the_watch_page_sends_a_viewer_to_the_sign_in_page_and_it_serves_them():
    game = LiveGameFactory()
    UserFactory(email="fan@example.com")
    client = Client()

    page = client.get(f"/watch/{game.pk}/").content.decode()
    link = f"/accounts/sign-in/?next=/watch/{game.pk}/"
    assert f'href="{link}"' in page
    assert "/admin/login/" not in page
    form = client.get(link)
    assert form.status_code == 200
    assert f'<input type="hidden" name="next" value="/watch/{game.pk}/">' in form.content.decode()

    response = sign_in(client, "fan@example.com", next_url=f"/watch/{game.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/watch/{game.pk}/"
    watch = client.get(f"/watch/{game.pk}/").content.decode()
    assert 'data-signed-in="1"' in watch
    assert 'id="chat-form"' in watch


def test_the_email_matches_whatever_its_case():
    UserFactory(email="fan@example.com")
    client = Client()

    assert sign_in(client, "  Fan@Example.COM ").status_code == 302
    assert settings.SESSION_COOKIE_NAME in client.cookies


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/steal", "//evil.example/", "http://testserver.evil.example/", "javascript:alert(1)"],
)
def test_next_leaving_the_site_goes_home_instead(next_url):
    UserFactory(email="fan@example.com")

    response = sign_in(Client(), "fan@example.com", next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_next_on_our_host_is_followed():
    UserFactory(email="fan@example.com")

    response = sign_in(Client(), "fan@example.com", next_url="http://testserver/watch/3/?x=1")

    assert response["Location"] == "http://testserver/watch/3/?x=1"


def test_an_unsafe_next_is_not_echoed_into_the_page():
    page = Client().get(SIGN_IN, {"next": "https://evil.example/"}).content.decode()
    assert "evil.example" not in page


def test_a_wrong_password_stays_on_the_page_signed_out():
    UserFactory(email="fan@example.com")
    client = Client()

    response = sign_in(client, "fan@example.com", password="wrong")

    assert response.status_code == 200
    assert "Wrong email or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_inactive_account_is_refused():
    user = UserFactory(email="fan@example.com")
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert sign_in(Client(), "fan@example.com").status_code == 200


def test_sign_in_attempts_are_throttled_per_client_address():
    UserFactory(email="fan@example.com")
    client = Client()
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])

    codes = [sign_in(client, "fan@example.com", password="wrong").status_code for _ in range(rate + 1)]

    assert codes[:rate] == [200] * rate
    assert codes[-1] == 429
    refused = sign_in(client, "fan@example.com")  # even the right password, until the window passes
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_returns_to_the_page_and_ends_the_session():
    game = LiveGameFactory()
    user = UserFactory()
    client = Client()
    client.force_login(user)
    page = client.get(f"/watch/{game.pk}/").content.decode()
    assert 'action="/accounts/sign-out/"' in page

    response = client.post(SIGN_OUT, {"next": f"/watch/{game.pk}/"})

    assert response.status_code == 302
    assert response["Location"] == f"/watch/{game.pk}/"
    assert "_auth_user_id" not in client.session
    assert 'data-signed-in="0"' in client.get(f"/watch/{game.pk}/").content.decode()


def test_sign_out_is_a_post_only():
    assert Client().get(SIGN_OUT).status_code == 405
