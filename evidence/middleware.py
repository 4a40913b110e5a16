"""Middleware that keeps bad requests and a lost database from turning into stack traces.

- RequestGuardMiddleware refuses a body whose declared Content-Length is over the limit before
  anything reads it (Django would read up to DATA_UPLOAD_MAX_MEMORY_SIZE of a form, but streams a file
  upload of any size to a temporary file first), with a page that says what the limit is; and a path,
  query string or cookie holding a NUL character, which PostgreSQL cannot take.
- DatabaseUnavailableMiddleware answers 503 with a plain page and Retry-After when a view loses
  PostgreSQL (a restart, a failover, too many connections), and logs the cause at ERROR. Django marks
  the failed connection and closes it when the request ends, and CONN_HEALTH_CHECKS checks a kept one
  before reuse, so the site recovers by itself when the database is back (benchmarks/fault.sh shows it).

Their 400, 413 and 503 pages render without a request context, so they run no query and no context
processor. client_ip and lockout_response are django-axes' hooks (settings: AXES_*).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

logger = logging.getLogger("evidence.availability")

# Seconds a client is asked to wait before retrying: a PostgreSQL restart takes a few.
RETRY_AFTER_SECONDS = 5


def client_ip(request: HttpRequest) -> str:
    """The client's address for sign-in lockouts (AXES_CLIENT_IP_CALLABLE).

    Behind the reverse proxy (DJANGO_BEHIND_PROXY) REMOTE_ADDR is the proxy's own address, so every reader
    would share one lockout; the address the proxy saw is the right-most X-Forwarded-For entry, the one
    it appended itself (whatever a client put further left is not to be trusted).
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page django-axes shows a locked-out sign-in (AXES_LOCKOUT_CALLABLE): our layout, in words, 429."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }
    response = render(request, "locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


class RequestGuardMiddleware:
    """Refuses two kinds of request before any view or other middleware reads them.

    - A body whose Content-Length is over the limit that applies to it (MAX_UPLOAD_SIZE for a multipart
      body, a file upload; DATA_UPLOAD_MAX_MEMORY_SIZE for anything else): 413 with the limit in words.
      A body sent without Content-Length (chunked) is still bounded by Django's own checks, which answer
      400 (templates/400.html); the proxy's client_max_body_size (docs/deploy.md) bounds both.
    - A NUL character in the path, the query string (``?q=%00``), a cookie (``sessionid="…\\000"``, an
      octal escape that Django's cookie parser decodes) or another header: 400. No URL, cookie or header
      of ours means anything with one, and PostgreSQL cannot store or compare text holding one: psycopg2
      refuses the query with a ValueError, a 500 in every view or admin search that passed it on, on
      every page for a session cookie (the session is looked up by it) and on a failed sign-in for a
      User-Agent (django-axes stores it). gunicorn already refuses a raw NUL in a header; the escaped
      cookie reaches Django whatever the server. Form posts need no such check: Django's form CharField
      already refuses NUL characters.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        too_large = self._too_large(request)
        if too_large is not None:
            return too_large
        where = _holding_nul(request)
        if where:
            logger.warning("refused a %s %s with a NUL character in its %s", request.method, request.path, where)
            return HttpResponse(render_to_string("400.html"), status=400)
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None  # Django treats an unreadable length as an empty body
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.MAX_UPLOAD_SIZE if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or length <= limit:
            return None
        logger.warning("refused a %s %s of %d bytes (limit %d)", request.method, request.path, length, limit)
        body = render_to_string("413.html", {"limit_mb": _megabytes(limit), "upload": multipart})
        return HttpResponse(body, status=413)


def _holding_nul(request: HttpRequest) -> str | None:
    """Which part of the request holds a NUL character ("address", "cookies", "headers"), if any."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in _pairs(request)):
        return "address"
    if any("\x00" in key or "\x00" in value for key, value in request.COOKIES.items()):
        return "cookies"
    if any(
        "\x00" in value for key, value in request.META.items() if key.startswith("HTTP_") and isinstance(value, str)
    ):
        return "headers"
    return None


def _pairs(request: HttpRequest) -> Iterator[tuple[str, str]]:
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0")


class DatabaseUnavailableMiddleware:
    """A view (or its template) that cannot reach the database gets a 503 page instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_connection_loss(exception):
            return None
        cause = exception.__cause__ or exception
        logger.error(
            "database unavailable, answered 503 to %s %s: %s: %s",
            request.method,
            request.path,
            type(cause).__name__,
            " ".join(str(cause).split()) or type(exception).__name__,  # one line, for grep and log shippers
        )
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # logged above with its cause; django.request would log it again as a bare "Service Unavailable"
        response._has_been_logged = True
        return response


def _is_connection_loss(exception: Exception) -> bool:
    """OperationalError and InterfaceError are what the driver raises for a connection that failed or
    went away (and for a statement cancelled by the server). Other database errors (a constraint, bad
    SQL, a DataError) are bugs or bad input and stay 500s, or are handled where they happen."""
    return isinstance(exception, OperationalError | InterfaceError)
