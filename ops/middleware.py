"""X-Request-ID: taken from the caller when sane, made otherwise, echoed on every response."""

from collections.abc import Callable

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from portal.request_id import request_id, request_id_clean, request_id_new

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every log line of the request (and the tasks it queues) carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_clean(request.headers.get(HEADER)) or request_id_new()
        request.request_id = rid
        # Not reset on the way out: Django logs a 4xx/5xx after the middleware chain returns.
        # It is cleared when the response is closed (below) and set afresh by the next request.
        request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


@receiver(request_finished, dispatch_uid="ops-request-id-clear")
def _request_id_clear(**kwargs) -> None:
    request_id.set(None)
