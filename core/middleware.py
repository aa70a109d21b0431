"""Outages and server errors answered in each interface's own terms.

Under /api/ the answer is problem details (`core.api`); everywhere else a GOV.UK page. An
unreachable PostgreSQL or Redis (`core.outages`) is a 503 with Retry-After, "Sorry, the service
is unavailable"; anything else is a 500, "Sorry, there is a problem with the service".

The pages are rendered without the template context processors: those read the session and
the signed-in person, which need the database that may be the very thing that is down.
"""

import sys

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template import loader

from .api import server_error_response, service_unavailable_response
from .context_processors import service
from .errors import ForbiddenError, NotFoundError
from .outages import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, log_unavailable

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _page(request, template: str, status: int) -> HttpResponse:
    # The request is there for the Content Security Policy nonce; `user` and `messages` are
    # absent, so the page shows no navigation and touches neither the session nor the database.
    html = loader.render_to_string(template, {"request": request, **service(request)})
    return HttpResponse(html, status=status)


def unavailable_response(request) -> HttpResponse:
    if _is_api(request):
        return service_unavailable_response()
    response = _page(request, "503.html", 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """A view that fails because PostgreSQL or Redis is unreachable answers 503, not a server error.

    API views answer outages in their exception handler already; this catches the pages and
    anything else a view raises. Failures in other middleware reach `server_error` instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE_ERRORS):
            return None
        log_unavailable(exception, request)
        return unavailable_response(request)


class AccessErrorMiddleware:
    """A page whose service refuses access answers as Django's own 404 and 403 pages do.

    Services raise `NotFoundError` and `ForbiddenError`; re-raised as Django's exceptions they reach
    the 404 and 403 handlers with the same message. API views answer them in `core.api`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFoundError):
            raise Http404(exception.message) from exception
        if isinstance(exception, ForbiddenError):
            raise PermissionDenied(exception.message) from exception
        return None


def server_error(request) -> HttpResponse:
    """The 500 handler: Django calls it while it handles the exception, after logging it.

    The exception being handled tells an outage met outside a view (in middleware, say the
    idempotency check's query) from a fault in our code.
    """
    if isinstance(sys.exc_info()[1], UNAVAILABLE_ERRORS):
        return unavailable_response(request)
    if _is_api(request):
        return server_error_response()
    return _page(request, "500.html", 500)
