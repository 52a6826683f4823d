"""The admin's sign-in is throttled like the API's: per client address and per account (`login` rate)."""

import pytest
from django.test import Client

from testing.factories import UserFactory

PASSWORD = "A-strong-pass-1234"
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff(db):
    user = UserFactory(is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, email, password):
    return client.post(LOGIN, {"username": email, "password": password})


@pytest.mark.django_db
def test_the_right_password_is_refused_after_too_many_wrong_ones(staff, settings):
    client = Client()
    for _ in range(10):
        assert attempt(client, staff.email, "wrong").status_code == 200  # the form again, with its error
    response = attempt(client, staff.email, PASSWORD)

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_throttled(staff):
    client = Client()
    for i in range(10):
        attempt(client, f"nobody{i}@example.com", "wrong")

    assert attempt(client, staff.email, PASSWORD).status_code == 429


@pytest.mark.django_db
def test_one_account_tried_from_many_addresses_is_throttled(staff):
    for i in range(10):
        attempt(Client(REMOTE_ADDR=f"10.0.0.{i}"), staff.email.upper(), "wrong")

    assert attempt(Client(REMOTE_ADDR="10.9.9.9"), staff.email, PASSWORD).status_code == 429
    assert attempt(Client(REMOTE_ADDR="10.9.9.9"), "other@example.com", "wrong").status_code == 200


@pytest.mark.django_db
def test_a_few_wrong_passwords_still_let_the_right_one_in(staff):
    client = Client()
    for _ in range(3):
        attempt(client, staff.email, "wrong")

    response = attempt(client, staff.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert client.get("/admin/login/").status_code == 302  # a GET is never counted nor refused


@pytest.mark.django_db
def test_the_rate_is_the_login_setting(staff, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "2/min"}}
    client = Client()
    attempt(client, staff.email, "wrong")
    attempt(client, staff.email, "wrong")

    assert attempt(client, staff.email, PASSWORD).status_code == 429
