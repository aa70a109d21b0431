"""Request rates per API client (or signed-in person, or address), counted in the shared cache.

With Redis as the cache, a request's budget is one round trip: a Lua script drops the window's
expired moments from the caller's sorted set, counts what is left, adds this request if it fits
and answers the count and the oldest moment, atomically on the Redis server (so two web servers
counting the same caller at once never both take the last request). Without Redis (the demo's
in-process cache) DRF's own list of moments is used.
"""

import logging
import math
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from core.outages import CACHE_ERRORS
from organisations.models import ApiClient
from organisations.signin import client_address

logger = logging.getLogger(__name__)


# KEYS[1] the caller's window; ARGV: now, window length, limit, a unique member, count it (1) or only look (0).
# Answers {allowed, requests counted in the window, oldest moment counted (or now)}.
_BUDGET_LUA = """
local now = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if ARGV[5] == '1' and count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(duration * 1000))
  count = count + 1
  allowed = 1
elseif ARGV[5] == '0' then
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local first = now
if oldest[2] then first = tonumber(oldest[2]) end
return {allowed, count, tostring(first)}
"""


def _redis_budget(key: str, *, now: float, duration: int, limit: int, count: bool) -> tuple[bool, int, float] | None:
    """One round trip to Redis; None when the cache is not Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend._cache.get_client(key, write=True)
    # The script is registered once per client; the cache keeps one client per connection pool.
    script = getattr(client, "_budget_script", None)
    if script is None:
        script = client._budget_script = client.register_script(_BUDGET_LUA)
    allowed, counted, oldest = script(
        keys=[backend.make_and_validate_key(f"{key}:window")],
        args=[repr(now), duration, limit, uuid.uuid4().hex, "1" if count else "0"],
    )
    return bool(allowed), int(counted), float(oldest)


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
            counted = _redis_budget(
                self.get_cache_key(request, view),
                now=time.time(),
                duration=self.duration,
                limit=self.num_requests,
                count=True,
            )
            if counted is None:
                allowed = super().allow_request(request, view)
                request._request.rate_limit = self.state(allowed=allowed)
                return allowed
            allowed, in_window, oldest = counted
            request._request.rate_limit = _state_of(self.num_requests, self.duration, in_window, oldest, allowed)
            self._wait = request._request.rate_limit.reset
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

    def wait(self):
        # The Redis budget knows when the oldest counted request leaves the window.
        return getattr(self, "_wait", None) or super().wait()

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


def _state_of(limit: int, duration: int, in_window: int, oldest: float, allowed: bool) -> RateLimitState:
    reset = max(0, math.ceil(duration - (time.time() - oldest)))
    return RateLimitState(limit, max(0, limit - in_window) if allowed else 0, reset)


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
        counted = _redis_budget(
            throttle.get_cache_key(caller, None),
            now=time.time(),
            duration=throttle.duration,
            limit=throttle.num_requests,
            count=False,
        )
        if counted is not None:
            _, in_window, oldest = counted
            return _state_of(throttle.num_requests, throttle.duration, in_window, oldest, True)
        throttle.history = throttle.cache.get(throttle.get_cache_key(caller, None), [])
    except CACHE_ERRORS:
        return None
    throttle.now = throttle.timer()
    throttle.history = [moment for moment in throttle.history if moment > throttle.now - throttle.duration]
    return throttle.state(allowed=True)
