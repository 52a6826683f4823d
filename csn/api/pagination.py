from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Default for every list: `?page=` and `?page_size=` (at most 100)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """Stable paging for lists that grow while being read (catalogue, feeds)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-created_at"
