"""Error pages: HTML for people, JSON for API clients."""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    body = loader.get_template("error.html").render({"status": status, "title": title, "message": message}, request)
    return HttpResponse(body, status=status)


def bad_input(request: HttpRequest, message: str) -> HttpResponse:
    return _page(request, 400, "Bad input", message)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """What Django refuses before any view: a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields."""
    if isinstance(exception, RequestDataTooBig):
        size = request.META.get("CONTENT_LENGTH") or "more than that"
        size = f"{int(size):,} bytes" if str(size).isascii() and str(size).isdigit() else size
        return _page(request, 400, "Too large", f"The request is {size}; the portal takes at most "
                     f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes of form fields or JSON (files aside); "
                     "a CloudFormation template may be at most 1,000,000 bytes.")
    if isinstance(exception, TooManyFieldsSent):
        return _page(request, 400, "Too many fields", f"The request sends more than "
                     f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields.")
    return _page(request, 400, "Bad request", "The request could not be read.")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, "Not allowed", "Your role does not allow this.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "Not found", "There is nothing here, or nothing you may see.")


UNAVAILABLE_RETRY_SECONDS = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500; or a 503 with Retry-After when the database could not be reached (a restart, a fail-over): the
    request did nothing, and asking again shortly is the right thing to do. Django calls this inside its
    `except`, so the exception is the one being handled."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        message = ("The database cannot be reached just now. "
                   f"Try again in {UNAVAILABLE_RETRY_SECONDS} seconds.")
        if _wants_json(request):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(loader.get_template("503.html").render({"message": message}), status=503)
        response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response
    if _wants_json(request):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    # No context processors: the error may come from them.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
