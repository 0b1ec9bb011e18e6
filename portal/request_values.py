"""Query strings no page or filter ever means, refused with a 400 naming the parameter before any view sees them.

- A NUL character: PostgreSQL takes none in a query parameter (a filter would be a 500 there).
- A value over QUERY_VALUE_LIMIT characters: filters and searches never need one, and SQLite refuses a LIKE
  pattern over 50,000 bytes (a search would be a 500 on the embedded database).

Posted values are the forms' to check (Django's CharField refuses NUL); JSON bodies: portal.api.parsers.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse

from portal.views.errors import bad_input

QUERY_VALUE_LIMIT = 1_000


def as_id(value) -> int | None:
    """A posted or queried id as an int, or None when it cannot be one: ASCII digits only ("²".isdigit() is True,
    and int("²") raises) and small enough for a 64-bit column (a larger number overflows the query)."""
    text = str(value)
    if not (text.isascii() and text.isdecimal()) or len(text) > 19 or int(text) >= 2 ** 63:
        return None
    return int(text)


class RequestValuesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _query_problem(request)
        if problem is None:
            return self.get_response(request)
        field, message = problem
        if request.path.startswith("/api/"):
            return JsonResponse({field: [message]}, status=400)
        return bad_input(request, f"The filter {field} {message}")


def _query_problem(request: HttpRequest) -> tuple[str, str] | None:
    for name, values in request.GET.lists():
        for value in values:
            if "\x00" in value or "\x00" in name:
                return _printable(name), "contains a NUL character (U+0000), which no value may hold."
            if len(value) > QUERY_VALUE_LIMIT:
                return _printable(name), (f"is {len(value):,} characters long; a filter takes at most "
                                          f"{QUERY_VALUE_LIMIT:,}.")
    return None


def _printable(name: str) -> str:
    return name.replace("\x00", "\\x00")[:100]
