"""The cold phase's cache (BENCH_CACHE=cold, benchmarks/bench_settings.py): every cached page, aggregate and
formatted reference misses, because nothing offered with set(), set_many() or get_or_set() is kept.

add() and incr() still work, per process as in LocMemCache: they carry counters (evidence/ratelimit.py,
evidence/signin.py) whose loss would turn the API's throttle into an error, not make anything colder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache


class ColdCache(LocMemCache):
    def set(self, key: Any, value: Any, timeout: Any = None, version: Any = None) -> None:
        return None

    def set_many(self, data: dict, timeout: Any = None, version: Any = None) -> list:
        return []

    def get_or_set(self, key: Any, default: Any, timeout: Any = None, version: Any = None) -> Any:
        return default() if isinstance(default, Callable) else default
