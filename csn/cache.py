"""Django's Redis cache, with one Redis client per connection pool instead of one per command, and
timeouts kept to the millisecond.

Django's `RedisCacheClient.get_client` builds a `redis.Redis` for every cache call. redis-py 8 fills a
case-insensitive table of about 170 response callbacks in each one: measured in-process, that was more
CPU than the command's round trip, paid on every request (the default throttles count in the cache) and
two or three times on a cached catalogue read. A `redis.Redis` is thread-safe (each command takes a
connection from the pool), so one per pool serves every thread of the process.

`count` is a fixed-window counter in one round trip (the default throttles, csn.api.rates).

Django also truncates a timeout to whole seconds (`int`): a key meant to live half a second was deleted
at once (timeout 0). Here a timeout is sent in milliseconds (`PX`, `PEXPIRE`)."""

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

# KEYS[1] the counter, ARGV[1] its lifetime in ms from the first hit.
_COUNT_SCRIPT = "redis.call('SET', KEYS[1], 0, 'NX', 'PX', ARGV[1]) return redis.call('INCR', KEYS[1])"


def _ms(timeout: float) -> int:
    return max(1, round(timeout * 1000))


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(pool)
        if client is None:
            client = clients[pool] = self._client(connection_pool=pool)
        return client

    def add(self, key, value, timeout):
        if not timeout:  # None (no expiry) or 0 (Django's "add then delete"): Django's way
            return super().add(key, value, timeout)
        client = self.get_client(key, write=True)
        return bool(client.set(key, self._serializer.dumps(value), px=_ms(timeout), nx=True))

    def set(self, key, value, timeout):
        if not timeout:
            return super().set(key, value, timeout)
        self.get_client(key, write=True).set(key, self._serializer.dumps(value), px=_ms(timeout))

    def touch(self, key, timeout):
        if not timeout:
            return super().touch(key, timeout)
        return bool(self.get_client(key, write=True).pexpire(key, _ms(timeout)))

    def count(self, key, timeout) -> int:
        """INCR, starting the key at 0 with this timeout when it is missing: one round trip, one command
        (a script run by its digest; a pipeline of SET NX and INCR cost twice the client's CPU)."""
        client = self.get_client(key, write=True)
        script = self.__dict__.get("_count_script")
        if script is None or script.registered_client is not client:
            script = self.__dict__["_count_script"] = client.register_script(_COUNT_SCRIPT)
        return script(keys=[key], args=[_ms(timeout)])

    def set_many(self, data, timeout):
        if not timeout:
            return super().set_many(data, timeout)
        pipeline = self.get_client(None, write=True).pipeline()
        pipeline.mset({k: self._serializer.dumps(v) for k, v in data.items()})
        for key in data:
            pipeline.pexpire(key, _ms(timeout))
        pipeline.execute()


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count(self, key, timeout: float, version=None) -> int:
        """This hit's number in a counter that starts (and expires `timeout` s later) with its first hit:
        one round trip (Django's `incr` is two, EXISTS then INCR, and `add` a third on the first)."""
        return self._cache.count(self.make_and_validate_key(key, version=version), timeout)

    def get_backend_timeout(self, timeout=DEFAULT_TIMEOUT):
        if timeout == DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else max(0, timeout)  # seconds, fractions kept
