"""The shared cache on Redis, with one redis-py client per connection pool.

Django's Redis cache builds a new redis-py client for every operation, and a client copies its
table of response handlers when it is built: about a third of the fixed cost of an API request
(the credentials look-up and the request budget are two operations). A redis-py client is safe
to share between threads and draws its connections from the pool, so one per pool is enough;
after a fork the pool opens new connections by itself.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class PooledRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with a client kept per connection pool."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
