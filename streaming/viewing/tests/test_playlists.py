import pytest

from content.models import Content
from streaming.viewing import services
from streaming.viewing.models import Playlist, PlaylistItem
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db


def create(client, title="Road trip", **extra):
    return client.post("/api/v1/playlists/", {"title": title, **extra}, format="json")


def add_item(client, playlist_id, content_id):
    return client.post(f"/api/v1/playlists/{playlist_id}/items/", {"content_id": content_id}, format="json")


@pytest.fixture
def playlist(auth_client):
    return create(auth_client).json()


def item_contents(body):
    return [item["content_id"] for item in body["items"]]


def test_create_list_and_read(auth_client, user):
    response = create(auth_client, "  Finals  ")

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Finals"
    assert body["shared"] is False
    assert body["share_token"] is None
    assert body["items"] == []
    listing = auth_client.get("/api/v1/playlists/").json()
    assert [(p["id"], p["item_count"]) for p in listing["results"]] == [(body["id"], 0)]
    assert auth_client.get(f"/api/v1/playlists/{body['id']}/").json()["title"] == "Finals"


@pytest.mark.parametrize("title", ["", "   ", "x" * 101])
def test_bad_title_is_a_400(auth_client, title):
    response = create(auth_client, title)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["title"]
    assert not Playlist.objects.exists()


def test_rename(auth_client, playlist):
    response = auth_client.patch(f"/api/v1/playlists/{playlist['id']}/", {"title": "Best of"}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == "Best of"
    assert Playlist.objects.get().title == "Best of"


def test_add_items_in_order_idempotently(auth_client, playlist):
    first, second = ContentFactory(), ContentFactory()

    assert add_item(auth_client, playlist["id"], first.pk).status_code == 201
    assert add_item(auth_client, playlist["id"], second.pk).status_code == 201
    again = add_item(auth_client, playlist["id"], first.pk)

    assert again.status_code == 200
    assert PlaylistItem.objects.count() == 2
    body = auth_client.get(f"/api/v1/playlists/{playlist['id']}/").json()
    assert item_contents(body) == [first.pk, second.pk]
    assert body["items"][0]["content"]["title"] == first.title


def test_adding_unavailable_content_is_a_404(auth_client, playlist):
    draft = ContentFactory(state=Content.State.DRAFT, published_at=None)
    response = add_item(auth_client, playlist["id"], draft.pk)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not PlaylistItem.objects.exists()


def test_a_full_playlist_refuses_more(auth_client, playlist, monkeypatch):
    monkeypatch.setattr(services, "PLAYLIST_MAX_ITEMS", 2)
    add_item(auth_client, playlist["id"], ContentFactory().pk)
    add_item(auth_client, playlist["id"], ContentFactory().pk)

    response = add_item(auth_client, playlist["id"], ContentFactory().pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "playlist_full"
    assert PlaylistItem.objects.count() == 2


def test_remove_item(auth_client, playlist):
    item = add_item(auth_client, playlist["id"], ContentFactory().pk).json()

    assert auth_client.delete(f"/api/v1/playlists/{playlist['id']}/items/{item['id']}/").status_code == 204
    assert not PlaylistItem.objects.exists()
    assert auth_client.delete(f"/api/v1/playlists/{playlist['id']}/items/{item['id']}/").status_code == 404


def test_reorder(auth_client, playlist):
    items = [add_item(auth_client, playlist["id"], ContentFactory().pk).json() for _ in range(3)]
    new_order = [items[2]["id"], items[0]["id"], items[1]["id"]]

    response = auth_client.put(f"/api/v1/playlists/{playlist['id']}/items/order/", {"item_ids": new_order})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == new_order
    assert [item["position"] for item in response.json()["items"]] == [0, 1, 2]
    stored = auth_client.get(f"/api/v1/playlists/{playlist['id']}/").json()
    assert [item["id"] for item in stored["items"]] == new_order


def test_reorder_must_be_a_permutation(auth_client, playlist, other_client):
    items = [add_item(auth_client, playlist["id"], ContentFactory().pk).json()["id"] for _ in range(3)]
    theirs = other_client.post("/api/v1/playlists/", {"title": "theirs"}, format="json").json()
    foreign = add_item(other_client, theirs["id"], ContentFactory().pk).json()["id"]
    url = f"/api/v1/playlists/{playlist['id']}/items/order/"

    for bad in ([items[0], items[1]], [items[0], items[1], items[1]], [*items, foreign], [items[0], items[1], foreign]):
        response = auth_client.put(url, {"item_ids": bad}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["item_ids"][0]["code"] == "not_a_permutation"
    assert auth_client.put(url, {"item_ids": "1,2,3"}, format="json").status_code == 400
    assert list(PlaylistItem.objects.filter(playlist_id=playlist["id"]).values_list("id", flat=True)) == items


def test_unavailable_items_stay_listed_for_the_owner_without_content(auth_client, playlist):
    gone, kept = ContentFactory(), ContentFactory()
    add_item(auth_client, playlist["id"], gone.pk)
    add_item(auth_client, playlist["id"], kept.pk)
    Content.objects.filter(pk=gone.pk).update(state=Content.State.ARCHIVED)

    body = auth_client.get(f"/api/v1/playlists/{playlist['id']}/").json()

    assert [(i["content_id"], i["available"]) for i in body["items"]] == [(gone.pk, False), (kept.pk, True)]
    assert body["items"][0]["content"] is None


def test_share_unshare_and_reshare(auth_client, api_client, playlist):
    url = f"/api/v1/playlists/{playlist['id']}/"
    visible, hidden = ContentFactory(), ContentFactory()
    add_item(auth_client, playlist["id"], visible.pk)
    add_item(auth_client, playlist["id"], hidden.pk)
    Content.objects.filter(pk=hidden.pk).update(state=Content.State.ARCHIVED)

    token = auth_client.patch(url, {"shared": True}, format="json").json()["share_token"]
    assert len(token) >= 32

    shared = api_client.get(f"/api/v1/playlists/shared/{token}/")  # anyone, signed in or not
    assert shared.status_code == 200
    assert shared.json()["title"] == "Road trip"
    assert [item["content"]["id"] for item in shared.json()["items"]] == [visible.pk]
    assert "user" not in shared.json()

    auth_client.patch(url, {"shared": False}, format="json")
    assert api_client.get(f"/api/v1/playlists/shared/{token}/").status_code == 404

    new_token = auth_client.patch(url, {"shared": True}, format="json").json()["share_token"]
    assert new_token != token
    assert api_client.get(f"/api/v1/playlists/shared/{token}/").status_code == 404
    assert api_client.get(f"/api/v1/playlists/shared/{new_token}/").status_code == 200


def test_private_playlists_have_no_link(api_client, playlist):
    assert api_client.get("/api/v1/playlists/shared/none/").status_code == 404
    assert api_client.get(f"/api/v1/playlists/{playlist['id']}/").status_code in (401, 403)


def test_another_users_playlist_is_a_404_everywhere(auth_client, other_client, playlist):
    item = add_item(auth_client, playlist["id"], ContentFactory().pk).json()
    base = f"/api/v1/playlists/{playlist['id']}/"
    content = ContentFactory()

    responses = [
        other_client.get(base),
        other_client.patch(base, {"title": "mine now"}, format="json"),
        other_client.delete(base),
        add_item(other_client, playlist["id"], content.pk),
        other_client.delete(f"{base}items/{item['id']}/"),
        other_client.put(f"{base}items/order/", {"item_ids": [item["id"]]}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert all(r.json()["error"]["code"] == "playlist_not_found" for r in responses)
    assert Playlist.objects.get().title == "Road trip"
    assert PlaylistItem.objects.count() == 1
    assert other_client.get("/api/v1/playlists/").json()["results"] == []


def test_delete(auth_client, playlist):
    add_item(auth_client, playlist["id"], ContentFactory().pk)
    assert auth_client.delete(f"/api/v1/playlists/{playlist['id']}/").status_code == 204
    assert not Playlist.objects.exists()
    assert not PlaylistItem.objects.exists()


def test_detail_query_count(auth_client, playlist, django_assert_num_queries):
    for _ in range(10):
        add_item(auth_client, playlist["id"], ContentFactory().pk)
    with django_assert_num_queries(2):  # the playlist, its items with content
        assert len(auth_client.get(f"/api/v1/playlists/{playlist['id']}/").json()["items"]) == 10
