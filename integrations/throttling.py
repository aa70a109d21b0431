"""Request rates per API client (or signed-in person, or address), counted in the shared cache."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from organisations.models import ApiClient


class ApiRateThrottle(SimpleRateThrottle):
    """One budget per API client, per person, or per address for anonymous callers.

    The rates are read from settings on each request (not fixed at import) so that
    operators and tests can change them.
    """

    scope = "api"

    def get_rate(self):
        return None

    def allow_request(self, request, view):
        self.rate = self._rate_for(request)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    @staticmethod
    def _rate_for(request) -> str:
        if isinstance(request.auth, ApiClient):
            return settings.API_THROTTLE_RATE_CLIENT
        if request.user and request.user.is_authenticated:
            return settings.API_THROTTLE_RATE_USER
        return settings.API_THROTTLE_RATE_ANON

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiClient):
            ident = f"client:{request.auth.key_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
