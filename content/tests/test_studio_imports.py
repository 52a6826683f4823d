"""CSV imports of games and players: the dry run, row errors, all or nothing, idempotent by external id,
streamed; exports escape formulas."""

import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from content.models import Game, ImportJob, Player
from content.services.imports import csv_export, csv_safe, import_commit_request, import_start
from csn.errors import PermissionDeniedError
from testing.factories import GameFactory, PlayerFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]
GAMES_HEADER = "external_id,home_team,away_team,starts_at,venue\n"


def csv_file(text: str | bytes, name="file.csv"):
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def games_csv(count: int, *, start=1, year=2031) -> str:
    lines = [GAMES_HEADER]
    for n in range(start, start + count):
        lines.append(f"g{n},lakers,celtics,{year}-01-01T19:{n % 60:02d}:00Z,Arena {n}\n")
    return "".join(lines)


@pytest.fixture
def teams(db):
    return TeamFactory(slug="lakers", name="Lakers"), TeamFactory(slug="celtics", name="Celtics")


def checked(actor, kind, text) -> ImportJob:
    job = import_start(actor=actor, kind=kind, file=csv_file(text))
    return ImportJob.objects.get(pk=job.pk)


def imported(job, actor) -> ImportJob:
    import_commit_request(job=job, actor=actor)
    return ImportJob.objects.get(pk=job.pk)


def test_dry_run_then_import_then_again_updates_without_duplicates(editor, teams, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="games", file=csv_file(games_csv(30)))
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.created_count, job.error_count) == ("checked", 30, 30, 0)
    assert job.preview[0] == {
        "Row": 2,
        "Action": "New",
        "External id": "g1",
        "Home team": "Lakers",
        "Away team": "Celtics",
        "Starts at": "2031-01-01 19:01 UTC",
        "Sport": "Basketball",
        "Venue": "Arena 1",
        "Status": "Scheduled",
    }
    assert not Game.objects.exists()  # a dry run writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        import_commit_request(job=job, actor=editor)
    job.refresh_from_db()
    assert job.status == "done" and Game.objects.count() == 30
    game = Game.objects.get(external_id="g7")
    assert (game.home_team.slug, game.venue, game.sport, game.status) == (
        "lakers",
        "Arena 7",
        "basketball",
        "scheduled",
    )

    again = games_csv(30).replace("Arena 7", "New Arena")
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="games", file=csv_file(again))
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (0, 30)
    with django_capture_on_commit_callbacks(execute=True):
        import_commit_request(job=job, actor=editor)
    assert Game.objects.count() == 30 and Game.objects.get(external_id="g7").venue == "New Arena"
    with pytest.raises(Exception) as exc:  # a finished job is not imported twice
        import_commit_request(job=ImportJob.objects.get(pk=job.pk), actor=editor)
    assert exc.value.code == "state_changed"


@pytest.mark.parametrize(
    "content, said",
    [
        (
            "external_id,home_team,away_team,starts_at\ng1,lakers,celtics,2031-01-01T10:00Z\n".encode("utf-16"),
            "not UTF-8",
        ),
        (
            "external_id,home_team,away_team,starts_at\ng1,caf\xe9s,celtics,2031-01-01T10:00Z\n".encode("latin-1"),
            "not UTF-8",
        ),
        ("external_id,home_team,starts_at\ng1,lakers,2031-01-01T10:00Z\n", "Missing column: away_team"),
        ("", "file is empty"),
        (GAMES_HEADER, "no rows"),
    ],
)
def test_a_refused_file_imports_nothing_and_says_why(editor, teams, django_capture_on_commit_callbacks, content, said):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="games", file=csv_file(content or b" "))
    job.refresh_from_db()
    assert job.status == "invalid" and said in job.message
    with pytest.raises(Exception) as exc:
        import_commit_request(job=job, actor=editor)
    assert exc.value.code == "state_changed" and not Game.objects.exists()


def test_row_errors_are_listed_by_row_and_column(editor, teams, django_capture_on_commit_callbacks):
    text = (
        GAMES_HEADER
        + "g1,lakers,celtics,2031-01-01T10:00:00Z,ok\n"
        + "g1,lakers,celtics,2031-01-02T10:00:00Z,duplicate id\n"
        + "g3,lakers,nobody,2031-01-02T10:00:00Z,unknown team\n"
        + "g4,lakers,lakers,2031-01-02T10:00:00Z,itself\n"
        + "g5,lakers,celtics,2001-01-02T10:00:00Z,in the past\n"
        + "g6,lakers,celtics,tomorrow,bad date\n"
        + ",lakers,celtics,2031-01-02T10:00:00Z,no id\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="games", file=csv_file(text))
    job.refresh_from_db()
    assert job.status == "invalid" and job.error_count == 6
    where = {(e["row"], e["column"]) for e in job.errors}
    assert where == {
        (3, "external_id"),
        (4, "away_team"),
        (5, "away_team"),
        (6, "starts_at"),
        (7, "starts_at"),
        (8, "external_id"),
    }
    assert any("appears twice" in e["message"] for e in job.errors)
    assert any("in the past" in e["message"] for e in job.errors)
    assert not Game.objects.exists()


def test_players_roster_import(editor, teams, django_capture_on_commit_callbacks):
    text = 'external_id,team,name,number,position\np1,lakers,=HYPERLINK("http://x"),23,Forward\np2,celtics,Bird,33,\n'
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="players", file=csv_file(text))
    with django_capture_on_commit_callbacks(execute=True):
        import_commit_request(job=ImportJob.objects.get(pk=job.pk), actor=editor)
    assert Player.objects.get(external_id="p2").number == 33
    bad = "external_id,team,name,number\np9,lakers,X,-4\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="players", file=csv_file(bad))
    job.refresh_from_db()
    assert job.errors == [{"row": 2, "column": "number", "message": "A shirt number: a whole number from 0 to 32767."}]


def test_export_escapes_formulas_and_uses_the_import_columns(teams):
    PlayerFactory(team=teams[0], name='=HYPERLINK("http://evil")', number=None, position="@SUM(A1)", external_id="p1")
    GameFactory(home_team=teams[0], away_team=teams[1], venue="+cmd", external_id="g1")
    players = "".join(csv_export(kind="players", queryset=Player.objects.all()))
    assert players.splitlines()[0] == "external_id,team,name,number,position"
    assert '\'=HYPERLINK(""http://evil"")' in players and "'@SUM(A1)" in players
    games = "".join(csv_export(kind="games", queryset=Game.objects.all()))
    assert "'+cmd" in games
    assert csv_safe("-1") == "'-1" and csv_safe("Lakers") == "Lakers" and csv_safe(7) == 7


def test_a_file_past_the_row_limit_is_refused_whole(editor, teams, settings, django_capture_on_commit_callbacks):
    settings.CSN_IMPORT_MAX_ROWS = 100
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="games", file=csv_file(games_csv(101)))
    job.refresh_from_db()
    assert job.status == "invalid" and "more than 100 rows" in job.message


def test_a_hundred_thousand_rows_are_refused_past_the_limit(editor, teams, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=editor, kind="games", file=csv_file(games_csv(100_000)))
    job.refresh_from_db()
    assert job.status == "invalid" and "more than 50,000 rows" in job.message and not Game.objects.exists()


def test_the_check_streams_the_file_in_bounded_memory(editor, teams, settings, django_capture_on_commit_callbacks):
    """Memory is one batch of rows plus the set of ids seen (the duplicate check): under 250 bytes a row
    more, bounded by the row limit (about 10 MB at 50,000), never the whole file parsed at once."""
    peaks = []
    for rows in (3_000, 12_000):
        upload = csv_file(games_csv(rows))
        tracemalloc.start()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                job = import_start(actor=editor, kind="games", file=upload)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        job.refresh_from_db()
        assert (job.status, job.total_rows) == ("checked", rows)
    per_row = (peaks[1] - peaks[0]) / 9_000
    assert per_row < 250, peaks  # a parsed row as dicts and model values costs well over 1 KB


def test_only_those_who_may_add_games_import_them(teams):
    with pytest.raises(PermissionDeniedError):
        import_start(actor=UserFactory(is_staff=True), kind="games", file=csv_file(games_csv(1)))


def test_the_import_pages(editor, teams, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(editor)
    assert client.get("/admin/content/importjob/add/").status_code == 200
    text = games_csv(3) + "g9,lakers,nobody,2031-01-01T10:00:00Z,x\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/content/importjob/add/", {"kind": "games", "file": csv_file(text)})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'id="job-errors"' in page and "No team with slug “nobody”" in page and "Refused" in page
    job = ImportJob.objects.get()
    progress = client.get(f"/admin/content/importjob/{job.pk}/progress/").json()
    assert progress["finished"] and progress["errors"] == 1 and progress["total_rows"] == 4
    refused = client.post(f"/admin/content/importjob/{job.pk}/commit/", follow=True)
    assert "not ready to import" in refused.content.decode() and not Game.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/content/importjob/add/", {"kind": "games", "file": csv_file(games_csv(3))})
    job = ImportJob.objects.latest("id")
    assert 'id="import-now"' in client.get(response["Location"]).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/content/importjob/{job.pk}/commit/")
    assert Game.objects.count() == 3
    viewer = Client()
    viewer.force_login(UserFactory(is_staff=True))
    assert viewer.get("/admin/content/importjob/add/").status_code == 403
