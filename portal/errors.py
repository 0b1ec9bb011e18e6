"""Error pages: HTML for people, JSON for API clients."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    body = loader.get_template("error.html").render({"status": status, "title": title, "message": message}, request)
    return HttpResponse(body, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, "Not allowed", "Your role does not allow this.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "Not found", "There is nothing here, or nothing you may see.")


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    # No context processors: the error may come from them.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
