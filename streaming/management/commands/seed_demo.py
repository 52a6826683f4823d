"""Demo data for `make run`: idempotent, embedded mode only.

A catalogue across several sports (teams, players, a schedule with one live game, 50+ items in every
workflow state) and one account per role. Items move through the same services as in the CMS, so the
audit trail and analytics outbox look like real use. A second run finds everything and changes nothing.
"""

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.services import ensure_user_rows, subscription_update, user_create
from analytics.services.senders import event_log
from content.models import Content, Game, Player, Sport, Team
from content.services.editing import content_create
from content.services.workflow import content_archive, content_publish, content_reject, content_submit

DEMO_ADMIN_EMAIL = "admin@csn.local"
DEMO_PASSWORD = "csn-demo-password"

# (email, display name, staff, groups, premium)
DEMO_USERS = [
    ("editor@csn.local", "Erin Editor", True, ["Editors"], False),
    ("publisher@csn.local", "Pat Publisher", True, ["Publishers"], False),
    ("scorekeeper@csn.local", "Sam Scorekeeper", True, ["Scorekeepers"], False),
    ("moderator@csn.local", "Mo Moderator", True, ["Moderators"], False),
    ("viewer@csn.local", "Vic Viewer", False, [], False),
    ("premium@csn.local", "Priya Premium", False, [], True),
]
# Groups other areas use; created here so the demo accounts have them (their rights are those areas' business).
EXTRA_GROUPS = {"Scorekeepers": ["view_game", "change_game"], "Moderators": []}

TEAMS = [
    ("Harbor City Hawks", Sport.BASKETBALL),
    ("Riverside Rockets", Sport.BASKETBALL),
    ("Northgate Knights", Sport.BASKETBALL),
    ("Summit Suns", Sport.BASKETBALL),
    ("FC Lakeside", Sport.SOCCER),
    ("Union Rovers", Sport.SOCCER),
    ("Athletic Vale", Sport.SOCCER),
    ("Port Mariners SC", Sport.SOCCER),
    ("Coastline Spikers", Sport.VOLLEYBALL),
    ("Metro Blockers", Sport.VOLLEYBALL),
    ("Ice Valley Wolves", Sport.HOCKEY),
    ("Granite Peaks", Sport.HOCKEY),
]
POSITIONS = {
    Sport.BASKETBALL: ["Point guard", "Shooting guard", "Small forward", "Power forward", "Center"],
    Sport.SOCCER: ["Goalkeeper", "Defender", "Defender", "Midfielder", "Forward"],
    Sport.VOLLEYBALL: ["Setter", "Outside hitter", "Opposite", "Middle blocker", "Libero"],
    Sport.HOCKEY: ["Goaltender", "Defenseman", "Defenseman", "Center", "Winger"],
}
FIRST = ["Alex", "Jordan", "Sam", "Chris", "Taylor", "Morgan", "Jamie", "Casey", "Riley", "Drew", "Kai", "Noa"]
LAST = ["Rivera", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Kowalski", "Haddad", "Silva", "Brennan", "Adeyemi"]
VENUES = {
    Sport.BASKETBALL: "Harbor Arena",
    Sport.SOCCER: "Lakeside Park",
    Sport.VOLLEYBALL: "Metro Dome",
    Sport.HOCKEY: "Glacier Center",
}
# Public HLS test streams, so the demo player plays something.
STREAMS = [
    "https://test-streams.mux.dev/x36xhzz/x36xhzz.m3u8",
    "https://devstreaming-cdn.apple.com/videos/streaming/examples/img_bipbop_adv_example_fmp4/master.m3u8",
]


# (home score, away score, clock, play) in the third quarter of the live game.
LIVE_PLAYS = [
    (53, 55, "08:41", "Driving layup, and one"),
    (53, 58, "07:55", "Three from the left corner"),
    (56, 58, "06:30", "Pull-up three at the top of the key"),
    (56, 61, "05:49", "Catch-and-shoot three off the screen"),
    (58, 61, "05:12", "Putback dunk after the offensive rebound"),
]


@contextlib.contextmanager
def _log_level(logger: logging.Logger, level: int):
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo accounts."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with CSN_PRODUCTION=1")
        # The seeding's analytics events are delivered as usual, but not each logged (about a hundred
        # lines, embedded mode): the demo logins stay the last thing printed.
        with _log_level(event_log, logging.WARNING), transaction.atomic():
            admin = self._admin()
            users = self._users()
            teams = self._teams()
            games = self._games(teams)
            self._plays(users["scorekeeper"], games)
            created = self._content(users, teams, games)
            products = self._products(teams, games)
        self.stdout.write(
            f"Catalogue: {Team.objects.count()} teams, {Player.objects.count()} players, "
            f"{Game.objects.count()} games, {Content.objects.count()} items ({created} new)."
        )
        self.stdout.write(
            f"Products: {', '.join(products)} (the premium viewer holds premium; play with POST /api/v1/playback/)."
        )
        self.stdout.write(f"Demo admin: {admin.email} / {DEMO_PASSWORD}  (http://127.0.0.1:8000/admin/)")
        for email, _name, _staff, groups, premium in DEMO_USERS:
            role = ", ".join(groups) or ("premium viewer" if premium else "viewer")
            self.stdout.write(f"  {role:<16} {email} / {DEMO_PASSWORD}")

    def _admin(self) -> User:
        admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        if admin is None:
            admin = User.objects.create_superuser(email=DEMO_ADMIN_EMAIL, password=DEMO_PASSWORD, display_name="Admin")
        ensure_user_rows(user=admin)
        return admin

    def _users(self) -> dict[str, User]:
        for name, codenames in EXTRA_GROUPS.items():
            group, _ = Group.objects.get_or_create(name=name)
            if codenames:
                group.permissions.add(
                    *Permission.objects.filter(content_type__app_label="content", codename__in=codenames)
                )
        users = {}
        for email, display_name, staff, groups, premium in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(email=email, password=DEMO_PASSWORD, display_name=display_name, is_staff=staff)
                user.groups.add(*Group.objects.filter(name__in=groups))
                if premium:
                    subscription_update(user=user, plan="premium", status="active")
            users[email.split("@")[0]] = User.objects.get(pk=user.pk)  # fresh: rights are cached per instance
        return users

    def _teams(self) -> list[Team]:
        teams = []
        for index, (name, sport) in enumerate(TEAMS):
            team, created = Team.objects.get_or_create(
                slug=name.lower().replace(" ", "-"), defaults={"name": name, "sport": sport}
            )
            if created:
                for n, position in enumerate(POSITIONS[sport]):
                    Player.objects.create(
                        team=team,
                        name=f"{FIRST[(index + n * 5) % len(FIRST)]} {LAST[(index * 3 + n) % len(LAST)]}",
                        number=(index * 7 + n * 11) % 98 + 1,
                        position=position,
                    )
            teams.append(team)
        return teams

    def _games(self, teams: list[Team]) -> list[Game]:
        """Per sport: two finished games, one live (basketball only), upcoming ones."""
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        by_sport: dict[str, list[Team]] = {}
        for team in teams:
            by_sport.setdefault(team.sport, []).append(team)
        plan = []
        for sport, group in by_sport.items():
            pairs = [(group[i], group[j]) for i in range(len(group)) for j in range(len(group)) if i != j]
            for k, (home, away) in enumerate(pairs[:5]):
                if k < 2:
                    status, starts, score = Game.Status.FINAL, now - timedelta(days=3 - k), (3 + k, 1 + k)
                elif k == 2 and sport == Sport.BASKETBALL:
                    status, starts, score = Game.Status.LIVE, now - timedelta(minutes=50), (51, 55)
                else:
                    status, starts, score = Game.Status.SCHEDULED, now + timedelta(days=k - 1, hours=19), (0, 0)
                if sport == Sport.BASKETBALL and status == Game.Status.FINAL:
                    score = (score[0] * 30 + 12, score[1] * 35 + 20)
                plan.append((home, away, sport, status, starts, score))
        games = []
        for home, away, sport, status, starts, (home_score, away_score) in plan:
            live = status == Game.Status.LIVE
            game, _ = Game.objects.get_or_create(
                home_team=home,
                away_team=away,
                defaults={
                    "sport": sport,
                    "venue": VENUES[sport],
                    "starts_at": starts,
                    "status": status,
                    "home_score": home_score,
                    "away_score": away_score,
                    "period": "Q3" if live else ("Final" if status == Game.Status.FINAL else ""),
                    "clock": "05:12" if live else "",
                },
            )
            games.append(game)
        return games

    def _products(self, teams: list[Team], games: list[Game]) -> list[str]:
        """Passes beside the premium plan (migration 0004): a sport pass, a team pass, one game."""
        from accounts.models import Product, ProductRule

        live = next((g for g in games if g.status == Game.Status.LIVE), games[0])
        passes = [
            ("basketball-pass", "Basketball pass", Product.Kind.LEAGUE_PASS, None, {"sport": Sport.BASKETBALL}),
            (f"team-{teams[0].slug}", f"{teams[0].name} pass", Product.Kind.TEAM_PASS, None, {"team_id": teams[0].pk}),
            (f"game-{live.pk}", f"{live} (single game)", Product.Kind.SINGLE_GAME, 2, {"game_id": live.pk}),
        ]
        for code, name, kind, pass_days, rule in passes:
            product, created = Product.objects.get_or_create(
                code=code, defaults={"name": name[:120], "kind": kind, "pass_days": pass_days}
            )
            if created:
                ProductRule.objects.create(product=product, **rule)
        return list(Product.objects.order_by("name").values_list("code", flat=True))

    def _plays(self, scorekeeper: User, games: list[Game]) -> None:
        """The live game's play-by-play so far, posted the way a scorekeeper would (once)."""
        from streaming.live.models import Broadcast, GameEvent
        from streaming.live.services.scores import game_event_record

        for game in games:
            if game.status != Game.Status.LIVE or GameEvent.objects.filter(game=game).exists():
                continue
            # Its stream began at tip-off; the plays a minute apart up to now, the dunk a key moment.
            Broadcast.objects.get_or_create(
                game=game, defaults={"manifest_url": STREAMS[0], "started_at": game.starts_at}
            )
            now = timezone.now()
            for n, (home, away, clock, play) in enumerate(LIVE_PLAYS):
                game_event_record(
                    actor=scorekeeper,
                    game_id=game.pk,
                    home_score=home,
                    away_score=away,
                    clock=clock,
                    description=play,
                    occurred_at=now - timedelta(minutes=len(LIVE_PLAYS) - n),
                    key_moment="other" if "dunk" in play else "",
                )

    def _content(self, users: dict[str, User], teams: list[Team], games: list[Game]) -> int:
        editor, publisher = users["editor"], users["publisher"]
        now = timezone.now()
        specs = []
        finished = [g for g in games if g.status in (Game.Status.FINAL, Game.Status.LIVE)]
        for n, game in enumerate(finished):
            title = f"{game.away_team.name} at {game.home_team.name}"
            base = {"game": game, "teams": [game.home_team, game.away_team], "year": game.starts_at.year}
            specs.append(
                {
                    **base,
                    "title": f"Full game: {title}",
                    "type": "full_game",
                    "is_premium": True,
                    "runtime_seconds": 7200,
                    "tags": [game.sport, "full-game"],
                }
            )
            specs.append(
                {
                    **base,
                    "title": f"Highlights: {title}",
                    "type": "highlight",
                    "runtime_seconds": 420,
                    "tags": [game.sport, "highlights"],
                }
            )
            specs.append(
                {
                    **base,
                    "title": f"Top plays: {title}",
                    "type": "clip",
                    "runtime_seconds": 90,
                    "tags": [game.sport, "top-plays"],
                    "is_premium": n % 3 == 0,
                }
            )
        for team in teams:
            player = team.players.order_by("number").first()
            specs.append(
                {
                    "title": f"Inside the {team.name}",
                    "type": "episode",
                    "teams": [team],
                    "players": [player] if player else [],
                    "year": now.year - 1,
                    "runtime_seconds": 1800,
                    "tags": [team.sport, "documentary"],
                    "is_premium": True,
                }
            )
            specs.append(
                {
                    "title": f"{player.name if player else team.name}: season mixtape",
                    "type": "clip",
                    "teams": [team],
                    "players": [player] if player else [],
                    "year": now.year,
                    "runtime_seconds": 240,
                    "tags": [team.sport, "players"],
                }
            )
        for week in range(1, 9):
            specs.append(
                {
                    "title": f"The Weekly Roundup, episode {week}",
                    "type": "show",
                    "year": now.year,
                    "runtime_seconds": 2400,
                    "tags": ["roundup", "show"],
                    "is_premium": week > 6,
                }
            )

        created = 0
        for index, spec in enumerate(specs):
            slug = slugify(spec["title"])[:200]
            if Content.objects.filter(slug=slug).exists():
                continue
            spec = {
                **spec,
                "slug": slug,
                "description": f"{spec['title']}. Demo content for the CSN catalogue.",
                "video_url": STREAMS[index % len(STREAMS)],
            }
            if index == 5:  # coming soon: published, not yet available
                spec["available_from"] = now + timedelta(days=7)
            if index == 6:  # expired rights
                spec["available_until"] = now - timedelta(days=1)
            item = content_create(actor=editor, **spec)
            self._move(item, index, editor, publisher)
            created += 1
        return created

    @staticmethod
    def _move(item: Content, index: int, editor: User, publisher: User) -> None:
        """Spread items over the workflow: mostly published, some drafts, some in review, a few archived."""
        bucket = index % 10
        if bucket == 0:
            return  # draft
        content_submit(content=item, actor=editor)
        if bucket == 1:
            return  # in review
        if bucket == 2:
            content_reject(content=item, actor=publisher, reason="Please add the final score to the title.")
            return
        content_publish(content=item, actor=publisher)
        if bucket == 9 and index > 20:
            content_archive(content=item, actor=publisher, note="Rights expired.")
