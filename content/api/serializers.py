from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.entitlements import no_grants
from content.models import Content, Game, MediaAsset, Player, Team
from content.selectors import content_images, content_relations
from content.services.rights import content_locked
from content.services.workflow import TRANSITIONS
from csn.api.serializers import InputSerializer
from csn.representation import datetime_text


def _file_url(field) -> str | None:
    return field.url if field else None


# The catalogue's teams, players and games are represented by hand, as items are (ContentSerializer): a
# ModelSerializer builds its fields (model introspection, a deep copy of the declared ones) for every
# answer and walks them for every row, most of the CPU of an uncached page. The declared fields stay the
# schema; a test holds each representation equal to what DRF's fields make of the same object.


def team_brief(team: Team) -> dict:
    return {"id": team.pk, "name": team.name, "slug": team.slug, "sport": team.sport}


def team_representation(team: Team) -> dict:
    return {"id": team.pk, "name": team.name, "slug": team.slug, "sport": team.sport, "logo_url": _file_url(team.logo)}


class TeamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "sport"]

    def to_representation(self, team):
        return team_brief(team)


class TeamSerializer(serializers.ModelSerializer):
    logo_url = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "sport", "logo_url"]

    def get_logo_url(self, team) -> str | None:
        return _file_url(team.logo)

    def to_representation(self, team):
        return team_representation(team)


class PlayerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Player
        fields = ["id", "name", "number", "position", "team_id"]


class PlayerSerializer(serializers.ModelSerializer):
    """A player with its team, in the catalogue and in a fan's favorites."""

    team = TeamSerializer()

    class Meta:
        model = Player
        fields = ["id", "name", "number", "position", "team"]

    def to_representation(self, player):
        return {
            "id": player.pk,
            "name": player.name,
            "number": player.number,
            "position": player.position,
            "team": team_representation(player.team),
        }


def game_representation(game: Game) -> dict:
    """GameSerializer's output (the game list's rows and the detail's head)."""
    return {
        "id": game.pk,
        "sport": game.sport,
        "venue": game.venue,
        "starts_at": datetime_text(game.starts_at),
        "status": game.status,
        "home_team": team_brief(game.home_team),
        "away_team": team_brief(game.away_team),
        "home_score": game.home_score,
        "away_score": game.away_score,
        "period": game.period,
        "clock": game.clock,
    }


class GameSerializer(serializers.ModelSerializer):
    home_team = TeamBriefSerializer()
    away_team = TeamBriefSerializer()

    class Meta:
        model = Game
        fields = [
            "id",
            "sport",
            "venue",
            "starts_at",
            "status",
            "home_team",
            "away_team",
            "home_score",
            "away_score",
            "period",
            "clock",
        ]

    def to_representation(self, game):
        return game_representation(game)


def content_card(content: Content) -> dict:
    """An item's card: the short form that lists embed (Continue Watching, history, My List, playlists).
    ContentCardSerializer's output, built by hand for hot lists. It reads the fields it shows, `thumbnail`
    for `thumbnail_url`, nothing else: a list may load only those columns."""
    return {
        "id": content.id,
        "title": content.title,
        "slug": content.slug,
        "type": content.type,
        "year": content.year,
        "runtime_seconds": content.runtime_seconds,
        "is_premium": content.is_premium,
        "thumbnail_url": content.thumbnail.url if content.thumbnail else None,
    }


class ContentCardSerializer(serializers.ModelSerializer):
    """An item's card, the short form embedded in lists of viewer state."""

    # The declared fields are the schema; content_card is the output (a test pins the two to the same keys).
    thumbnail_url = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = Content
        fields = ["id", "title", "slug", "type", "year", "runtime_seconds", "is_premium", "thumbnail_url"]
        read_only_fields = fields

    def to_representation(self, content):
        return content_card(content)


class ImageRenditionSerializer(serializers.Serializer):
    """One size and format of an item's image (content.selectors.content_images)."""

    width = serializers.IntegerField(help_text="Pixels.")
    height = serializers.IntegerField(help_text="Pixels.")
    format = serializers.ChoiceField(choices=["jpeg", "webp"])
    url = serializers.CharField(help_text="The file on the media storage (on S3: a signed, expiring URL).")


class ContentListSerializer(serializers.ListSerializer):
    """Items loaded with their teams, players and images for the whole page at once (three queries)."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        ids = [item.pk for item in items]
        teams, players = content_relations(ids)
        images = content_images(ids)
        return [self.child.represent(item, teams[item.pk], players[item.pk], images[item.pk]) for item in items]


class ContentSerializer(serializers.ModelSerializer):
    """An item as a viewer sees it. No playable address: players ask `POST /api/v1/playback/` for a
    short-lived signed one. `locked`: a premium item none of the viewer's products unlocks. Expects the
    viewer's `grants` (accounts.entitlements.user_grants) in the context."""

    teams = TeamBriefSerializer(many=True)
    players = PlayerBriefSerializer(many=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    thumbnail_url = serializers.CharField(allow_null=True, read_only=True)
    images = ImageRenditionSerializer(
        many=True,
        read_only=True,
        help_text="The item's image in the sizes the apps use, WebP and JPEG of each width (for `srcset`), by "
        "width; [] until an image's renditions are made (use `thumbnail_url` then).",
    )
    locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = Content
        fields = [
            "id",
            "title",
            "slug",
            "type",
            "description",
            "year",
            "runtime_seconds",
            "tags",
            "thumbnail_url",
            "images",
            "is_premium",
            "locked",
            "state",
            "available_from",
            "available_until",
            "published_at",
            "game_id",
            "teams",
            "players",
        ]
        list_serializer_class = ContentListSerializer

    def to_representation(self, content):
        teams, players = content_relations([content.pk])
        return self.represent(content, teams[content.pk], players[content.pk], content_images([content.pk])[content.pk])

    def represent(self, content, teams: list[dict], players: list[dict], images: list[dict]) -> dict:
        # Hand-built: the catalogue's hottest path. DRF's per-field machinery tripled the cost of a page;
        # the declared fields above stay the schema (a test pins the two to the same keys).
        grants = self.context.get("grants") or no_grants()
        return {
            "id": content.pk,
            "title": content.title,
            "slug": content.slug,
            "type": content.type,
            "description": content.description,
            "year": content.year,
            "runtime_seconds": content.runtime_seconds,
            "tags": content.tags,
            "thumbnail_url": _file_url(content.thumbnail),
            "images": images,
            "is_premium": content.is_premium,
            "locked": content_locked(content=content, grants=grants, teams=teams),
            "state": content.state,
            "available_from": datetime_text(content.available_from),
            "available_until": datetime_text(content.available_until),
            "published_at": datetime_text(content.published_at),
            "game_id": content.game_id,
            "teams": teams,
            "players": players,
        }


class GameDetailSerializer(GameSerializer):
    content = serializers.SerializerMethodField()

    class Meta(GameSerializer.Meta):
        fields = [*GameSerializer.Meta.fields, "content"]

    @extend_schema_field(ContentSerializer(many=True))
    def get_content(self, game):
        return ContentSerializer(self.context["game_content"], many=True, context=self.context).data

    def to_representation(self, game):
        return {**super().to_representation(game), "content": self.get_content(game)}


class TransitionInputSerializer(InputSerializer):
    transition = serializers.ChoiceField(choices=sorted(TRANSITIONS))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MediaAssetSerializer(serializers.ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = MediaAsset
        fields = [
            "id",
            "original_name",
            "folder_path",
            "tags",
            "size_bytes",
            "content_type",
            "checksum_sha256",
            "status",
            "error",
            "content",
            "created_at",
            "updated_at",
        ]


class MediaUploadStartInputSerializer(InputSerializer):
    filename = serializers.CharField(max_length=255)
    content_type = serializers.CharField(max_length=100)
    size_bytes = serializers.IntegerField(min_value=1)
    folder_path = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)
    content = serializers.PrimaryKeyRelatedField(queryset=Content.objects.all(), required=False, allow_null=True)


class UploadInstructionsSerializer(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField())
    file_field = serializers.CharField()


class MediaUploadStartOutputSerializer(serializers.Serializer):
    asset = MediaAssetSerializer()
    upload = UploadInstructionsSerializer()


class MediaDirectUploadInputSerializer(InputSerializer):
    file = serializers.FileField()
