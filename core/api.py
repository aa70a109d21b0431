"""API conventions shared by every endpoint: errors as problem details, cursor pages.

Every error the API answers is `application/problem+json`, its own unexpected 500 and an
outage of PostgreSQL or Redis (503 with Retry-After) included.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError, ForbiddenError, NotFoundError
from .outages import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, log_unavailable

PROBLEM_JSON = "application/problem+json"


class DefaultCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-id"


def _problem(status_code: int, title: str, detail: str, code: str, errors=None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status_code, "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, content_type=PROBLEM_JSON)


def problem_response(status_code: int, title: str, detail: str, code: str) -> JsonResponse:
    """A problem details response for code that runs outside DRF views (middleware)."""
    body = {"type": "about:blank", "title": title, "status": status_code, "detail": detail, "code": code}
    return JsonResponse(body, status=status_code, content_type=PROBLEM_JSON)


def service_unavailable_response() -> JsonResponse:
    """503 for a request that failed because PostgreSQL or Redis did not answer: worth retrying."""
    response = problem_response(
        503,
        "Service Unavailable",
        f"The service is unavailable for a moment. Try again in {RETRY_AFTER_SECONDS} seconds.",
        "service_unavailable",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error_response() -> JsonResponse:
    return problem_response(
        500, "Internal Server Error", "Something went wrong on our side. It has been logged.", "server_error"
    )


def exception_handler(exc, context):
    """Turn service refusals, DRF errors and outages into RFC 9457 problem details.

    Any other exception is left to Django (None), which logs it with its traceback and answers
    with `core.middleware.server_error`: a 500 in problem details.
    """
    if isinstance(exc, UNAVAILABLE_ERRORS):
        log_unavailable(exc, context["request"])
        return service_unavailable_response()
    # A refusal of access answers like Django's own 404 and 403, without the service's wording.
    if isinstance(exc, (NotFoundError, Http404)):
        exc = exceptions.NotFound()
    elif isinstance(exc, (ForbiddenError, PermissionDenied)):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ApplicationError):
        title = "Conflict" if exc.status == status.HTTP_409_CONFLICT else "Invalid request"
        return _problem(exc.status, title, exc.message, exc.code, exc.fields)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        problem = _problem(400, "Invalid request", "Some fields are not valid.", "invalid", errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        problem = _problem(response.status_code, response.status_text, str(detail), str(code))
    for header, value in response.headers.items():
        if header.lower() in {"www-authenticate", "retry-after", "allow"}:
            problem[header] = value
    return problem
