"""Knowing cheaply whether anything readers see has changed, and caching on that knowledge.

Every committed save or delete of an article, claim, study, citation, review, consensus or flag bumps
the single DataVersion row (once per transaction, after commit, so no transaction waits on it). Public
pages answer conditional GETs (ETag, Last-Modified → 304) from that one read, and per-article
aggregates are cached under keys that include the version, so a change invalidates them without
anyone deleting keys. Writes that bypass model signals (QuerySet.update, bulk_create) call touch().
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition

from evidence.models import DataVersion

# How long a cached aggregate or page lives at most; versioned keys make it correct, this bounds memory.
AGGREGATE_TIMEOUT = 60 * 60
PAGE_TIMEOUT = 10 * 60


def current() -> tuple[int, datetime]:
    """(version, changed_at); one primary-key read."""
    row = DataVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    if row is None:
        return 0, datetime(2000, 1, 1, tzinfo=UTC)
    return row


def _bump() -> None:
    updated = DataVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now())
    if not updated:
        DataVersion.objects.get_or_create(pk=1, defaults={"version": 1, "changed_at": timezone.now()})


# Whether a bump is owed by the transaction running in this thread (see touch()).
_owed = threading.local()


def _bump_once() -> None:
    """The first of a committed transaction's callbacks bumps; the others find nothing owed."""
    if getattr(_owed, "bump", False):
        _owed.bump = False
        _bump()


def touch() -> None:
    """Record that published data changed: once, after the current transaction commits.

    Each call registers a callback, and the first to run after the commit bumps the version once for
    the whole transaction. A transaction that rolls back drops its callbacks with it, so nothing is
    bumped for nothing; the debt it leaves is paid by the next committed transaction that touches,
    which bumps anyway.
    """
    if not connection.in_atomic_block:
        _bump()
        return
    _owed.bump = True
    transaction.on_commit(_bump_once)


def _on_change(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata
        return
    touch()


def connect_signals(*models: type[Model]) -> None:
    """Bump the version on every save and delete of these models: each app's ready() names those of its
    models whose rows readers see (evidence's own in EvidenceConfig, the review workflow's in ReviewsConfig)."""
    for model in models:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"evidence-version-save-{model.__name__}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"evidence-version-delete-{model.__name__}")


def request_version(request: HttpRequest) -> tuple[int, datetime]:
    """The data version, read once per request."""
    if not hasattr(request, "_evidence_version"):
        request._evidence_version = current()
    return request._evidence_version


@functools.cache
def code_salt() -> str:
    """Part of every ETag, so a deployment with new code or templates never answers 304 with an old page.

    ETAG_SALT (e.g. the release's commit) when set; otherwise a digest of the modification times of the
    code, templates and static files, which is the same in every worker of one deployment.
    """
    if settings.ETAG_SALT:
        return settings.ETAG_SALT
    digest = hashlib.sha256()
    for folder in ("evidence", "reviews", "templates", "static"):
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{path}:{path.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def url_key(request: HttpRequest) -> str:
    """What a cached answer depends on besides the data version: the code, and the absolute URL asked for.

    Absolute, with scheme, host and port: pages and feeds embed links built from them
    (request.build_absolute_uri), so an answer rendered for one Host must never be served for another, or
    any client could plant its Host's links in every reader's page (docs/security.md). Each allowed host
    (DJANGO_ALLOWED_HOSTS, which refuses any other with a 400) has its own entries.
    """
    return hashlib.sha256(f"{code_salt()}|{request.build_absolute_uri()}".encode()).hexdigest()[:32]


def _etag(request: HttpRequest, *args: Any, **kwargs: Any) -> str | None:
    if request.user.is_authenticated:
        return None  # signed-in pages differ per person (navigation, review links)
    version, _ = request_version(request)
    digest = hashlib.sha256(f"{url_key(request)}|{version}".encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def _last_modified(request: HttpRequest, *args: Any, **kwargs: Any) -> datetime | None:
    if request.user.is_authenticated:
        return None
    return request_version(request)[1]


def _cacheable(request: HttpRequest) -> bool:
    """A page may come from, and go to, the page cache only for a reader who carries no state: signed
    out, no session (messages after signing out live there) and no messages cookie."""
    return (
        settings.PAGE_CACHE
        and request.method in ("GET", "HEAD")
        and not request.user.is_authenticated
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _page_key(request: HttpRequest) -> str:
    version, _ = request_version(request)
    return f"evidence:page:{url_key(request)}:v{version}"


def _from_page_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a reader the page rendered for the previous reader while the data version is the same.

    The key holds the version, so any committed change makes every cached page unreachable at once;
    only complete 200 responses that set no cookie are kept, with the headers the view gave them.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        key = _page_key(request)
        hit = cache.get(key)
        if hit is not None:
            content, headers = hit
            return HttpResponse(content, headers=headers)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            # every header the view set, not only its type: the JSON-LD feeds' Access-Control-Allow-Origin
            # (the middleware outside this wrapper adds theirs to a cached answer as to a fresh one)
            cache.set(key, (response.content, list(response.items())), PAGE_TIMEOUT)
        return response

    return wrapper


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public page: conditional GET for anonymous readers (304 while nothing changed, revalidated on
    every visit), the rendered page cached per data version, private and uncached for signed-in users."""
    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(_from_page_cache(view))

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = conditional(request, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        return response

    return wrapper


def cached(key: str, compute: Callable[[], Any], version: int, timeout: int = AGGREGATE_TIMEOUT) -> Any:
    """An aggregate cached under a key that includes the data version."""
    full_key = f"evidence:{key}:v{version}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout)
    return value
