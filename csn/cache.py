"""Django's Redis cache, with one Redis client per connection pool instead of one per command.

Django's `RedisCacheClient.get_client` builds a `redis.Redis` for every cache call. redis-py 8 fills a
case-insensitive table of about 170 response callbacks in each one: measured in-process, that was more
CPU than the command's round trip, paid on every request (the default throttles count in the cache) and
two or three times on a cached catalogue read. A `redis.Redis` is thread-safe (each command takes a
connection from the pool), so one per pool serves every thread of the process."""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(pool)
        if client is None:
            client = clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
