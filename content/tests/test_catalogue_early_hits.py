"""An anonymous reader's catalogue cache hit answered early (csn.api.caching.CachedReadEarlyMiddleware),
before sessions, authentication and DRF: the same answer as the view's own hit (status, body, headers),
the same throttle and RateLimit headers, the same metrics, and never for a reader with credentials."""

import pytest
from django.test import Client

from accounts.services import token_issue
from content.services.editing import content_update
from csn import metrics
from csn.api import caching
from csn.api.caching import CachedReadEarlyMiddleware, CachedReadMixin
from testing.factories import ContentFactory, GameFactory, PlayerFactory

# Differ between any two requests: the request id, and the throttle's count left.
PER_REQUEST = {"X-Request-ID", "RateLimit"}


@pytest.fixture
def early(monkeypatch):
    """Whether a request was answered by the early middleware (asked once per request, in order)."""
    answers, real = [], CachedReadEarlyMiddleware.early

    def recorded(self, request):
        response = real(self, request)
        answers.append(response is not None)
        return response

    monkeypatch.setattr(CachedReadEarlyMiddleware, "early", recorded)

    def answered_early(response):
        assert len(answers) <= 1, "ask once per request"
        return bool(answers) and answers.pop()  # nothing recorded: not a GET, never tried

    return answered_early


@pytest.fixture
def view_only(monkeypatch):
    """Run the block with the early answers off (`with view_only():`): the view answers its own hits."""
    import contextlib

    @contextlib.contextmanager
    def off():
        monkeypatch.setattr(CachedReadMixin, "served_early", False)
        try:
            yield
        finally:
            monkeypatch.setattr(CachedReadMixin, "served_early", True)

    return off


def headers(response) -> dict:
    return {name: value for name, value in response.headers.items() if name not in PER_REQUEST}


def catalogue_paths() -> list[str]:
    item = ContentFactory(is_premium=True)
    game = GameFactory()
    PlayerFactory()
    return [
        "/api/v1/content/",
        "/api/v1/content/?type=highlight&page_size=5",
        f"/api/v1/content/{item.pk}/",
        "/api/v1/teams/",
        "/api/v1/players/",
        "/api/v1/games/",
        f"/api/v1/games/{game.pk}/",
    ]


@pytest.mark.django_db
def test_an_early_hit_equals_the_views_hit_for_every_catalogue_read(early, view_only):
    for path in catalogue_paths():
        client = Client(HTTP_ACCEPT="application/json")
        first = client.get(path)
        assert first.status_code == 200 and not early(first), path
        with view_only():
            by_view = client.get(path)
            assert not early(by_view)
            not_modified_by_view = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
            assert not early(not_modified_by_view)
        hit = client.get(path)
        assert early(hit), path
        assert (hit.status_code, hit.content, headers(hit)) == (200, by_view.content, headers(by_view)), path
        assert hit.content == first.content and hit["ETag"] == first["ETag"]
        assert hit["RateLimit-Policy"] and hit["RateLimit"] and hit["X-Request-ID"]
        not_modified = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert early(not_modified) and not_modified.status_code == 304 and not_modified.content == b""
        assert headers(not_modified) == headers(not_modified_by_view), path


@pytest.mark.django_db
def test_a_reader_with_credentials_never_gets_an_early_answer(early, premium_viewer):
    item = ContentFactory(is_premium=True)
    path = f"/api/v1/content/{item.pk}/"
    anonymous = Client().get(path)
    assert anonymous.json()["locked"] is True and not early(anonymous)
    assert early(Client().get(path))

    by_token = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=premium_viewer).key}")
    for _ in range(2):
        answer = by_token.get(path)
        assert not early(answer) and answer.json()["locked"] is False
        assert {p.strip() for p in answer["Cache-Control"].split(",")} == {"private", "no-cache"}

    by_session = Client()
    by_session.force_login(premium_viewer)
    for _ in range(2):
        answer = by_session.get(path)
        assert not early(answer) and answer.json()["locked"] is False

    bad_token = Client(HTTP_AUTHORIZATION="Bearer nope").get(path)
    assert not early(bad_token) and bad_token.status_code == 401


@pytest.mark.django_db
def test_an_edit_shows_at_once_in_early_answers(early, publisher):
    item = ContentFactory(title="Before")
    path = f"/api/v1/content/{item.pk}/"
    assert not early(Client().get(path))
    assert early(hit := Client().get(path)) and hit.json()["title"] == "Before"
    content_update(content=item, actor=publisher, title="After")
    answer = Client().get(path)
    assert answer.json()["title"] == "After" and not early(answer)  # computed anew, under the new version
    assert early(again := Client().get(path)) and again.json()["title"] == "After"


@pytest.mark.django_db
def test_a_generation_moved_elsewhere_is_not_guessed(early, monkeypatch):
    """The process's last generation is only a guess: a version moved by another process (here: the
    guess replaced by a stale one) is read anew, and the answer under it served."""
    ContentFactory()
    path = "/api/v1/teams/"
    assert not early(Client().get(path))
    seen = dict(caching._last_generation)
    monkeypatch.setattr(caching, "_last_generation", {memo: generation + "0" for memo, generation in seen.items()})
    hit = Client().get(path)
    assert early(hit) and hit.status_code == 200
    assert [memo for memo in seen if caching._last_generation[memo] == seen[memo]] == [("catalogue:v:teams",)]


@pytest.mark.django_db
def test_early_hits_count_in_the_anonymous_throttle(early, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon_read": "3/min"},
    }
    path = "/api/v1/teams/"
    client = Client()
    answers, early_ones = [], []
    for _ in range(4):
        answers.append(client.get(path))
        early_ones.append(early(answers[-1]))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert early_ones == [False, True, True, False]  # the refusal is the view's
    assert [a["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0", "r=0"]
    refused = answers[3]
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) >= 1


@pytest.mark.django_db
def test_what_the_view_would_refuse_or_mark_is_left_to_it(early):
    ContentFactory()
    for path in ("/api/v1/content/", "/api/v1/content/?published_after=2020-01-01"):
        assert not early(Client().get(path))
    not_json = Client().get("/api/v1/content/", HTTP_ACCEPT="text/html")
    assert not_json.status_code == 406 and not early(not_json)
    deprecated = Client().get("/api/v1/content/?published_after=2020-01-01")
    assert deprecated.status_code == 200 and deprecated["Deprecation"] and not early(deprecated)
    head = Client().head("/api/v1/content/")
    assert head.status_code == 200 and not early(head)


@pytest.mark.django_db
def test_an_early_hit_is_timed_under_its_route():
    def count() -> float:
        for metric in metrics.http_request_duration.collect():
            for sample in metric.samples:
                labels = sample.labels
                if sample.name.endswith("_count") and labels["route"] == "/api/v1/teams/" and labels["status"] == "200":
                    return sample.value
        return 0.0

    Client().get("/api/v1/teams/")
    before = count()
    Client().get("/api/v1/teams/")
    assert count() == before + 1


@pytest.mark.django_db
def test_each_host_has_its_own_answer(settings):
    """Page links are absolute: an answer stored for one host is never served to another."""
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    ContentFactory.create_batch(3)
    for _ in range(2):
        one = Client(HTTP_HOST="one.example").get("/api/v1/content/?page_size=1").json()["next"]
        two = Client(HTTP_HOST="two.example").get("/api/v1/content/?page_size=1").json()["next"]
        assert one.startswith("http://one.example/") and two.startswith("http://two.example/")
    assert Client(HTTP_HOST="three.example").get("/api/v1/content/?page_size=1").status_code == 400
