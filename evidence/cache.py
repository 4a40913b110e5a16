"""The shared cache when Redis is away: no cache, not a server error.

Everything the site keeps in the cache can be computed again (pages, aggregates, formatted references)
or is a counter whose loss is bounded (request rates, sign-in reservations). So while Redis cannot be
reached, a read is a miss and a write does nothing, and each failure is logged: public pages are rendered
from the database as if uncached. Counters (``incr``/``decr``) still raise ``redis.exceptions.RedisError``:
a count that did not happen cannot be made up, and their callers say what then (evidence.ratelimit lets
the request through; evidence.signin leaves the lockout to django-axes, which counts in the database).

A Redis that hangs rather than refuses costs each call its socket timeout, and a page makes several. So
after a failure the cache stops asking for ``retry_after`` seconds (5 unless OPTIONS say otherwise): reads
miss, writes do nothing and counters raise at once, and the first call after the pause tries Redis again.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _degrading(method: Callable[..., Any], fallback: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of Django's RedisCache, answering ``fallback(*its arguments)`` and logging the failure
    when Redis cannot be reached."""

    @functools.wraps(method)
    def degraded(self: DegradingRedisCache, *args: Any, **kwargs: Any) -> Any:
        if self.paused():
            return fallback(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except RedisError as exc:
            self.pause(method.__name__, exc)
            return fallback(*args, **kwargs)

    return degraded


def _counting(method: Callable[..., Any]) -> Callable[..., Any]:
    """A counter of Django's RedisCache: raising at once while the cache is paused, pausing it on failure."""

    @functools.wraps(method)
    def counted(self: DegradingRedisCache, *args: Any, **kwargs: Any) -> Any:
        if self.paused():
            raise RedisError("cache paused after a failure")
        try:
            return method(self, *args, **kwargs)
        except RedisError as exc:
            self.pause(method.__name__, exc)
            raise

    return counted


def _missed(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


class DegradingRedisCache(RedisCache):
    """Django's Redis cache, degrading to no cache while Redis is unreachable (see the module): a read is a
    miss, a write stores nothing (set_many reports every key as not stored, as the cache API does)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.retry_after: float = options.pop("retry_after", 5)
        super().__init__(server, {**params, "OPTIONS": options})
        self.paused_until = 0.0

    def paused(self) -> bool:
        """Whether a recent failure says not to ask Redis yet."""
        return time.monotonic() < self.paused_until

    def pause(self, operation: str, exc: Exception) -> None:
        self.paused_until = time.monotonic() + self.retry_after
        logger.warning("cache unavailable, %s skipped; not asked again for %ss: %s", operation, self.retry_after, exc)

    get = _degrading(RedisCache.get, _missed)
    get_many = _degrading(RedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _degrading(RedisCache.has_key, lambda *args, **kwargs: False)
    set = _degrading(RedisCache.set, lambda *args, **kwargs: None)
    set_many = _degrading(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    add = _degrading(RedisCache.add, lambda *args, **kwargs: False)
    touch = _degrading(RedisCache.touch, lambda *args, **kwargs: False)
    delete = _degrading(RedisCache.delete, lambda *args, **kwargs: False)
    delete_many = _degrading(RedisCache.delete_many, lambda *args, **kwargs: None)
    clear = _degrading(RedisCache.clear, lambda *args, **kwargs: False)
    incr = _counting(RedisCache.incr)


def redis_cache(url: str) -> dict[str, Any]:
    """The CACHES entry for Redis at ``url``: degrading when it is away, and quick to notice, so a request
    waits at most a second for a Redis that does not answer, and then none for the next five seconds."""
    return {
        "BACKEND": "evidence.cache.DegradingRedisCache",
        "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
