"""API conventions shared by every endpoint: errors as problem details, cursor pages, and the
HTTP headers every operation shares (ETag and If-Match, Idempotency-Key, RateLimit, Location).

Every error the API answers is `application/problem+json`, its own unexpected 500 and an
outage of PostgreSQL or Redis (503 with Retry-After) included.
"""

import base64
import binascii

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError, ForbiddenError, NotFoundError
from .outages import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, log_unavailable

PROBLEM_JSON = "application/problem+json"


class DefaultCursorPagination(CursorPagination):
    """Every list: `next` and `previous` links carrying an opaque cursor, and `page_size` up to 200."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    page_size_query_description = "How many items a page holds: 1 to 200, 50 when not given."
    ordering = "-id"

    def get_paginated_response_schema(self, schema):
        # Both links are always written, null at either end of the list.
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = ["next", "previous", "results"]
        return answer


class SequenceCursorPagination(DefaultCursorPagination):
    """The same pages, links and `page_size` over a list worked out in Python, in a fixed order.

    The cursor is opaque to callers, as every cursor is: here it holds the position in the list.
    """

    def paginate_sequence(self, items: list, request) -> list:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.count = len(items)
        self.position = self._position(request)
        return items[self.position : self.position + self.page_size]

    def _position(self, request) -> int:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return 0
        try:
            position = int(base64.urlsafe_b64decode(encoded.encode()).decode().removeprefix("p="))
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise exceptions.NotFound(self.invalid_cursor_message) from error
        if position < 0:
            raise exceptions.NotFound(self.invalid_cursor_message)
        return position

    def _link(self, position: int) -> str:
        if position <= 0:
            return remove_query_param(self.base_url, self.cursor_query_param)
        cursor = base64.urlsafe_b64encode(f"p={position}".encode()).decode()
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        if self.position + self.page_size >= self.count:
            return None
        return self._link(self.position + self.page_size)

    def get_previous_link(self) -> str | None:
        if self.position <= 0:
            return None
        return self._link(self.position - self.page_size)

    def get_paginated_response(self, data, **fields) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), **fields, "results": data})


class _DownloadRenderer(BaseRenderer):
    """A download the view writes itself (a PDF, a CSV), chosen by the caller's `Accept`.

    The view answers with the file when this renderer is chosen; what reaches the renderer is
    then only a refusal (problem details), which is written as JSON under its own content type.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        return JSONRenderer().render(data)


class PdfRenderer(_DownloadRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None


class CsvRenderer(_DownloadRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


def created(data, *, location: str, headers: dict | None = None, **kwargs) -> Response:
    """201 Created with the new resource's address in `Location`."""
    return Response(data, status=status.HTTP_201_CREATED, headers={**(headers or {}), "Location": location}, **kwargs)


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


# --- The shared headers, in the schema -------------------------------------------------------

RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests this caller may make per window."},
    "RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in the current window."},
    "RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window frees a request."},
}
ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "The representation's entity tag: send it back as If-None-Match to read, If-Match to write.",
    }
}
LOCATION_HEADER = {
    "Location": {"schema": {"type": "string", "format": "uri"}, "description": "The address of what was created."}
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "An ETag from an earlier read: 304 Not Modified, with no body, while it still matches.",
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the resource as you last read it: the change is refused with 412 if it has "
    "changed since, and nothing is written.",
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Send a unique value (e.g. a UUID) to make retries safe: a retry with the same key and the same "
    "JSON body (whitespace and key order aside) returns the first response and changes nothing; the same key "
    "with a different request is refused (422) and changes nothing.",
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_WRITES = ("post", "put", "patch", "delete")


def _add_parameter(operation: dict, parameter: dict) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("in") == "header" and p.get("name") == parameter["name"] for p in parameters):
        parameters.append(parameter)


def postprocess_http_conventions(result, generator, request, public):
    """Describe on each operation the headers the middleware gives every API call.

    Reads carry an ETag and answer 304 to a matching If-None-Match; writes to one resource honour
    If-Match (412 when stale); every write takes an Idempotency-Key (422 for a reused key with another
    request); every response carries the RateLimit fields.
    """
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", *_WRITES):
                continue
            responses = operation.setdefault("responses", {})
            if method == "get" and "200" in responses:
                responses["200"].setdefault("headers", {}).update(ETAG_HEADER)
                _add_parameter(operation, IF_NONE_MATCH)
                responses.setdefault(
                    "304", {"description": "Not modified: the representation still has the ETag you sent."}
                )
                responses["304"]["headers"] = dict(ETAG_HEADER)
            if method in _WRITES:
                _add_parameter(operation, IDEMPOTENCY_KEY)
                responses.setdefault(
                    "422",
                    {
                        "description": "This Idempotency-Key was already used with a different request.",
                        "content": _PROBLEM_CONTENT,
                    },
                )
            if method in ("put", "patch", "delete") and "{" in path:
                _add_parameter(operation, IF_MATCH)
                responses.setdefault(
                    "412",
                    {
                        "description": "Precondition failed: the resource changed since the ETag in If-Match; "
                        "nothing was written. Read it again and retry.",
                        "content": _PROBLEM_CONTENT,
                    },
                )
            if "201" in responses:
                responses["201"].setdefault("headers", {}).update(LOCATION_HEADER)
            for response in responses.values():
                response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
    return result
