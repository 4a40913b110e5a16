"""Request rates for the API: per address for anonymous clients, per account for signed-in ones.

The rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (evidence/settings.py, from the
environment). DRF's own throttles copy the rates into a class attribute when DRF is imported, so a
changed setting (a test's override_settings, say) would be ignored; these read it on every request.
Counts live in Django's cache: Redis in production, shared by every worker. A client's address is DRF's
get_ident() under REST_FRAMEWORK["NUM_PROXIES"] (settings.py): behind our proxy, the X-Forwarded-For entry
the proxy appended, as for sign-in lockouts; otherwise REMOTE_ADDR.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle, UserRateThrottle


class _CurrentRate(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_CurrentRate, AnonRateThrottle):
    """Anonymous clients, counted by address."""


class UserThrottle(_CurrentRate, UserRateThrottle):
    """Signed-in clients, counted per account whatever their address."""

    def get_cache_key(self, request, view) -> str | None:
        # DRF's UserRateThrottle counts anonymous clients too, by address, so an anonymous client got the
        # lower of the two rates; AnonThrottle alone is theirs
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class TokenThrottle(_CurrentRate, ScopedRateThrottle):
    """Attempts to obtain a token (guessing passwords), counted by address: the "token" rate."""

    scope = "token"

    def allow_request(self, request, view) -> bool:
        # ScopedRateThrottle takes the scope from the view; this throttle has its own
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
