"""Query parameters: ids that fit the database, text without NUL (PostgreSQL refuses it)."""

from rest_framework.filters import SearchFilter as DrfSearchFilter

MAX_ID = 2**31 - 1


def id_param(request, name: str) -> int | None:
    """`?name=<id>` as an int, or None when absent, not a number or out of range."""
    raw = request.query_params.get(name, "")
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def text_param(request, name: str) -> str:
    return request.query_params.get(name, "").replace("\x00", "")


class SearchFilter(DrfSearchFilter):
    def get_search_terms(self, request):
        return [term.replace("\x00", "") for term in super().get_search_terms(request)]
