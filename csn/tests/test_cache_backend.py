"""csn.cache.RedisCache: one Redis client per connection pool, not one per command."""

from csn.cache import RedisCache


def test_the_redis_client_is_built_once_per_pool():
    cache = RedisCache("redis://127.0.0.1:1/0", {})  # nothing is connected to build a client
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other", write=True) is client
    assert client.connection_pool is cache._cache._get_connection_pool(write=True)


def test_settings_use_it_with_redis(settings):
    from django.conf import settings as django_settings

    if django_settings.REDIS_URL:
        assert django_settings.CACHES["default"]["BACKEND"] == "csn.cache.RedisCache"
