"""Request rates for the API: per address for anonymous clients, per account for signed-in ones.

The rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (evidence/settings.py, from the
environment). DRF's own throttles copy the rates into a class attribute when DRF is imported, so a
changed setting (a test's override_settings, say) would be ignored; these read it on every request.

Counting is evidence.ratelimit's, not DRF's: DRF keeps a list of request times in the cache, reads it and
writes it back, so concurrent requests overwrite each other's entries (68 of 100 requests went through
at 60/minute in the red team's run). Ours adds one to a counter with the cache's atomic increment. The
counters live in Django's cache: Redis in production (REDIS_URL), shared by every worker, so the rate is
the site's, not each worker's; without Redis each process counts for itself, which `manage.py check
--deploy` warns about (evidence/checks.py). What the rate guarantees is in docs/security.md.

A client's address is DRF's get_ident() under REST_FRAMEWORK["NUM_PROXIES"] (settings.py): behind our
proxy, the X-Forwarded-For entry the proxy appended, as for sign-in lockouts; otherwise REMOTE_ADDR.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from evidence import ratelimit


class _CountedRate(SimpleRateThrottle):
    """DRF's throttle interface over evidence.ratelimit's atomic window counter."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.hit = ratelimit.hit(self.key, self.duration)
        return self.hit.count <= self.num_requests

    def wait(self) -> float:
        """Retry-After: the seconds until the client's window ends and its count starts again."""
        return self.hit.seconds_left()


class AnonThrottle(_CountedRate, AnonRateThrottle):
    """Anonymous clients, counted by address."""


class UserThrottle(_CountedRate, UserRateThrottle):
    """Signed-in clients, counted per account whatever their address."""

    def get_cache_key(self, request, view) -> str | None:
        # DRF's UserRateThrottle counts anonymous clients too, by address, so an anonymous client got the
        # lower of the two rates; AnonThrottle alone is theirs
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class TokenThrottle(_CountedRate):
    """Attempts to obtain a token (guessing passwords), counted by address: the "token" rate."""

    scope = "token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
