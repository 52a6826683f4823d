"""Query-string filters shared by the apps' FilterSets."""

import django_filters
from django import forms

BIGINT_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """`?team=7`: a whole number in a bigint key's range (1 .. 2**63 - 1). Anything else (`1.5`, `1e400`,
    a number past the column's range) is a 400 `invalid` naming the parameter, before the database sees it."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int = 1, max_value: int = BIGINT_MAX, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
