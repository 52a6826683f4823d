import pytest
from django.test import Client

from accounts.models import Preferences, Subscription, User
from analytics.models import OutboxEvent
from testing.factories import UserFactory

ME = "/api/v1/me/"
pytestmark = pytest.mark.django_db


def test_me_returns_profile_preferences_and_subscription(auth_client, user, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        body = auth_client.get(ME).json()

    assert body["id"] == user.pk
    assert body["display_name"] == user.display_name
    assert body["preferences"] == {
        "language": "en",
        "autoplay": True,
        "notify_game_live": True,
        "notify_new_content": True,
        "notify_announcements": True,
    }
    assert body["subscription"]["plan"] == "free"
    assert body["subscription"]["is_premium"] is False


def test_a_user_made_outside_registration_gets_its_rows_on_first_read(api_client):
    admin = User.objects.create_superuser(email="root@example.com", password="x", display_name="Root")
    api_client.force_authenticate(user=admin)

    body = api_client.get(ME).json()

    assert body["preferences"]["language"] == "en"
    assert body["subscription"]["plan"] == "free"
    assert Preferences.objects.filter(user=admin).exists() and Subscription.objects.filter(user=admin).exists()


def test_patch_updates_profile_and_preferences(auth_client, user):
    response = auth_client.patch(
        ME,
        {
            "display_name": "Court Side",
            "avatar_url": "https://img.example.com/a.png",
            "preferences": {"language": "es", "notify_game_live": False},
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Court Side"
    assert body["preferences"]["language"] == "es"
    assert body["preferences"]["notify_game_live"] is False
    assert body["preferences"]["autoplay"] is True  # untouched
    user.refresh_from_db()
    assert user.display_name == "Court Side"
    assert user.preferences.language == "es"


def test_patch_cannot_grant_staff_change_subscription_or_email(auth_client, user):
    response = auth_client.patch(
        ME,
        {
            "is_staff": True,
            "is_superuser": True,
            "email": "other@example.com",
            "subscription": {"plan": "premium", "status": "active"},
            "id": 999,
        },
        format="json",
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser
    assert user.email != "other@example.com"
    assert user.subscription.plan == "free"


def test_patch_bad_values_write_nothing(auth_client, user):
    response = auth_client.patch(
        ME, {"display_name": "ok", "preferences": {"language": "xx", "autoplay": "maybe"}}, format="json"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "preferences.language" in fields
    assert "preferences.autoplay" in fields
    user.refresh_from_db()
    assert user.display_name != "ok"


def test_a_user_only_ever_sees_and_changes_their_own_profile(auth_client, user):
    other = UserFactory(display_name="Other")

    body = auth_client.get(ME, {"id": other.pk, "user": other.pk}).json()
    auth_client.patch(ME, {"id": other.pk, "user_id": other.pk, "display_name": "Hijack"}, format="json")

    assert body["id"] == user.pk
    other.refresh_from_db()
    assert other.display_name == "Other"


def test_session_writes_need_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.patch(ME, data='{"display_name": "No CSRF"}', content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    user.refresh_from_db()
    assert user.display_name != "No CSRF"


def test_session_writes_with_csrf_token_succeed(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/login/")  # sets the csrftoken cookie, as any page would
    token = client.cookies["csrftoken"].value

    response = client.patch(
        ME, data='{"display_name": "With CSRF"}', content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 200
    assert response.json()["display_name"] == "With CSRF"


def test_subscription_change_by_staff_is_tracked(user):
    from accounts.services import subscription_update

    subscription_update(user=user, plan=Subscription.Plan.PREMIUM, status=Subscription.Status.ACTIVE)

    user.subscription.refresh_from_db()
    assert user.subscription.is_premium_active
    event = OutboxEvent.objects.get(name="subscription_changed")
    assert event.properties == {"from_plan": "free", "to_plan": "premium", "status": "active"}
