"""Counting a client's requests in a window, atomically, in the shared cache: the API's rates use it.

A window starts with a client's first request and lasts the rate's period; each request adds one to the
window's counter with the cache's atomic increment (Redis INCR in production, a lock in process memory
otherwise), so requests arriving together on any number of workers are all counted: never more than the
rate's number in one window. A client can spend its allowance at the end of one window and again at the
start of the next, so over any stretch of one period it gets at most twice the number (docs/security.md).

The window's start is kept under its own key, and the counter's key names that start: each window has a
fresh counter, which lives twice the period, so a counter never outlives its window in use, and an
increment never lands on a counter that expired under it (Django's Redis incr checks that the key exists,
then increments: a counter expiring in between would be re-created without an expiry).

While Redis is unreachable nothing can be counted: the request goes through uncounted (count 0) and the
failure is logged (evidence/cache.py). Readers keep the site; the rates hold again once Redis is back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """One request counted: how many the window holds now (this one included), and when it ends."""

    count: int
    window_ends: float  # time.time()

    def seconds_left(self) -> int:
        return max(1, round(self.window_ends - time.time()))


def hit(key: str, period: int) -> Hit:
    """Count one request under ``key`` in its current window of ``period`` seconds (count 0: the cache is
    away and nothing was counted)."""
    now = time.time()
    try:
        return _count(key, period, now)
    except RedisError as exc:
        logger.warning("request rates unavailable, request not counted: %s", exc)
        return Hit(count=0, window_ends=now + period)


def _count(key: str, period: int, now: float) -> Hit:
    start_key = f"{key}:start"
    start = cache.get(start_key)
    if start is None:  # the client's first request in a while: it starts a window, or a racing one did
        start = now if cache.add(start_key, now, timeout=period) else (cache.get(start_key) or now)
    counter = f"{key}:{start:.6f}"
    try:
        count = cache.incr(counter)
    except ValueError:  # the window's first request here: add does nothing if a racing one was first
        cache.add(counter, 0, timeout=2 * period)
        count = cache.incr(counter)
    return Hit(count=count, window_ends=start + period)
