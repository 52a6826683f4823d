"""`manage.py seed_demo`: a realistic catalogue and one account per role, idempotent."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Subscription, User
from analytics.models import OutboxEvent
from content.models import Content, ContentAuditLog, Game, Player, Team
from streaming.live.models import GameEvent

ROOT = Path(__file__).resolve().parents[2]


def snapshot():
    return {
        "users": list(User.objects.order_by("pk").values_list("pk", "email", "is_staff")),
        "groups": list(
            Group.objects.order_by("name").values_list("name", "user__email").order_by("name", "user__email")
        ),
        "teams": list(Team.objects.order_by("pk").values_list("pk", "updated_at")),
        "players": Player.objects.count(),
        "games": list(Game.objects.order_by("pk").values_list("pk", "status", "starts_at", "updated_at")),
        "content": list(Content.objects.order_by("pk").values_list("pk", "state", "updated_at")),
        "audit": ContentAuditLog.objects.count(),
        "plays": GameEvent.objects.count(),
        "outbox": OutboxEvent.objects.count(),
        "subscriptions": list(Subscription.objects.order_by("pk").values_list("pk", "plan", "updated_at")),
    }


@pytest.mark.django_db
def test_seed_demo_builds_the_demo_and_a_second_run_changes_nothing():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = snapshot()
    for email in ("admin@csn.local", "editor@csn.local", "publisher@csn.local", "scorekeeper@csn.local"):
        assert email in out.getvalue()
    assert "csn-demo-password" in out.getvalue()

    assert Team.objects.count() >= 8 and Team.objects.values("sport").distinct().count() >= 3
    assert all(team.players.exists() for team in Team.objects.all())
    assert Game.objects.filter(status="live").count() == 1
    live = Game.objects.get(status="live")
    plays = list(GameEvent.objects.filter(game=live).order_by("pk"))
    assert len(plays) >= 3 and all(play.description for play in plays)
    assert (live.home_score, live.away_score) == (plays[-1].home_score, plays[-1].away_score)
    assert Game.objects.filter(status="scheduled").exists() and Game.objects.filter(status="final").exists()
    assert Content.objects.count() >= 50
    assert set(Content.objects.values_list("state", flat=True)) == set(Content.State.values)
    # Moved through the services: every item has its audit trail and the events went to the outbox.
    assert not Content.objects.filter(audit_log__isnull=True).exists()
    assert (
        OutboxEvent.objects.filter(name="content_published").count()
        == ContentAuditLog.objects.filter(to_state="published").count()
    )

    def member(email, group):
        return User.objects.get(email=email).groups.filter(name=group).exists()

    assert member("editor@csn.local", "Editors") and member("publisher@csn.local", "Publishers")
    assert member("scorekeeper@csn.local", "Scorekeepers") and member("moderator@csn.local", "Moderators")
    assert User.objects.get(email="premium@csn.local").subscription.is_premium_active
    assert not User.objects.get(email="viewer@csn.local").subscription.is_premium_active
    assert User.objects.get(email="editor@csn.local").check_password("csn-demo-password")

    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == first


@pytest.mark.django_db
def test_seeded_catalogue_serves_viewers():
    call_command("seed_demo", stdout=StringIO())
    body = APIClient().get("/api/v1/content/", {"page_size": 100}).json()
    states = set(Content.objects.filter(pk__in=[r["id"] for r in body["results"]]).values_list("state", flat=True))
    assert states == {"published"} and len(body["results"]) >= 30
    assert any(r["locked"] for r in body["results"]) and any(not r["locked"] for r in body["results"])
    live = APIClient().get("/api/v1/games/", {"status": "live"}).json()["results"]
    assert len(live) == 1 and live[0]["period"] == "Q3"


def test_seed_demo_prints_the_logins_last_and_no_analytics_lines(tmp_path):
    """`make run` in the embedded default: events are delivered in-process (to the log sender) while
    seeding; the console shows the summary and the logins, not a hundred analytics lines before them."""
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('migrate', verbosity=0); call_command('seed_demo'); "
        "from analytics.models import OutboxEvent; print('outbox left:', OutboxEvent.objects.count())"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_LEVEL")}
    env.update(DJANGO_SETTINGS_MODULE="csn.settings", CSN_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert not [line for line in lines if "analytics event" in line], result.stdout
    assert lines[-1] == "outbox left: 0"  # the events were delivered all the same
    seeded = lines[:-1]
    assert seeded[0].startswith("Catalogue:"), result.stdout
    assert seeded[-1].strip() == "premium viewer   premium@csn.local / csn-demo-password"
