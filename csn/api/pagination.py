"""The one paginator of the API: a cursor over a stable ordering (lists grow while being read)."""

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        """A cursor that does not decode is a bad parameter (400 `invalid`, `fields.cursor`), not a 404."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid_cursor"
            ) from None

    @classmethod
    def ordered_by(cls, *ordering: str) -> type["CursorPagination"]:
        """The paginator for one list's ordering; end it with a unique key (`-id`) so the cursor is stable."""
        return type(cls.__name__, (cls,), {"ordering": ordering})


def paginated_response(*, view, queryset, serializer_class, extra: dict | None = None, **serializer_kwargs) -> Response:
    """One page of `queryset` by the view's `pagination_class`, rendered with `serializer_class`.
    `extra` adds top-level keys beside `next`, `previous` and `results`."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    response = paginator.get_paginated_response(serializer_class(page, many=True, **serializer_kwargs).data)
    if extra:
        response.data = {**extra, **response.data}
    return response
