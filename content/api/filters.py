import django_filters
from django.db.models import Q
from rest_framework import filters
from rest_framework.exceptions import ValidationError

from content.models import Content, Game, Player, Sport, Team
from content.selectors import content_filter_tag
from csn.api.filters import IdFilter


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` with an unknown field is a 400, not silently ignored."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        invalid = [term for term in fields if term not in valid]
        if invalid:
            allowed = sorted(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
            raise ValidationError(
                {self.ordering_param: [f"Unknown ordering {', '.join(invalid)}; use one of {', '.join(allowed)}."]},
                code="invalid_ordering",
            )
        # A unique tiebreaker keeps cursor pages stable among equal values.
        if valid and not {"id", "-id"} & set(valid):
            valid = [*valid, "-id"]
        return valid


class ContentFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=Content.Type.choices)
    state = django_filters.ChoiceFilter(choices=Content.State.choices)
    team = IdFilter(field_name="teams")
    player = IdFilter(field_name="players")
    game = IdFilter(field_name="game")
    game_status = django_filters.ChoiceFilter(field_name="game__status", choices=Game.Status.choices)
    tag = django_filters.CharFilter(method="filter_tag", max_length=50)
    year = django_filters.NumberFilter(field_name="year", min_value=0, max_value=32767)  # a small integer column
    # Strict: anything but true/false is a 400 (BooleanFilter would quietly ignore "maybe").
    premium = django_filters.TypedChoiceFilter(
        field_name="is_premium", choices=[("true", "true"), ("false", "false")], coerce=lambda v: v == "true"
    )
    published_after = django_filters.DateFilter(field_name="published_at", lookup_expr="date__gte")
    published_before = django_filters.DateFilter(field_name="published_at", lookup_expr="date__lte")

    class Meta:
        model = Content
        fields: list = []

    def filter_tag(self, queryset, name, value):
        return content_filter_tag(queryset, value) if value else queryset


class GameFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Game.Status.choices)
    sport = django_filters.ChoiceFilter(choices=Sport.choices)
    team = IdFilter(method="filter_team")
    date = django_filters.DateFilter(field_name="starts_at", lookup_expr="date")
    date_from = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")

    class Meta:
        model = Game
        fields: list = []

    def filter_team(self, queryset, name, value):
        return queryset.filter(Q(home_team_id=value) | Q(away_team_id=value))


class TeamFilter(django_filters.FilterSet):
    sport = django_filters.ChoiceFilter(choices=Sport.choices)

    class Meta:
        model = Team
        fields: list = []


class PlayerFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team")
    sport = django_filters.ChoiceFilter(field_name="team__sport", choices=Sport.choices)
    position = django_filters.CharFilter(field_name="position", lookup_expr="iexact")

    class Meta:
        model = Player
        fields: list = []
