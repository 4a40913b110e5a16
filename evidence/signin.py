"""The sign-in lockout under parallel guesses: django-axes' database handler, with the check made atomic.

Axes checks whether a username and address are locked out before the password is checked, and records a
failure after: every guess that arrives before the first failure is recorded has its password checked,
however many there are (12 of 12 parallel guesses, at a limit of 4; production's password hasher is slow on
purpose, which widens the gap). So each attempt that passes axes' check also takes one of the remaining
attempts for its username and address with the cache's atomic increment, and gives it back once axes has
recorded its outcome. An attempt goes ahead only while recorded failures plus attempts under way are
within the limit: at most AXES_FAILURE_LIMIT passwords are checked per lockout, whatever arrives at once.

Configured through axes' public hook for this (AXES_HANDLER; axes' documentation invites handlers to
specialise is_allowed). Failures, lockouts and their resets stay axes' own, in the database (the admin,
axes_reset_username). The reservations live in the default cache: Redis in production, shared by every
worker; in process memory, each worker holds only its own, and the lockout's bound is the limit plus one
per worker (docs/security.md, and `check --deploy` warns: evidence/checks.py). If Redis is unreachable,
sign-in still works, with axes' own check alone (logged at WARNING).
"""

from __future__ import annotations

import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_cache_keys, get_failure_limit
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger("evidence.signin")

# A reservation is given back when axes records the attempt's outcome; one whose outcome axes never sees
# (a token handed out: a success without login()) lapses once nobody has tried for this long, longer
# than any attempt takes (gunicorn's timeout is 30 s, docs/deploy.md).
RESERVATION_SECONDS = 60

# request attribute: the keys this request holds a reservation under
_HELD = "evidence_signin_reserved"


class LockoutHandler(AxesDatabaseHandler):
    """AxesDatabaseHandler whose is_allowed reserves the attempt it allows (see the module docstring)."""

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        if not super().is_allowed(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        keys = [f"evidence:signin:{key}" for key in get_client_cache_keys(request, credentials)]
        try:
            under_way = max((_reserve(key) for key in keys), default=0)
        except RedisError as exc:
            # signing in matters more than the parallel-guess bound: axes' own check above still holds
            logger.warning("sign-in reservations unavailable, axes' check alone applies: %s", exc)
            return True
        if self.get_failures(request, credentials) + under_way > get_failure_limit(request, credentials):
            _release(keys)
            return False
        setattr(request, _HELD, keys)
        return True

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        try:
            # committed when this returns: no sign-in (the login views, the admin's, the token view)
            # runs inside a transaction of ours
            super().user_login_failed(sender, credentials, request, **kwargs)
        finally:
            _give_back(request)  # after the failure is recorded: it counts there from now on

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        finally:
            _give_back(request)


def _reserve(key: str) -> int:
    """One more attempt under way for this key; how many are now. The expiry restarts with each, so the
    count lapses only after a quiet minute, never under an attempt still running."""
    cache.add(key, 0, timeout=RESERVATION_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # lapsed between add and incr
        cache.add(key, 0, timeout=RESERVATION_SECONDS)
        count = cache.incr(key)
    cache.touch(key, timeout=RESERVATION_SECONDS)
    return count


def _release(keys: list[str]) -> None:
    for key in keys:
        try:
            cache.decr(key)
        except ValueError:  # lapsed: nothing to give back
            pass
        except RedisError as exc:  # it lapses by itself after a quiet minute
            logger.warning("could not give back a sign-in reservation: %s", exc)


def _give_back(request) -> None:
    keys = getattr(request, _HELD, None)
    if keys:
        setattr(request, _HELD, None)
        _release(keys)
