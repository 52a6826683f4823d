"""A verified location for blackouts: a device check-in (`POST /api/v1/me/location/`) records the region
the trusted CDN header of that request gives, never the body or an unconfigured header; it counts until
it expires; playback takes the CDN's header when the request has one, else a fresh verified location,
else the region is unknown. Staff see and clear it in admin."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import VerifiedLocation
from streaming.live.models import LiveSession
from streaming.playback.models import Blackout
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db
LOCATION = "/api/v1/me/location/"
PLAY = "/api/v1/playback/"
TRUSTED = {
    "CSN_REGION_COUNTRY_HEADER": "CloudFront-Viewer-Country",
    "CSN_REGION_SUBDIVISION_HEADER": "CloudFront-Viewer-Country-Region",
    "CSN_REGION_POSTAL_HEADER": "CloudFront-Viewer-Postal-Code",
}


def cdn(country, subdivision="", postal=""):
    return {
        "CloudFront-Viewer-Country": country,
        "CloudFront-Viewer-Country-Region": subdivision,
        "CloudFront-Viewer-Postal-Code": postal,
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def code(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.fixture
def blacked_out():
    game = LiveGameFactory()
    Blackout.objects.create(game=game, subdivisions=["US-CA"])
    return game


@override_settings(**TRUSTED)
def test_a_check_in_records_the_cdns_region_for_the_configured_days(premium_viewer):
    client = api(premium_viewer)
    assert code(client.get(LOCATION)) == (404, "not_found")

    response = client.post(LOCATION, headers=cdn("US", "CA", "94105"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("country", "subdivision", "postal_code", "source", "fresh")} == {
        "country": "US",
        "subdivision": "CA",
        "postal_code": "94105",
        "source": "check_in",
        "fresh": True,
    }
    location = VerifiedLocation.objects.get(user=premium_viewer)
    assert location.expires_at - location.verified_at == timedelta(days=30)
    assert client.get(LOCATION).json() == body
    # another check-in replaces it (one location per account)
    with override_settings(CSN_LOCATION_VERIFIED_DAYS=7):
        moved = client.post(LOCATION, headers=cdn("US", "OR")).json()
    assert (moved["subdivision"], moved["postal_code"]) == ("OR", "")
    location = VerifiedLocation.objects.get(user=premium_viewer)
    assert location.expires_at - location.verified_at == timedelta(days=7)


def test_a_forged_body_or_an_untrusted_header_verifies_nothing(premium_viewer):
    client = api(premium_viewer)
    VerifiedLocation.objects.create(user=premium_viewer, country="US", subdivision="OR", source="check_in")
    forged = {"country": "MX", "subdivision": "CMX", "region": {"country": "MX"}}
    # no header is trusted (none configured): a client's claim of a region is not believed
    response = client.post(LOCATION, forged, format="json", headers={**cdn("MX"), "X-Country": "MX"})
    assert code(response) == (422, "region_unavailable")
    with override_settings(**TRUSTED):
        # trusted header names, but this request carries none (or a malformed one): the body still counts for nothing
        assert code(client.post(LOCATION, forged, format="json")) == (422, "region_unavailable")
        assert code(client.post(LOCATION, forged, format="json", headers=cdn("MEX"))) == (422, "region_unavailable")
        location = VerifiedLocation.objects.get(user=premium_viewer)
        assert (location.country, location.subdivision) == ("US", "OR")  # unchanged by the refusals
        # with the CDN's header, the header wins over the body
        assert client.post(LOCATION, forged, format="json", headers=cdn("CA", "ON")).json()["country"] == "CA"
    location = VerifiedLocation.objects.get(user=premium_viewer)
    assert (location.country, location.subdivision) == ("CA", "ON")


def test_check_in_needs_sign_in_and_each_user_sees_and_clears_only_their_own(premium_viewer):
    assert code(APIClient().post(LOCATION)) == (401, "not_authenticated")
    other = UserFactory()
    VerifiedLocation.objects.create(user=other, country="US", subdivision="CA")
    client = api(premium_viewer)
    assert code(client.get(LOCATION)) == (404, "not_found")
    assert client.delete(LOCATION).status_code == 204  # none: nothing to clear, still 204
    assert VerifiedLocation.objects.filter(user=other).exists()
    assert api(other).delete(LOCATION).status_code == 204
    assert not VerifiedLocation.objects.exists()


def test_blackout_decisions_with_and_without_the_cdn_header(blacked_out, premium_viewer):
    client = api(premium_viewer)

    def play(headers=None):
        LiveSession.objects.all().delete()
        return client.post(PLAY, {"game_id": blacked_out.pk}, format="json", headers=headers or {})

    with override_settings(**TRUSTED):
        # no header, no verified location: unknown, so a blacked-out game cannot be cleared
        assert code(play()) == (403, "region_unavailable")
        # the check-in in California verifies the account there
        assert client.post(LOCATION, headers=cdn("US", "CA")).status_code == 200
        refused = play()
        assert code(refused) == (403, "blackout") and refused.json()["region"]["source"] == "account"
        # a request the CDN places elsewhere: the CDN's header wins over the verified location
        assert play(cdn("US", "OR")).status_code == 201
        refused = play(cdn("US", "CA"))
        assert code(refused) == (403, "blackout") and refused.json()["region"]["source"] == "cdn"
        # verified in Oregon instead: plays without a header
        assert client.post(LOCATION, headers=cdn("US", "OR")).status_code == 200
        assert play().status_code == 201
    # the headers no longer trusted: a client's header means nothing, the verified location still counts
    assert play(cdn("US", "CA")).status_code == 201
    VerifiedLocation.objects.filter(user=premium_viewer).update(subdivision="CA")
    assert code(play(cdn("US", "OR"))) == (403, "blackout")


def test_an_expired_verified_location_no_longer_counts(blacked_out, premium_viewer):
    client = api(premium_viewer)
    with override_settings(**TRUSTED):
        client.post(LOCATION, headers=cdn("US", "OR"))
    assert client.post(PLAY, {"game_id": blacked_out.pk}, format="json").status_code == 201
    LiveSession.objects.all().delete()

    VerifiedLocation.objects.filter(user=premium_viewer).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(LOCATION).json()["fresh"] is False
    response = client.post(PLAY, {"game_id": blacked_out.pk}, format="json")
    assert code(response) == (403, "region_unavailable")
    assert not LiveSession.objects.exists()
    # a location staff set without an end counts until cleared
    VerifiedLocation.objects.filter(user=premium_viewer).update(source="staff", expires_at=None)
    assert client.post(PLAY, {"game_id": blacked_out.pk}, format="json").status_code == 201


def test_staff_see_set_and_clear_verified_locations_in_admin(superuser, premium_viewer):
    staff = Client()
    staff.force_login(superuser)
    with override_settings(**TRUSTED):
        api(premium_viewer).post(LOCATION, headers=cdn("US", "CA", "94105"))
    location = VerifiedLocation.objects.get()

    listed = staff.get("/admin/accounts/verifiedlocation/")
    assert listed.status_code == 200
    assert premium_viewer.email in listed.content.decode() and "94105" in listed.content.decode()

    changed = staff.post(
        f"/admin/accounts/verifiedlocation/{location.pk}/change/",
        {
            "user": premium_viewer.pk,
            "country": "US",
            "subdivision": "NY",
            "postal_code": "",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert changed.status_code == 302
    location.refresh_from_db()
    assert (location.subdivision, location.source, location.expires_at) == ("NY", "staff", None)

    cleared = staff.post(f"/admin/accounts/verifiedlocation/{location.pk}/delete/", {"post": "yes"})
    assert cleared.status_code == 302
    assert not VerifiedLocation.objects.exists()
