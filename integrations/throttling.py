"""Request rates per API client (or signed-in person, or address), counted in the shared cache."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from core.outages import CACHE_ERRORS
from organisations.models import ApiClient
from organisations.signin import client_address

logger = logging.getLogger(__name__)


class ApiRateThrottle(SimpleRateThrottle):
    """One budget per API client, per person, or per address for anonymous callers.

    The rates are read from settings on each request (not fixed at import) so that
    operators and tests can change them.

    When the cache (Redis) is unreachable the budget fails open: the request is let through
    uncounted and a warning is logged. The budget shares capacity out fairly, it guards no
    data; authentication and scopes still apply, and the API's work needs PostgreSQL alone,
    so councils and providers keep working through a Redis outage (a bid near its deadline
    is still accepted) instead of every call failing.
    """

    scope = "api"

    def get_rate(self):
        return None

    def allow_request(self, request, view):
        self.rate = self._rate_for(request)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            logger.warning(
                "request budget not counted, cache unreachable: %s %s let through (%s: %s)",
                request.method,
                request.path,
                error.__class__.__name__,
                error,
            )
            return True

    @staticmethod
    def _rate_for(request) -> str:
        if isinstance(request.auth, ApiClient):
            return settings.API_THROTTLE_RATE_CLIENT
        if request.user and request.user.is_authenticated:
            return settings.API_THROTTLE_RATE_USER
        return settings.API_THROTTLE_RATE_ANON

    def get_ident(self, request):
        # DRF's own reading trusts X-Forwarded-For from anyone; the service's one rule applies instead.
        return client_address(request)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiClient):
            ident = f"client:{request.auth.key_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
