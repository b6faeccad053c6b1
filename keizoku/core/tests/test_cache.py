"""Production's Redis cache (keizoku.core.cache): the same behaviour as Django's, one client kept."""

import os
import threading

from django.core.cache import caches


def _redis(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "keizoku.core.cache.KeizokuRedisCache",
            "LOCATION": os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15"),
            "KEY_PREFIX": f"test-cache-{os.getpid()}",
        }
    }


def test_the_redis_cache_keeps_one_client_and_behaves_as_djangos(settings):
    _redis(settings)
    cache = caches["default"]
    cache.delete_many(["k", "n", "a", "b"])  # never clear(): the database may be shared
    assert cache.get("absent") is None
    cache.set("k", {"日本語": 1}, 60)
    assert cache.get("k") == {"日本語": 1}
    assert cache.add("k", "other") is False
    assert cache.add("n", 1) is True
    assert cache.incr("n", 4) == 5
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    cache.delete("k")
    assert cache.get("k") is None
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client  # one server: one pool, one client
    cache.delete_many(["n", "a", "b"])


def test_the_kept_client_serves_threads_at_once(settings):
    """Increments from 20 threads through the one client are all counted (redis-py's client
    takes a connection from the pool per command)."""
    _redis(settings)
    cache = caches["default"]
    cache.set("counter", 0)
    shared = cache._cache

    def bump() -> None:
        for _ in range(10):
            shared.incr(cache.make_and_validate_key("counter"), 1)

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("counter") == 200
    cache.delete("counter")
