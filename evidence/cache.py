"""The shared cache when Redis is away: no cache, not a server error.

Everything the site keeps in the cache can be computed again (pages, aggregates, formatted references)
or is a counter whose loss is bounded (request rates, sign-in reservations). So while Redis cannot be
reached, a read is a miss and a write does nothing, and each failure is logged: public pages are rendered
from the database as if uncached. Counters (``incr``/``decr``) still raise ``redis.exceptions.RedisError``:
a count that did not happen cannot be made up, and their callers say what then (evidence.ratelimit lets
the request through; evidence.signin leaves the lockout to django-axes, which counts in the database).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _unavailable(operation: str, exc: RedisError) -> None:
    logger.warning("cache unavailable, %s skipped: %s", operation, exc)


class DegradingRedisCache(RedisCache):
    """Django's Redis cache, degrading to no cache while Redis is unreachable (see the module)."""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            _unavailable("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            _unavailable("get_many", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            _unavailable("has_key", exc)
            return False

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            _unavailable("set", exc)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            _unavailable("set_many", exc)
            return list(data)  # the keys that were not stored, as the cache API reports them

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            _unavailable("add", exc)
            return False

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            _unavailable("touch", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError as exc:
            _unavailable("delete", exc)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except RedisError as exc:
            _unavailable("delete_many", exc)

    def clear(self) -> bool:
        try:
            return super().clear()
        except RedisError as exc:
            _unavailable("clear", exc)
            return False


def redis_cache(url: str) -> dict[str, Any]:
    """The CACHES entry for Redis at ``url``: degrading when it is away, and quick to notice, so a request
    waits at most a second per cache call for a Redis that does not answer."""
    return {
        "BACKEND": "evidence.cache.DegradingRedisCache",
        "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
