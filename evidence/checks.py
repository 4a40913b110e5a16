"""System checks of our own, run by `manage.py check` (the deployment ones by `check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

PROCESS_LOCAL_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


@register(Tags.caches, deploy=True)
def shared_cache(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The API's request rates (evidence.ratelimit) and the sign-in lockout's reservations
    (evidence.signin) count in the default cache. In each process's own memory every gunicorn worker
    counts for itself: a client gets the rate once per worker, and parallel guesses one more password
    check per worker than the lockout allows."""
    if settings.CACHES["default"]["BACKEND"] not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Warning(
            "The cache is each process's own memory: with more than one worker, the API's request rates "
            "are counted per worker (5 workers let a client make 5 times the rate), parallel sign-in "
            "guesses get up to one password check per worker past the lockout's limit, and cached pages "
            "are built once per worker.",
            hint="Set REDIS_URL to a Redis server every worker shares (docs/deploy.md).",
            id="evidence.W001",
        )
    ]
