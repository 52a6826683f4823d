import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.selectors import token_with_user
from accounts.services import token_issue
from analytics.models import OutboxEvent

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
LOGOUT = "/api/v1/auth/logout/"
PASSWORD = "/api/v1/auth/password/"
ME = "/api/v1/me/"
GOOD_PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.django_db


def register(client, **overrides):
    body = {"email": "fan@example.com", "password": GOOD_PASSWORD, "display_name": "Fan"} | overrides
    return client.post(REGISTER, body, format="json")


def test_register_creates_account_with_defaults_and_token(api_client):
    response = register(api_client)

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "fan@example.com"
    assert body["subscription"]["plan"] == "free"
    assert body["preferences"]["autoplay"] is True
    user = User.objects.get(email="fan@example.com")
    assert token_with_user(key=body["token"]).user_id == user.pk
    assert OutboxEvent.objects.filter(name="signed_up", distinct_id=str(user.pk)).count() == 1


def test_register_duplicate_email_is_refused_case_insensitively(api_client):
    register(api_client)
    response = register(api_client, email="FAN@Example.com")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "email_taken"
    assert "email" in response.json()["error"]["fields"]
    assert User.objects.count() == 1


def test_register_runs_password_validators(api_client):
    response = register(api_client, password="123")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert error["fields"]["password"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": GOOD_PASSWORD, "display_name": "x"}, "email"),
        ({"email": "a@example.com", "display_name": "x"}, "password"),
        ({"email": "a@example.com", "password": GOOD_PASSWORD}, "display_name"),
        ({"email": 12345, "password": GOOD_PASSWORD, "display_name": "x"}, "email"),
        ({"email": "a@example.com", "password": GOOD_PASSWORD, "display_name": ["x"]}, "display_name"),
        ({"email": "a@example.com", "password": GOOD_PASSWORD, "display_name": "x" * 81}, "display_name"),
    ],
)
def test_register_bad_fields_get_field_errors(api_client, body, field):
    response = api_client.post(REGISTER, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert error["fields"][field][0]["code"]
    assert not User.objects.exists()


def test_malformed_json_is_a_400_in_the_error_shape(api_client):
    response = api_client.post(REGISTER, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_non_json_content_type_is_refused(api_client):
    response = api_client.post(REGISTER, data="email=a@example.com", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_a_413_in_the_error_shape(api_client):
    huge = '{"email": "a@example.com", "display_name": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = api_client.post(REGISTER, data=huge, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not User.objects.exists()


def test_token_login_and_authenticated_request(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email.upper(), "password": GOOD_PASSWORD}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(ME).json()["email"] == user.email


def test_token_login_wrong_password(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email, "password": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "token" not in response.json()


def test_logout_revokes_the_token(api_client, user):
    token = api_client.post(TOKEN, {"email": user.email, "password": GOOD_PASSWORD}, format="json").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.post(LOGOUT).status_code == 204
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


def test_missing_auth_is_401_in_the_error_shape(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_login_brute_force_is_throttled(api_client, user, settings):
    for _ in range(10):
        api_client.post(TOKEN, {"email": user.email, "password": "wrong"}, format="json")
    response = api_client.post(TOKEN, {"email": user.email, "password": GOOD_PASSWORD}, format="json")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_throttle_ignores_client_sent_forwarded_for(api_client, user):
    """A client cannot reset its login throttle by inventing X-Forwarded-For addresses."""
    for i in range(10):
        api_client.post(
            TOKEN, {"email": user.email, "password": "wrong"}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        )
    response = api_client.post(
        TOKEN, {"email": user.email, "password": GOOD_PASSWORD}, format="json", HTTP_X_FORWARDED_FOR="10.9.9.9"
    )

    assert response.status_code == 429


def test_password_change_requires_current_password(auth_client, user):
    response = auth_client.post(PASSWORD, {"current_password": "wrong", "new_password": "another long passphrase"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_password"
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_password_change_rotates_the_token(api_client, user):
    old = api_client.post(TOKEN, {"email": user.email, "password": GOOD_PASSWORD}, format="json").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")

    response = client.post(
        PASSWORD, {"current_password": GOOD_PASSWORD, "new_password": "another long passphrase"}, format="json"
    )

    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old
    assert client.get(ME).status_code == 401  # the old token is gone
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get(ME).status_code == 200
    user.refresh_from_db()
    assert user.check_password("another long passphrase")


def test_password_change_runs_validators(auth_client, user):
    response = auth_client.post(PASSWORD, {"current_password": GOOD_PASSWORD, "new_password": "short"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "weak_password"


def test_token_of_an_inactive_user_is_refused(api_client, user):
    token = api_client.post(TOKEN, {"email": user.email, "password": GOOD_PASSWORD}, format="json").json()["token"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_unknown_token_is_refused(api_client, user):
    token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_token_lookup_is_one_query_and_loads_the_token_and_its_user(user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.selectors import token_with_user

    token = token_issue(user=user, name="phone")
    with CaptureQueriesContext(connection) as queries:
        found = token_with_user(key=token.key)
        assert (found.user.email, found.user_id) == (user.email, user.pk)
    assert len(queries) == 1
    assert (found.pk, found.digest, found.name) == (token.pk, token.digest, "phone")
    assert (found.created_at, found.expires_at, found.revoked_at) == (token.created_at, token.expires_at, None)
    assert token_with_user(key="missing") is None
