import copy
import functools
import operator
import re

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError

from content.models import Content, Game, Player, Sport, Team
from content.selectors import content_tagged
from content.services.errors import field_error
from csn.api.filters import IdFilter
from csn.errors import ApplicationError

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_TERMS = 8
# The content text searched on PostgreSQL. Migration 0004 indexes exactly this expression (GIN): change
# both together.
CONTENT_SEARCH_DOCUMENT = SearchVector("title", "description", config="english")


class CatalogueFilterBackend(DjangoFilterBackend):
    """django-filter's backend, passed by when the query string names none of the view's filters. A
    FilterSet deep-copies every filter and builds a form to find nothing to do: a fifth of the CPU of an
    unfiltered content page."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and request.query_params.keys().isdisjoint(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class CatalogueSearchFilter(filters.SearchFilter):
    """`?search=`: words (letters and digits; the rest separates them), at most SEARCH_MAX_TERMS of them
    in at most SEARCH_MAX_LENGTH characters (past either, a 400 `search_too_long` /
    `search_too_many_terms`, before any query). Every word must match.

    On PostgreSQL, a view's `search_document` (content) is matched by full-text search, English
    stemming, each word also a prefix (`goal` finds "goals" and "goalkeeper"), on a GIN index; names
    (`search_fields`) by trigram word similarity (pg_trgm `%>` on GIN indexes: a prefix or a typo still
    finds "Lakers"), a related model's name through a subquery on its own index. Elsewhere (SQLite, the
    embedded default) each word is a case-insensitive substring of one of `search_fields`."""

    def get_search_terms(self, request):
        text = request.query_params.get(self.search_param, "")
        if len(text) > SEARCH_MAX_LENGTH:
            raise _search_error("search_too_long", f"Search with at most {SEARCH_MAX_LENGTH} characters.")
        terms = re.findall(r"\w+", text)
        if len(terms) > SEARCH_MAX_TERMS:
            raise _search_error("search_too_many_terms", f"Search with at most {SEARCH_MAX_TERMS} words.")
        return terms

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        fields = getattr(view, "search_fields", None) or []
        document = getattr(view, "search_document", None)
        if not terms or not (fields or document):
            return queryset
        if connections[queryset.db].vendor != "postgresql":
            return queryset.filter(*(_any_of([f"{name}__icontains" for name in fields], term) for term in terms))
        if document is not None:
            words = " & ".join(f"{term}:*" for term in terms)  # \w+ words: nothing for tsquery to parse
            return queryset.annotate(search_document=document).filter(
                search_document=SearchQuery(words, search_type="raw", config="english")
            )
        return queryset.filter(*(_any_name(queryset.model, fields, term) for term in terms))


def _search_error(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, code=code, fields=field_error("search", code, message))


def _any_of(lookups: list[str], term: str) -> Q:
    return functools.reduce(operator.or_, (Q(**{lookup: term}) for lookup in lookups))


def _any_name(model, fields, term) -> Q:
    """One word against any of the names `fields` (paths like `home_team__name`) by trigram similarity,
    each as `IN (the rows whose name matches)`: the subquery runs on the name's trigram index."""
    matches = []
    for path in fields:
        *relations, name = path.split("__")
        target = model
        for relation in relations:
            target = target._meta.get_field(relation).related_model
        matching = target.objects.filter(**{f"{name}__trigram_word_similar": term}).values("pk")
        matches.append(Q(**{f"{'__'.join(relations) or 'pk'}__in": matching}))
    return functools.reduce(operator.or_, matches)


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` with an unknown field is a 400, not silently ignored. The schema lists the values."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        names = [name for name in getattr(view, "ordering_fields", None) or [] if isinstance(name, str)]
        values = [value for name in names for value in (name, f"-{name}")]
        for parameter in parameters:
            if parameter["name"] == self.ordering_param and values:
                parameter["schema"] = {"type": "string", "enum": values}
                parameter["description"] = "Sort by this field; a leading `-` sorts descending."
        return parameters

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


class _NamedFieldsForm(forms.Form):
    """A filter form that copies and cleans only the fields `names` (the filters a query string names)."""

    def __init__(self, data=None, *, prefix=None, names=None):
        if names is not None:
            # Django deep-copies `self.base_fields` into each form: the named ones only.
            self.base_fields = {name: field for name, field in type(self).base_fields.items() if name in names}
        super().__init__(data, prefix=prefix)


class CatalogueFilterSet(django_filters.FilterSet):
    """A FilterSet that does no work for the filters a request does not name.

    django-filter makes a new form class, and a form field for every filter, on every request: here the
    form class is built once per FilterSet class (the catalogue's filters depend on nothing of the
    request). And it deep-copies every filter, and its form every field, to validate values that are not
    there: here only the filters the query string names are copied and validated (every catalogue filter
    reads the one parameter of its own name, as CatalogueFilterBackend assumes). A filter not named does
    nothing either way: its absent value cleans to empty, and an empty value filters nothing."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None and prefix is None:
            # django-filter deep-copies `self.base_filters`: the named ones only.
            self.base_filters = {name: f for name, f in type(self).base_filters.items() if name in data}
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.__dict__.pop("base_filters", None)

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            filters = copy.deepcopy(cls.base_filters)  # every filter, as django-filter builds the form
            for filter_ in filters.values():
                filter_.model = cls._meta.model
            fields = {name: filter_.field for name, filter_ in filters.items()}
            form_class = type(f"{cls.__name__}Form", (_NamedFieldsForm,), fields)
            cls._form_class = form_class
        return form_class

    @property
    def form(self):
        if not hasattr(self, "_form"):
            data = self.data if self.is_bound else None
            self._form = self.get_form_class()(data, prefix=self.form_prefix, names=self.filters)
        return self._form


class _LowerCaseField(forms.CharField):
    def clean(self, value):
        return super().clean(value).lower()


class TagFilter(django_filters.CharFilter):
    """`?tag=Goals`: the items carrying that tag, in any case. Its cleaned value is the tag as stored
    (lower-case) and the condition's parameter as it is: a first page's statement can take it."""

    field_class = _LowerCaseField

    def filter(self, qs, value):
        return qs if value in EMPTY_VALUES else content_tagged(qs, value)


class ContentFilter(CatalogueFilterSet):
    type = django_filters.ChoiceFilter(choices=Content.Type.choices)
    state = django_filters.ChoiceFilter(choices=Content.State.choices)
    team = IdFilter(field_name="teams")
    player = IdFilter(field_name="players")
    game = IdFilter(field_name="game")
    game_status = django_filters.ChoiceFilter(field_name="game__status", choices=Game.Status.choices)
    tag = TagFilter(max_length=50)
    year = django_filters.NumberFilter(field_name="year", min_value=0, max_value=32767)  # a small integer column
    # Strict: anything but true/false is a 400 (BooleanFilter would quietly ignore "maybe").
    premium = django_filters.TypedChoiceFilter(
        field_name="is_premium", choices=[("true", "true"), ("false", "false")], coerce=lambda v: v == "true"
    )
    # Ranges are `<name>_from` / `<name>_to`, both days included, as the games' `date_from` / `date_to`.
    published_from = django_filters.DateFilter(field_name="published_at", lookup_expr="date__gte")
    published_to = django_filters.DateFilter(field_name="published_at", lookup_expr="date__lte")
    # Deprecated aliases (API 1.1; csn.api.deprecation, the view's deprecated_parameters).
    published_after = django_filters.DateFilter(field_name="published_at", lookup_expr="date__gte")
    published_before = django_filters.DateFilter(field_name="published_at", lookup_expr="date__lte")

    class Meta:
        model = Content
        fields: list = []


class EitherTeamFilter(IdFilter):
    """`?team=7`: the games that team plays, at home or away (a filter, not a method: a first page's
    statement can take it, content.api.first_page)."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(Q(home_team_id=value) | Q(away_team_id=value))


class GameFilter(CatalogueFilterSet):
    status = django_filters.ChoiceFilter(choices=Game.Status.choices)
    sport = django_filters.ChoiceFilter(choices=Sport.choices)
    team = EitherTeamFilter()
    date = django_filters.DateFilter(field_name="starts_at", lookup_expr="date")
    date_from = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")

    class Meta:
        model = Game
        fields: list = []


class TeamFilter(CatalogueFilterSet):
    sport = django_filters.ChoiceFilter(choices=Sport.choices)

    class Meta:
        model = Team
        fields: list = []


class PlayerFilter(CatalogueFilterSet):
    team = IdFilter(field_name="team")
    sport = django_filters.ChoiceFilter(field_name="team__sport", choices=Sport.choices)
    position = django_filters.CharFilter(field_name="position", lookup_expr="iexact")

    class Meta:
        model = Player
        fields: list = []
