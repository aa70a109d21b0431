"""Cross-cutting API behaviour for every endpoint under /api/v1/: idempotent writes, ETags and
conditional writes, and the rate-limit headers.

All run as middleware so that each app's views get them without doing anything.
"""

import hashlib
import json
import time
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.http import parse_etags
from rest_framework.exceptions import AuthenticationFailed

from core.api import problem_response
from core.outages import UNAVAILABLE_ERRORS
from organisations.authentication import ApiClientAuthentication

from .models import IdempotencyKey
from .throttling import rate_limit_peek

API_PREFIX = "/api/v1/"
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CONDITIONAL_METHODS = ("PUT", "PATCH", "DELETE")
# Responses that say nothing about the request's outcome: a retry must run it again. A 412 wrote
# nothing either: the retry after reading the resource again sends a new If-Match.
NOT_STORED = {401, 403, 412, 429}
REPLAYED_HEADERS = ("Location", "Retry-After", "ETag")
NO_STORE = "no-store"


def _caller(request):
    """The user the request acts as, or None when it is not (validly) authenticated.

    A Bearer token is checked here as the view would check it: a stored response is
    only ever replayed to the caller that made it.
    """
    if request.headers.get("Authorization", "").startswith(f"{ApiClientAuthentication.keyword} "):
        try:
            result = ApiClientAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None
        return result[0] if result else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _decimal_marker(value: Decimal) -> list:
    # Numbers are kept as written (900.50 stays 900.50), apart from any string "900.50".
    return ["decimal", str(value)]


def canonical_body(request) -> bytes:
    """The body as compared between retries: JSON parsed and written again with sorted keys and no
    spacing, so whitespace and key order do not make a retry a different request. Other bodies
    (the API parses JSON only, so these are refused anyway) are compared byte for byte."""
    body = request.body
    if not body or request.content_type != "application/json":
        return body
    try:
        parsed = json.loads(body, parse_float=Decimal)
    except ValueError:
        return body
    return json.dumps(
        parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_decimal_marker
    ).encode()


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(canonical_body(request))
    return digest.hexdigest()


def _replay(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.response_status, content_type=record.response_content_type
    )
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyKeyMiddleware:
    """A write (POST, PUT, PATCH, DELETE) with an `Idempotency-Key` runs once per caller and key;
    retries get the first response, and the key with another request gets 422 and runs nothing.

    The key row is inserted before the view runs, so the database's unique constraint
    picks one winner among concurrent retries; the others wait for its stored response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method not in UNSAFE_METHODS or key is None or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return problem_response(
                400, "Invalid request", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.", "invalid_idempotency_key"
            )
        user = _caller(request)
        if user is None:
            return self.get_response(request)
        fingerprint = _fingerprint(request)
        deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_SECONDS
        record = self._claim(user, key, request, fingerprint)
        while True:
            if record is None:
                return self._run(request, user, key)
            if record.request_hash != fingerprint:
                return problem_response(
                    422,
                    "Unprocessable Content",
                    f"This {HEADER} was already used with a different request.",
                    "idempotency_key_reused",
                )
            if (
                record.state == IdempotencyKey.State.COMPLETED
                and record.response_headers.get("Cache-Control") == NO_STORE
            ):
                return problem_response(
                    409,
                    "Conflict",
                    "This request was already processed; its response held a secret that is shown only once.",
                    "idempotency_secret_not_replayed",
                )
            if record.state == IdempotencyKey.State.COMPLETED:
                return _replay(record)
            if time.monotonic() >= deadline:
                response = problem_response(
                    409,
                    "Conflict",
                    f"A request with this {HEADER} is still being processed.",
                    "idempotency_in_progress",
                )
                response["Retry-After"] = "1"
                return response
            time.sleep(settings.IDEMPOTENCY_POLL_SECONDS)
            record = IdempotencyKey.objects.filter(user=user, key=key).first() or self._claim(
                user, key, request, fingerprint
            )

    @staticmethod
    def _claim(user, key: str, request, fingerprint: str) -> IdempotencyKey | None:
        """Insert the key row; None when this request won, else the row another request holds."""
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    user=user, key=key, method=request.method, path=request.path[:500], request_hash=fingerprint
                )
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user=user, key=key).first()
            if existing is not None:
                return existing
            # The holder gave its claim back (its request failed) between our insert and read.
            return IdempotencyKeyMiddleware._claim(user, key, request, fingerprint)
        return None

    def _run(self, request, user, key: str):
        claimed = IdempotencyKey.objects.filter(user=user, key=key)
        try:
            response = self.get_response(request)
        except BaseException:
            claimed.delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            claimed.delete()
            return response
        if NO_STORE in response.get("Cache-Control", ""):
            # A response carrying a secret shown once (an API token) is not kept: the
            # request still runs only once, but its retry is told so instead of replayed.
            claimed.update(
                state=IdempotencyKey.State.COMPLETED,
                response_status=response.status_code,
                response_headers={"Cache-Control": NO_STORE},
                completed_at=timezone.now(),
            )
            return response
        claimed.update(
            state=IdempotencyKey.State.COMPLETED,
            response_status=response.status_code,
            response_content_type=response.get("Content-Type", ""),
            response_headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
            response_body=response.content,
            completed_at=timezone.now(),
        )
        return response


class ApiETagMiddleware:
    """ETags on successful API reads, 304 Not Modified for a matching If-None-Match, and If-Match
    honoured on writes to one resource (PUT, PATCH, DELETE): 412 and nothing written when stale.

    The tag hashes the representation the caller receives, so it changes whenever the
    resource (or what this caller may see of it) changes. A write's 200 answer is the resource's
    new representation, so it carries the tag a read would now give.

    If-Match is checked against the tag the same caller's read of the same address gives at that
    moment: the view's own GET runs first, uncounted by the rate limit. The check and the write are
    not one transaction, so two writers sending the same tag at the same instant may both pass;
    it protects against the usual lost update, a change made from a stale read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code != 200 or response.streaming:
            return response
        if request.method in ("PUT", "PATCH") and not response.has_header("ETag"):
            set_response_etag(response)
            return response
        if request.method not in ("GET", "HEAD"):
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if not response.has_header("ETag"):
            set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)

    def process_view(self, request, view_func, view_args, view_kwargs):
        wanted = request.headers.get("If-Match")
        if wanted is None or request.method not in CONDITIONAL_METHODS or not request.path.startswith(API_PREFIX):
            return None
        current = self._current_etag(request, view_func, view_args, view_kwargs)
        if current is None:
            # Not found or not the caller's: the write itself answers that.
            return None
        tags = parse_etags(wanted)
        if "*" in tags or current in tags:
            return None
        response = problem_response(
            412,
            "Precondition Failed",
            "The resource has changed since the ETag in If-Match; nothing was written. Read it again and retry.",
            "precondition_failed",
        )
        response["ETag"] = current
        return response

    @staticmethod
    def _current_etag(request, view_func, view_args, view_kwargs) -> str | None:
        view_class = getattr(view_func, "cls", None)
        if view_class is None or not hasattr(view_class, "get"):
            return None
        method = request.method
        request.method = "GET"
        request.if_match_probe = True
        try:
            response = view_func(request, *view_args, **view_kwargs)
            if hasattr(response, "render"):
                response.render()
        finally:
            request.method = method
            request.if_match_probe = False
        if response.status_code != 200 or response.streaming:
            return None
        if not response.has_header("ETag"):
            set_response_etag(response)
        return response["ETag"]


class ApiNotFoundMiddleware:
    """A path under /api/v1/ that matches no route gets problem details, not Django's HTML page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith(API_PREFIX)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return problem_response(404, "Not Found", "There is no such resource.", "not_found")
        return response


class ApiRateLimitHeadersMiddleware:
    """`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (the IETF draft's fields) on every
    API response: from the throttle's count when it ran, else read from the caller's budget as it stands
    (a refusal before the throttle, an unknown address). Left off while the cache is unreachable, as the
    budget then fails open and has nothing to report."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX):
            return response
        state = getattr(request, "rate_limit", None)
        if state is None:
            try:
                state = rate_limit_peek(request, _caller_and_client(request))
            except UNAVAILABLE_ERRORS:
                # The response already says the service is unavailable; it carries no budget.
                state = None
        if state is not None:
            response["RateLimit-Limit"] = str(state.limit)
            response["RateLimit-Remaining"] = str(state.remaining)
            response["RateLimit-Reset"] = str(state.reset)
        return response


def _caller_and_client(request):
    """(user, ApiClient or None) as authentication would find them; (None, None) when anonymous."""
    if request.headers.get("Authorization", "").startswith(f"{ApiClientAuthentication.keyword} "):
        try:
            result = ApiClientAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None, None
        return result if result else (None, None)
    user = getattr(request, "user", None)
    return (user if user is not None and user.is_authenticated else None), None
