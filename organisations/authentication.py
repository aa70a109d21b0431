"""API authentication: `Authorization: Bearer <key id>.<secret>` for registered API clients.

A client's look-up (the client, its service account and organisations: three joined tables) is
kept in the shared cache under the SHA-256 of the whole token, so a request costs one Redis round
trip instead of a query. Each entry carries the credentials version it was read under, and the
version and the entry are read together (one `MGET`): any change to an API client, a user or an
organisation bumps the version once its transaction commits (`api_credentials_changed`), so a
revoked token, a disabled account or a changed scope is refused or re-read on the very next
request, from every server. The version is read before the database, so a look-up that raced a
change is stored under the old version and never used. When the cache is unreachable the
look-up goes to the database, as it did before there was a cache.

Within one request the answer is kept on the request: the API's middleware and the view ask once.
"""

import contextlib
import hashlib
import hmac
import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import authentication, exceptions

from core.outages import CACHE_ERRORS

from .models import ApiClient, Organisation, User

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)
CACHE_SECONDS = 300
VERSION_KEY = "api-credentials:version"
_ENTRY_KEY = "api-credentials:token:{}"
_MEMO = "_api_client_authentication"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_credentials_changed() -> None:
    """Every cached client look-up is stale from now: bump the version at once, and again once the
    change commits (a look-up that read the rows before the commit was stored under the first
    bump's version, which the second one retires)."""

    def bump() -> None:
        try:
            if not cache.add(VERSION_KEY, 1, timeout=None):
                cache.incr(VERSION_KEY)
        except CACHE_ERRORS as error:
            # The entries expire by themselves within CACHE_SECONDS; until Redis is back the
            # look-up goes to the database anyway.
            logger.warning("API credentials version not bumped, cache unreachable: %s", error)

    bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(bump, robust=True)


@receiver([post_save, post_delete], sender=ApiClient)
@receiver([post_save, post_delete], sender=User)
@receiver([post_save, post_delete], sender=Organisation)
def _credentials_row_changed(sender, update_fields=None, **kwargs) -> None:
    # Every save, by a service or the admin: what a cached look-up holds may have changed. A
    # person signing in (only `last_login` saved) changes nothing a look-up holds.
    if update_fields is not None and set(update_fields) <= {"last_login", "last_used_at"}:
        return
    api_credentials_changed()


def _look_up(key_id: str) -> ApiClient | None:
    return (
        ApiClient.objects.select_related("user", "user__organisation", "organisation")
        .filter(key_id=key_id, revoked_at__isnull=True)
        .first()
    )


class _Cached:
    """A token's entry in the cache: read with the version in one round trip, written back after."""

    def __init__(self, token: str):
        self.key = _ENTRY_KEY.format(hashlib.sha256(token.encode()).hexdigest())
        self.version = None

    def read(self) -> ApiClient | None:
        try:
            found = cache.get_many([VERSION_KEY, self.key])
        except CACHE_ERRORS:
            return None
        self.version = found.get(VERSION_KEY, 0)
        entry = found.get(self.key)
        return entry[1] if entry is not None and entry[0] == self.version else None

    def write(self, client: ApiClient) -> None:
        if self.version is None:
            return
        with contextlib.suppress(*CACHE_ERRORS):
            cache.set(self.key, (self.version, client), timeout=CACHE_SECONDS)


class ApiClientAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{self.keyword} "):
            return None
        plain = getattr(request, "_request", request)
        memo = getattr(plain, _MEMO, None)
        if memo is None:
            try:
                memo = self._authenticate(header[len(self.keyword) + 1 :].strip())
            except exceptions.AuthenticationFailed as error:
                memo = error
            setattr(plain, _MEMO, memo)
        if isinstance(memo, exceptions.AuthenticationFailed):
            raise memo
        return memo

    def _authenticate(self, token: str):
        key_id, _, secret = token.partition(".")
        if not key_id or not secret:
            raise exceptions.AuthenticationFailed("Malformed API credentials.")
        cached = _Cached(token)
        client = cached.read()
        fresh = client is None
        if fresh:
            client = _look_up(key_id)
        if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
            raise exceptions.AuthenticationFailed("Invalid or revoked API credentials.")
        if not client.user.is_active:
            raise exceptions.AuthenticationFailed("This API client is disabled.")
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
            fresh = True
        if fresh:
            # Only a token whose secret matched is cached: wrong guesses never fill the cache.
            cached.write(client)
        return client.user, client

    def authenticate_header(self, request):
        return self.keyword
