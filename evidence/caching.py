"""Knowing cheaply whether what a page shows has changed, and caching on that knowledge.

Two kinds of counters, both bumped once per committed transaction, after the commit (so no transaction
waits on them), never for a transaction that rolls back:

- **Page versions** (PageVersion), one per scope: a claim's pages (``claim:<id>``: its page, its verdict
  permalinks, its card), a study's page, an article's pages (``article:<slug>``: the article, its map,
  revisions and JSON-LD), every list (``lists``: the home page, the claim and study lists and searches,
  the gap map, the API's claim list, the filter forms' choices, the site's own pages) and the feeds
  (``feeds``). A public page declares the scopes it shows (``public_page(scopes=...)``); its ETag, its
  Last-Modified and its whole-page cache key hold their versions, read in one query, always with the
  ``all`` scope that writes naming no scope (the bulk paths: touch()) bump.
- **The data version** (DataVersion): bumped by every write, seen or not. The signed-in work pages that
  show unpublished work (the reviewer's queue) are kept by it.

Which write retires which scopes is decided where the write's meaning is known: evidence's models in
evidence/invalidation.py, the review workflow's in reviews/invalidation.py, with its own named rules
(whether a review is public, whether a consensus change touches the published verdict); evidence never
imports reviews. A write readers cannot see (a blind review, an unpublished consensus, an internal note)
retires no page: touch_unseen(). Writes that bypass model signals (QuerySet.update, bulk_create) call
retire() or touch() themselves.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition

from evidence.models import Article, DataVersion, PageVersion

# How long a cached aggregate or page lives at most; versioned keys make it correct, this bounds memory.
AGGREGATE_TIMEOUT = 60 * 60
PAGE_TIMEOUT = 10 * 60

# The scopes every page or several pages share (the per-object ones are named by the functions below).
ALL = "all"  # every public page: bumped by touch(), for writes that say no more precisely what changed
LISTS = "lists"  # lists, searches, counts and choices across the library
FEEDS = "feeds"  # the Atom feeds of published verdicts

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def claim_scope(pk: int) -> str:
    return f"claim:{pk}"


def study_scope(pk: int) -> str:
    return f"study:{pk}"


def article_scope(slug: str) -> str:
    return f"article:{slug}"


def current() -> tuple[int, datetime]:
    """The data version (every committed write, seen by readers or not): (version, changed_at); one
    primary-key read."""
    row = DataVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    if row is None:
        return 0, _EPOCH
    return row


def page_version(scopes: Sequence[str]) -> tuple[str, datetime]:
    """The version of the pages that show these scopes (with ``all``), and when the latest of them changed.

    One query; a scope never bumped counts as version 0."""
    names = [ALL, *scopes]
    rows = {
        scope: (version, at)
        for scope, version, at in PageVersion.objects.filter(scope__in=names).values_list(
            "scope", "version", "changed_at"
        )
    }
    token = ".".join(str(rows[name][0]) if name in rows else "0" for name in names)
    return token, max((at for _, at in rows.values()), default=_EPOCH)


def _bump() -> None:
    updated = DataVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now())
    if not updated:
        DataVersion.objects.get_or_create(pk=1, defaults={"version": 1, "changed_at": timezone.now()})


# One statement per batch whatever the scopes: a row is created at its first bump and counted up after.
# Standard SQL upsert (PostgreSQL 9.5+, SQLite 3.24+); scopes in sorted order, so two writers bumping
# overlapping scopes lock their rows in the same order and cannot deadlock.
_UPSERT = (
    "INSERT INTO {table} (scope, version, changed_at) VALUES {values} "
    "ON CONFLICT (scope) DO UPDATE SET version = {table}.version + 1, changed_at = excluded.changed_at"
)
_BATCH = 500


def _bump_scopes(scopes: Iterable[str]) -> None:
    names = sorted(set(scopes))
    now = timezone.now()
    table = connection.ops.quote_name(PageVersion._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(names), _BATCH):
            batch = names[i : i + _BATCH]
            values = ", ".join(["(%s, 1, %s)"] * len(batch))
            cursor.execute(_UPSERT.format(table=table, values=values), [v for name in batch for v in (name, now)])


# What the transaction running in this thread owes (see retire()).
_owed = threading.local()


def _take() -> tuple[bool, set[str], set[int]]:
    owed = (getattr(_owed, "bump", False), getattr(_owed, "scopes", set()), getattr(_owed, "articles", set()))
    _owed.bump, _owed.scopes, _owed.articles = False, set(), set()
    return owed


def _pay() -> None:
    """The first of a committed transaction's callbacks pays what it owes; the others find nothing owed.
    Articles are named by id while the transaction runs and by slug (their pages' URLs) here: one query."""
    bump, scopes, articles = _take()
    if bump:
        _bump()
    if articles:
        slugs = Article.objects.filter(pk__in=articles).values_list("slug", flat=True)
        scopes |= {article_scope(slug) for slug in slugs}
    if scopes:
        _bump_scopes(scopes)


def _owe(scopes: Iterable[str] = (), articles: Iterable[int | None] = ()) -> None:
    _owed.bump = True
    _owed.scopes = getattr(_owed, "scopes", set()) | set(scopes)
    _owed.articles = getattr(_owed, "articles", set()) | {pk for pk in articles if pk is not None}
    if connection.in_atomic_block:
        transaction.on_commit(_pay)
    else:
        _pay()


def retire(
    *,
    claims: Iterable[int] = (),
    studies: Iterable[int] = (),
    articles: Iterable[int | None] = (),
    scopes: Iterable[str] = (),
) -> None:
    """Record that what readers see of these claims, studies and articles (ids), and of these shared
    ``scopes`` (LISTS, FEEDS), changed: their versions are bumped once, after the current transaction commits.

    Each call registers a callback, and the first to run after the commit pays for the whole transaction.
    A transaction that rolls back drops its callbacks; what it had recorded is paid by the next committed
    transaction that records anything (an extra bump, never a missing one).
    """
    names = {*(claim_scope(pk) for pk in claims), *(study_scope(pk) for pk in studies), *scopes}
    _owe(names, articles)


def touch() -> None:
    """Record that published data changed, without saying where: every public page retires (the bulk
    writes: imports, restores, the generated library)."""
    _owe([ALL])


def touch_unseen() -> None:
    """Record a change no reader sees (a blind review, an unpublished consensus, an internal note): only
    the data version moves, for the signed-in work pages; no public page, ETag or feed changes."""
    _owe()


def request_version(request: HttpRequest) -> tuple[str, datetime]:
    """The version of the scopes the page shows (public_page's ``scopes``; the lists' otherwise), read
    once per request."""
    if not hasattr(request, "_evidence_version"):
        request._evidence_version = page_version(getattr(request, "_evidence_scopes", (LISTS,)))
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
    """Serve a reader the page rendered for the previous reader while the versions of what it shows are the same.

    The key holds them, so a committed change to what the page shows makes it unreachable at once;
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


def public_page(
    view: Callable[..., HttpResponse] | None = None, *, scopes: Callable[..., Sequence[str]] | None = None
) -> Any:
    """A public page: conditional GET for anonymous readers (304 while nothing it shows changed, revalidated
    on every visit), the rendered page cached per version, private and uncached for signed-in users.

    ``scopes`` names what the page shows from the view's URL arguments, e.g.
    ``@public_page(scopes=lambda pk, **_: [claim_scope(pk)])``; bare ``@public_page`` is a list's (LISTS).
    """
    if view is None:
        return functools.partial(public_page, scopes=scopes)
    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(_from_page_cache(view))

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request._evidence_scopes = tuple(scopes(*args, **kwargs)) if scopes else (LISTS,)
        response = conditional(request, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        return response

    return wrapper


def cached(key: str, compute: Callable[[], Any], version: int | str, timeout: int = AGGREGATE_TIMEOUT) -> Any:
    """An aggregate cached under a key that includes the code and the version of what it shows."""
    full_key = f"evidence:{key}:{code_salt()}:v{version}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout)
    return value
