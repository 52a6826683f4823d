"""csn.cache.RedisCache: one Redis client per connection pool, not one per command."""

from csn.cache import RedisCache


def test_the_redis_client_is_built_once_per_pool():
    cache = RedisCache("redis://127.0.0.1:1/0", {})  # nothing is connected to build a client
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other", write=True) is client
    assert client.connection_pool is cache._cache._get_connection_pool(write=True)


def test_a_timeout_under_a_second_is_kept_to_the_millisecond():
    import time

    from django.conf import settings

    if not settings.REDIS_URL:
        import pytest

        pytest.skip("needs Redis (REDIS_URL)")
    cache = RedisCache(settings.REDIS_URL, {})
    assert cache.add("subsecond", 1, timeout=0.3)  # Django's own: int(0.3) == 0, deleted at once
    assert cache.get("subsecond") == 1
    cache.set("subsecond-set", 2, timeout=0.3)
    cache.set_many({"subsecond-many": 3}, timeout=0.3)
    assert cache.get_many(["subsecond-set", "subsecond-many"]) == {"subsecond-set": 2, "subsecond-many": 3}
    ttl = cache._cache.get_client().pttl(cache.make_key("subsecond"))
    assert 0 < ttl <= 300
    time.sleep(0.4)
    assert cache.get_many(["subsecond", "subsecond-set", "subsecond-many"]) == {}


def test_count_starts_a_window_and_counts_in_it():
    import time

    from django.conf import settings

    if not settings.REDIS_URL:
        import pytest

        pytest.skip("needs Redis (REDIS_URL)")
    cache = RedisCache(settings.REDIS_URL, {})
    cache.delete("window")
    assert [cache.count("window", 0.3) for _ in range(3)] == [1, 2, 3]
    assert cache.get("window") == 3
    assert 0 < cache._cache.get_client().pttl(cache.make_key("window")) <= 300  # from the first hit, kept
    time.sleep(0.4)
    assert cache.count("window", 0.3) == 1  # a new window
