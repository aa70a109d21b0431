"""Request rates per API client (or signed-in person, or address), counted in the shared cache."""

import logging
import math
from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from core.outages import CACHE_ERRORS
from organisations.models import ApiClient
from organisations.signin import client_address

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitState:
    """A caller's budget as the RateLimit response fields state it."""

    limit: int
    remaining: int
    reset: int  # seconds until the oldest counted request leaves the window


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
        if getattr(request._request, "if_match_probe", False):
            # The read that checks a write's If-Match is part of that write, counted once.
            return True
        self.rate = self._rate_for(request)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            allowed = super().allow_request(request, view)
            request._request.rate_limit = self.state(allowed=allowed)
            return allowed
        except CACHE_ERRORS as error:
            logger.warning(
                "request budget not counted, cache unreachable: %s %s let through (%s: %s)",
                request.method,
                request.path,
                error.__class__.__name__,
                error,
            )
            return True

    def state(self, *, allowed: bool) -> RateLimitState:
        """The budget after this request: `history` and `now` as `allow_request` left them."""
        if not allowed:
            return RateLimitState(self.num_requests, 0, math.ceil(self.wait() or 0))
        oldest = self.history[-1] if self.history else self.now
        return RateLimitState(
            self.num_requests,
            max(0, self.num_requests - len(self.history)),
            max(0, math.ceil(self.duration - (self.now - oldest))),
        )

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


class _Caller:
    """What the throttle reads of a request, for a response it did not see (`rate_limit_peek`)."""

    def __init__(self, request, user, client):
        self._request = request
        self.META = request.META
        self.user = user
        self.auth = client


def rate_limit_peek(request, caller_and_client) -> RateLimitState | None:
    """The caller's budget as it stands, counting nothing; None while the cache is unreachable."""
    user, client = caller_and_client
    throttle = ApiRateThrottle()
    caller = _Caller(request, user, client)
    throttle.rate = throttle._rate_for(caller)
    throttle.num_requests, throttle.duration = throttle.parse_rate(throttle.rate)
    try:
        throttle.history = throttle.cache.get(throttle.get_cache_key(caller, None), [])
    except CACHE_ERRORS:
        return None
    throttle.now = throttle.timer()
    throttle.history = [moment for moment in throttle.history if moment > throttle.now - throttle.duration]
    return throttle.state(allowed=True)
