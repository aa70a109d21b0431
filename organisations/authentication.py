"""API authentication: `Authorization: Bearer <key id>.<secret>` for registered API clients."""

import hashlib
import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiClient

LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiClientAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{self.keyword} "):
            return None
        token = header[len(self.keyword) + 1 :].strip()
        key_id, _, secret = token.partition(".")
        if not key_id or not secret:
            raise exceptions.AuthenticationFailed("Malformed API credentials.")
        client = (
            ApiClient.objects.select_related("user", "user__organisation", "organisation")
            .filter(key_id=key_id, revoked_at__isnull=True)
            .first()
        )
        if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
            raise exceptions.AuthenticationFailed("Invalid or revoked API credentials.")
        if not client.user.is_active:
            raise exceptions.AuthenticationFailed("This API client is disabled.")
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return client.user, client

    def authenticate_header(self, request):
        return self.keyword
