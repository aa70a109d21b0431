"""The styled 404 and 500 pages while DEBUG is on, for the demo.

With DEBUG on, Django answers an unknown address with its technical 404 page, which lists every
URL pattern, and an error with a traceback. The demo runs with DEBUG on for its local conveniences
(the development key, static files served from the source folders, plain-HTTP cookies), but the
people trying it should meet the pages the service really shows. `TECHNICAL_ERROR_PAGES = False`
turns this middleware on: an address that matches no route, a view's Http404 or NotFoundError, and
an unhandled error get the service's own pages. With DEBUG off Django shows those pages already,
and this middleware stands aside.

It sits last in MIDDLEWARE, so it sees a view's exception before the others' `process_exception`
(it leaves outages and refusals to them) and its 404 still passes CommonMiddleware, which turns a
missing trailing slash into a redirect.
"""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import Resolver404, resolve
from django.views.defaults import page_not_found

from .errors import ForbiddenError, NotFoundError
from .middleware import server_error
from .outages import UNAVAILABLE_ERRORS

logger = logging.getLogger("django.request")

# Exceptions Django answers with a non-technical page even with DEBUG on, or that other middleware answers.
ANSWERED_ELSEWHERE = (PermissionDenied, ForbiddenError, BadRequest, SuspiciousOperation, *UNAVAILABLE_ERRORS)


def _styled() -> bool:
    return settings.DEBUG and not getattr(settings, "TECHNICAL_ERROR_PAGES", settings.DEBUG)


class StyledErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _styled():
            try:
                resolve(request.path_info)
            except Resolver404 as exception:
                return page_not_found(request, exception)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not _styled():
            return None
        if isinstance(exception, Http404 | NotFoundError):
            return page_not_found(request, exception)
        if isinstance(exception, ANSWERED_ELSEWHERE):
            return None
        logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"request": request})
        return server_error(request)
