"""Per-device API tokens: Bearer or Token, expiry, refresh, sign-out of one device, the device list,
and every ended token refused with a code that says why, changing nothing."""

import importlib
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthToken, User
from accounts.services import credentials_revoke, token_issue, tokens_prune

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
TOKENS = "/api/v1/auth/tokens/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.django_db


def client(key: str, prefix: str = "Bearer") -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"{prefix} {key}")
    return api


def sign_in(user, name: str) -> dict:
    response = APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD, "name": name}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refused(response, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("prefix", ["Bearer", "bearer", "Token"])
def test_a_token_works_with_the_bearer_and_the_token_prefix(user, prefix):
    issued = sign_in(user, "phone")

    assert client(issued["token"], prefix).get(ME).json()["email"] == user.email
    assert issued["name"] == "phone"
    ttl = timedelta(days=30)
    expires_at = AuthToken.objects.get(pk=issued["id"]).expires_at
    assert timezone.now() + ttl - timedelta(minutes=1) < expires_at <= timezone.now() + ttl


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer " + "x" * 65])
def test_a_malformed_bearer_header_is_invalid_token(header):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    refused(api.get(ME), "invalid_token")


def test_each_sign_in_is_a_device_and_signing_out_ends_only_that_one(user):
    phone, tv = sign_in(user, "phone"), sign_in(user, "tv")
    assert phone["token"] != tv["token"]

    assert client(phone["token"]).post(LOGOUT).status_code == 204

    refused(client(phone["token"]).get(ME), "token_revoked")
    assert client(tv["token"]).get(ME).status_code == 200
    assert AuthToken.objects.get(pk=phone["id"]).revoked_reason == "signed_out"


def test_the_device_list_shows_my_active_devices_without_secrets_and_revokes_one(user, other_user):
    phone, tv = sign_in(user, "phone"), sign_in(user, "tv")
    signed_out = sign_in(user, "old laptop")
    client(signed_out["token"]).post(LOGOUT)
    theirs = sign_in(other_user, "their phone")

    listed = client(phone["token"]).get(TOKENS).json()
    assert sorted((d["name"], d["current"]) for d in listed) == [("phone", True), ("tv", False)]
    assert all("token" not in d and "digest" not in d for d in listed)
    assert set(listed[0]) == {"id", "name", "created_at", "last_used_at", "expires_at", "current"}

    assert client(phone["token"]).delete(f"{TOKENS}{tv['id']}/").status_code == 204
    refused(client(tv["token"]).get(ME), "token_revoked")
    assert AuthToken.objects.get(pk=tv["id"]).revoked_reason == "revoked"
    assert client(phone["token"]).get(ME).status_code == 200

    # Someone else's device, an already revoked one, or an id past the range: not found, nothing changes.
    for token_id in (theirs["id"], tv["id"], signed_out["id"]):
        response = client(phone["token"]).delete(f"{TOKENS}{token_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client(theirs["token"]).get(ME).status_code == 200


def test_an_expired_token_is_refused_with_token_expired_and_changes_nothing(user):
    issued = sign_in(user, "phone")
    AuthToken.objects.filter(pk=issued["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    refused(client(issued["token"]).patch(ME, {"display_name": "Changed"}, format="json"), "token_expired")
    refused(client(issued["token"]).post(REFRESH), "token_expired")
    # A public operation refuses it too, rather than answering as if anonymous.
    refused(client(issued["token"]).get("/api/v1/content/"), "token_expired")
    user.refresh_from_db()
    assert user.display_name != "Changed"


@contextmanager
def clock_moved(seconds: float):
    """Every `timezone.now()` (the services', the models' defaults) this many seconds on."""
    real = timezone.now
    with mock.patch("django.utils.timezone.now", lambda: real() + timedelta(seconds=seconds)):
        yield


def test_refresh_gives_the_device_a_new_secret_and_expiry_and_the_old_one_works_for_the_grace(user):
    issued = sign_in(user, "phone")
    AuthToken.objects.filter(pk=issued["id"]).update(expires_at=timezone.now() + timedelta(days=1))

    response = client(issued["token"]).post(REFRESH)

    assert response.status_code == 200
    fresh = response.json()
    assert (fresh["id"], fresh["name"]) == (issued["id"], "phone")
    assert fresh["token"] != issued["token"]
    assert AuthToken.objects.get(pk=issued["id"]).expires_at > timezone.now() + timedelta(days=29)
    assert client(fresh["token"]).get(ME).status_code == 200
    assert AuthToken.objects.filter(user=user).count() == 1
    # requests sent with the old secret before the refresh answered still work for the grace (30 s) ...
    assert client(issued["token"]).get(ME).status_code == 200
    with clock_moved(29):
        assert client(issued["token"]).patch(ME, {"display_name": "In flight"}, format="json").status_code == 200
    # ... then not, and the new one goes on
    with clock_moved(31):
        refused(client(issued["token"]).get(ME), "token_refreshed")
        assert client(fresh["token"]).get(ME).status_code == 200
    # a second refresh: the secret before the first stops at once, the one it replaced has its grace
    again = client(fresh["token"]).post(REFRESH).json()
    refused(client(issued["token"]).get(ME), "invalid_token")
    assert client(fresh["token"]).get(ME).status_code == 200
    assert client(again["token"]).get(ME).status_code == 200


@override_settings(ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS=0)
def test_without_a_grace_the_old_secret_stops_at_once(user):
    issued = sign_in(user, "phone")
    fresh = client(issued["token"]).post(REFRESH).json()
    refused(client(issued["token"]).get(ME), "token_refreshed")
    assert client(fresh["token"]).get(ME).status_code == 200


def test_the_old_secret_does_not_refresh_again_within_the_grace_and_nothing_is_revoked(user):
    issued = sign_in(user, "phone")
    fresh = client(issued["token"]).post(REFRESH).json()
    with clock_moved(10):
        # a parallel refresh of the same client lost the race: it uses the winner's answer
        refused(client(issued["token"]).post(REFRESH), "token_refreshed")
        assert client(issued["token"]).get(ME).status_code == 200
        assert client(fresh["token"]).get(ME).status_code == 200
    assert AuthToken.objects.get(pk=issued["id"]).revoked_at is None


def test_a_refresh_replay_after_the_grace_revokes_the_device(user, monkeypatch):
    closed = []
    monkeypatch.setattr("accounts.services.user_sockets_close", lambda **kwargs: closed.append(kwargs), raising=True)
    phone, tv = sign_in(user, "phone"), sign_in(user, "tv")
    fresh = client(phone["token"]).post(REFRESH).json()

    with clock_moved(31):
        # someone replays the replaced secret (a leaked copy, or a stolen device's): the whole device ends
        refused(client(phone["token"]).post(REFRESH), "token_reused")
        refused(client(fresh["token"]).get(ME), "token_revoked")
        refused(client(fresh["token"]).post(REFRESH), "token_revoked")
        refused(client(phone["token"]).post(REFRESH), "token_refreshed")  # once is enough
        assert client(tv["token"]).get(ME).status_code == 200  # the user's other devices stay
    token = AuthToken.objects.get(pk=phone["id"])
    assert token.revoked_reason == "reused" and token.revoked_at is not None
    assert closed == [{"user_id": user.pk, "reason": "reused", "credential": token.credential}]


def test_the_replaced_secret_at_any_other_endpoint_after_the_grace_is_refused_without_revoking(user):
    # The same replayed secret at an ordinary endpoint after the grace is only refused, not a revocation:
    # reuse is about refreshing (a stale client may well retry a read).
    issued = sign_in(user, "phone")
    fresh = client(issued["token"]).post(REFRESH).json()
    with clock_moved(60):
        refused(client(issued["token"]).get(ME), "token_refreshed")
        assert client(fresh["token"]).get(ME).status_code == 200
    assert AuthToken.objects.get(pk=issued["id"]).revoked_at is None


def test_refresh_and_sign_out_in_a_browser_session(user):
    browser = APIClient()
    browser.force_login(user)

    response = browser.post(REFRESH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_required"

    assert browser.post(LOGOUT).status_code == 204
    assert browser.get(ME).status_code == 401  # the session ended


def test_a_password_change_or_deactivation_revokes_every_device(user):
    phone, tv = sign_in(user, "phone"), sign_in(user, "tv")
    response = client(phone["token"]).post(
        "/api/v1/auth/password/", {"current_password": PASSWORD, "new_password": "another long passphrase"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "phone"  # this device got a new token under its name
    for old in (phone, tv):
        refused(client(old["token"]).get(ME), "token_revoked")
    assert client(response.json()["token"]).get(ME).status_code == 200

    credentials_revoke(user=user, reason="deactivated")
    refused(client(response.json()["token"]).get(ME), "token_revoked")


def test_last_use_is_recorded_at_most_every_few_minutes(user):
    issued = sign_in(user, "phone")
    api = client(issued["token"])
    api.get(ME)
    first = AuthToken.objects.get(pk=issued["id"]).last_used_at
    assert first is not None
    api.get(ME)
    assert AuthToken.objects.get(pk=issued["id"]).last_used_at == first


def test_ended_tokens_are_pruned_after_a_while(user):
    keep = token_issue(user=user)
    old = timezone.now() - timedelta(days=31)
    expired = token_issue(user=user)
    revoked = token_issue(user=user)
    AuthToken.objects.filter(pk=expired.pk).update(expires_at=old)
    AuthToken.objects.filter(pk=revoked.pk).update(revoked_at=old)

    assert tokens_prune() == 2
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [keep.pk]


@pytest.mark.django_db(transaction=True)
def test_tokens_of_drf_authtoken_are_migrated_and_keep_working():
    user = User.objects.create_user(email="old@example.com", password=PASSWORD, display_name="Old")
    created = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created {created})")
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            ["a" * 40, user.pk, timezone.now()],
        )
    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0005_auth_tokens_from_drf")
    with connection.schema_editor() as schema_editor:
        migration.copy_drf_tokens(apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert client("a" * 40, "Token").get(ME).json()["email"] == "old@example.com"
    (listed,) = client("a" * 40).get(TOKENS).json()
    assert listed["current"] is True


def test_the_schema_declares_http_bearer_and_public_operations_need_no_token(client):
    schema = client.get("/api/schema/?format=json").json()

    schemes = schema["components"]["securitySchemes"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    assert (schemes["tokenAuth"]["in"], schemes["tokenAuth"]["name"]) == ("header", "Authorization")
    paths = schema["paths"]
    # public: no credentials needed (`security: []`, csn.api.schema.public_operations); a token is optional
    assert paths["/api/v1/content/"]["get"]["security"] == []
    assert paths["/api/v1/content/"]["get"]["x-credentials"] == "optional"
    assert paths["/api/v1/auth/token/"]["post"]["security"] == []
    assert {} not in paths["/api/v1/me/"]["get"]["security"]
    assert {"bearerAuth": []} in paths["/api/v1/me/"]["get"]["security"]
    assert paths["/api/v1/auth/token/refresh/"]["post"]["security"] == [{"bearerAuth": []}, {"tokenAuth": []}]
    issued = schema["components"]["schemas"]["TokenOutput"]["properties"]
    assert {"token", "id", "name", "created_at", "expires_at"} <= set(issued)
