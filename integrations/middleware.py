"""Cross-cutting API behaviour for every endpoint under /api/v1/: idempotent POSTs and ETags.

Both run as middleware so that each app's views get them without doing anything.
"""

import hashlib
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from rest_framework.exceptions import AuthenticationFailed

from core.api import problem_response
from organisations.authentication import ApiClientAuthentication

from .models import IdempotencyKey

API_PREFIX = "/api/v1/"
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Responses that say nothing about the request's outcome: a retry must run it again.
NOT_STORED = {401, 403, 429}
REPLAYED_HEADERS = ("Location", "Retry-After")
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


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(request.body)
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
    """A POST with an `Idempotency-Key` runs once per caller and key; retries get the first response.

    The key row is inserted before the view runs, so the database's unique constraint
    picks one winner among concurrent retries; the others wait for its stored response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith(API_PREFIX):
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
    """ETags on successful API reads, and 304 Not Modified for a matching If-None-Match.

    The tag hashes the representation the caller receives, so it changes whenever the
    resource (or what this caller may see of it) changes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD")
            or not request.path.startswith(API_PREFIX)
            or response.status_code != 200
            or response.streaming
        ):
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if not response.has_header("ETag"):
            set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)


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
