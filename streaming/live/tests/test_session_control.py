"""Messages to one user's sockets through Channels' layer: revoked credentials close them, a mute and an
ended viewing session reach them at once. In one process here (the in-memory layer, or Redis when set);
test_session_control_processes.py crosses two daphne processes."""

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client as HttpClient
from rest_framework.test import APIClient

from accounts.models import AuthToken
from accounts.services import token_issue
from streaming.live.consumers import CLOSE_SIGNED_OUT
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
PASSWORD = "correct horse battery staple"


def run(coro_fn):
    async_to_sync(coro_fn)()


async def token_socket(key: str) -> Client:
    client = await Client().connect()
    reply = await client.request({"type": "auth", "token": key})
    assert reply["type"] == "ack", reply
    return client


def browser(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


async def cookie_socket(http: HttpClient) -> Client:
    cookie = f"{settings.SESSION_COOKIE_NAME}={http.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    client = await Client(headers=[ORIGIN, (b"cookie", cookie)]).connect()
    reply = await client.request({"type": "subscribe", "topic": "user"})
    assert reply["type"] == "snapshot", reply
    return client


async def signed_out(client: Client, reason: str) -> None:
    """The socket is told why, then closed with 4401, within a second."""
    assert await client.recv(timeout=1) == {"type": "notice", "name": "signed_out", "data": {"reason": reason}}
    assert await client.communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}
    await client.communicator.disconnect()  # hang up, as a browser does (see test_gateway_contract.close_code)


async def still_open(client: Client) -> None:
    assert await client.request({"type": "ping", "ref": "p"}) == {"type": "pong", "status": "ok", "ref": "p"}


def superuser():
    user = UserFactory(is_staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def api(key=None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_signing_out_closes_the_sockets_signed_in_with_that_token_and_no_other():
    user, other = UserFactory(password=PASSWORD), UserFactory()
    key, other_key = token_issue(user=user).key, token_issue(user=other).key
    http = browser(user)

    async def scenario():
        phone, tv = await token_socket(key), await token_socket(key)
        web = await cookie_socket(http)
        someone_else = await token_socket(other_key)

        response = await db(api(key=key).post)("/api/v1/auth/logout/")
        assert response.status_code == 204

        await signed_out(phone, "signed_out")
        await signed_out(tv, "signed_out")
        await still_open(web)  # the browser session was not signed out
        await still_open(someone_else)
        assert await someone_else.nothing()
        for client in (web, someone_else):
            await client.close()

    run(scenario)


def test_a_password_change_closes_every_socket_of_the_user():
    user = UserFactory(password=PASSWORD)
    key = token_issue(user=user).key
    http = browser(user)

    async def scenario():
        phone = await token_socket(key)
        web = await cookie_socket(http)

        response = await db(api(key=key).post)(
            "/api/v1/auth/password/",
            {"current_password": PASSWORD, "new_password": "another horse battery staple"},
            format="json",
        )
        assert response.status_code == 200
        await signed_out(phone, "password_changed")
        await signed_out(web, "password_changed")

        # The new token signs a socket in; the old one does not.
        assert (await phone_again(response.json()["token"]))["type"] == "ack"
        assert (await phone_again(key))["code"] == "token_revoked"

    async def phone_again(token):
        client = await Client().connect()
        reply = await client.request({"type": "auth", "token": token})
        await client.close()
        return reply

    run(scenario)


def test_a_browser_signing_out_closes_that_browser_sockets_only():
    user = UserFactory(is_staff=True)  # the admin's sign-out page is for staff
    key = token_issue(user=user).key
    http, other_browser = browser(user), browser(user)

    async def scenario():
        web, other_web, phone = await cookie_socket(http), await cookie_socket(other_browser), await token_socket(key)

        response = await db(http.post)("/admin/logout/")  # Django's logout view: `user_logged_out`
        assert response.status_code == 200

        await signed_out(web, "signed_out")
        await still_open(other_web)
        await still_open(phone)
        for client in (other_web, phone):
            await client.close()

    run(scenario)


def test_staff_deactivating_an_account_in_admin_closes_its_sockets_and_revokes_its_token():
    user = UserFactory()
    key = token_issue(user=user).key
    admin = browser(superuser())
    change_url = f"/admin/accounts/user/{user.pk}/change/"
    form = {
        "email": user.email,
        "display_name": user.display_name,
        "avatar_url": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        # "is_active" left out: the checkbox is cleared.
        "preferences-TOTAL_FORMS": "1",
        "preferences-INITIAL_FORMS": "1",
        "preferences-0-id": str(user.preferences.pk),
        "preferences-0-user": str(user.pk),
        "preferences-0-language": "en",
        "preferences-0-autoplay": "on",
        "subscription-TOTAL_FORMS": "1",
        "subscription-INITIAL_FORMS": "1",
        "subscription-0-id": str(user.subscription.pk),
        "subscription-0-user": str(user.pk),
    }

    async def scenario():
        phone = await token_socket(key)
        response = await db(admin.post)(change_url, form)
        assert response.status_code == 302, (
            response.context["adminform"].form.errors,
            [f.formset.errors for f in response.context["inline_admin_formsets"]],
        )
        await signed_out(phone, "deactivated")

    run(scenario)
    user.refresh_from_db()
    assert not user.is_active
    assert not AuthToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_staff_setting_a_password_in_admin_closes_the_user_sockets():
    user = UserFactory()
    key = token_issue(user=user).key
    admin = browser(superuser())

    async def scenario():
        phone = await token_socket(key)
        response = await db(admin.post)(
            f"/admin/accounts/user/{user.pk}/password/",
            {
                "password1": "a brand new horse battery",
                "password2": "a brand new horse battery",
                "usable_password": "true",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        await signed_out(phone, "password_changed")

    run(scenario)
    assert not AuthToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_a_mute_reaches_the_muted_user_sockets_even_off_that_chat():
    game = LiveGameFactory()
    fan, bystander = UserFactory(), UserFactory()
    moderator = member_of("Moderators")
    fan_key, bystander_key = token_issue(user=fan).key, token_issue(user=bystander).key
    moderator_api = APIClient()
    moderator_api.force_authenticate(moderator)

    async def scenario():
        fan_socket, bystander_socket = await token_socket(fan_key), await token_socket(bystander_key)
        response = await db(moderator_api.post)(
            f"/api/v1/games/{game.pk}/chat/mutes/", {"user": fan.pk, "minutes": 10}, format="json"
        )
        assert response.status_code == 201
        notice = await fan_socket.recv(timeout=1)
        assert notice == {
            "type": "notice",
            "name": "chat.muted",
            "data": {"game": game.pk, "until": response.json()["until"]},
        }
        assert await bystander_socket.nothing()
        refused = await fan_socket.request({"type": "chat.send", "game": game.pk, "text": "hello"})
        assert refused["code"] == "muted"
        for client in (fan_socket, bystander_socket):
            await client.close()

    run(scenario)


def test_at_the_stream_limit_the_user_ends_the_session_they_pick():
    game, other_game = LiveGameFactory(), LiveGameFactory()
    user = UserFactory()  # free plan: one stream at a time
    key = token_issue(user=user).key

    async def scenario():
        tv, phone = await token_socket(key), await token_socket(key)
        first = await tv.request({"type": "heartbeat", "game": game.pk, "device": "tv"})
        refused = await phone.request({"type": "heartbeat", "game": other_game.pk, "device": "phone"})
        assert (refused["code"], refused["limit"]) == ("stream_limit", 1)
        assert [s["id"] for s in refused["sessions"]] == [first["session"]]
        assert "fields" not in refused  # fields are only ever what is wrong with an input

        sessions = await db(api(key=key).get)("/api/v1/live/sessions/")
        assert [(s["id"], s["game"], s["device"]) for s in sessions.json()] == [(first["session"], game.pk, "tv")]

        started = await phone.request(
            {"type": "heartbeat", "game": other_game.pk, "device": "phone", "replace": first["session"]}
        )
        assert started["type"] == "ack" and started["session"] != first["session"]
        # The TV is told at once (so is the phone: the notice goes to all the user's sockets).
        ended = {"session": first["session"], "game": game.pk, "content": None, "reason": "replaced"}
        assert await tv.recv(timeout=1) == {"type": "notice", "name": "session.ended", "data": ended}
        assert await phone.recv(timeout=1) == {"type": "notice", "name": "session.ended", "data": ended}
        # Its next heartbeat is refused once, not restarted behind the user's back...
        assert (await tv.request({"type": "heartbeat", "game": game.pk}))["code"] == "session_ended"
        # ...and then it is an ordinary new stream, under the limit.
        assert (await tv.request({"type": "heartbeat", "game": game.pk}))["code"] == "stream_limit"
        for client in (tv, phone):
            await client.close()

    run(scenario)


def test_ending_a_session_over_the_api_tells_its_device_and_frees_the_slot():
    game = LiveGameFactory()
    user, other = UserFactory(), UserFactory()
    key = token_issue(user=user).key
    other_client = APIClient()
    other_client.force_authenticate(other)

    async def scenario():
        tv = await token_socket(key)
        session = (await tv.request({"type": "heartbeat", "game": game.pk}))["session"]
        url = f"/api/v1/live/sessions/{session}/"

        assert (await db(other_client.delete)(url)).status_code == 404  # not someone else's to end
        assert (await db(APIClient().delete)(url)).status_code == 401
        assert (await db(api(key=key).delete)(url)).status_code == 204
        assert (await tv.recv(timeout=1))["data"] == {
            "session": session,
            "game": game.pk,
            "content": None,
            "reason": "ended",
        }
        assert (await db(api(key=key).delete)(url)).status_code == 404  # already ended
        assert (await db(api(key=key).get)("/api/v1/live/sessions/")).json() == []

        response = await db(api(key=key).post)(f"/api/v1/games/{game.pk}/heartbeat/", {}, format="json")
        assert response.status_code == 200  # the slot is free again
        await tv.close()

    run(scenario)


def test_replacing_a_session_that_is_not_an_open_one_of_yours_is_refused_and_changes_nothing():
    game = LiveGameFactory()
    user, other = UserFactory(), UserFactory()
    key = token_issue(user=user).key
    theirs = api(key=token_issue(user=other).key).post(f"/api/v1/games/{game.pk}/heartbeat/", {}, format="json")
    their_session = theirs.json()["session_id"]

    response = api(key=key).post(f"/api/v1/games/{game.pk}/heartbeat/", {"replace": their_session}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert [s["id"] for s in api(key=token_issue(user=other).key).get("/api/v1/live/sessions/").json()] == [
        their_session
    ]
    bad = api(key=key).post(f"/api/v1/games/{game.pk}/heartbeat/", {"replace": "not-a-uuid"}, format="json")
    assert bad.status_code == 400
