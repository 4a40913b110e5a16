"""Reads from PostgreSQL streaming replicas, writes to the primary, and read-your-writes for whoever wrote.

DATABASE_REPLICA_URLS (evidence/settings.py) adds the replicas as DATABASES "replica_1", "replica_2" …,
lists them in DATABASE_REPLICAS and installs the router and the middleware below; without it nothing
here runs and every query goes to "default".

Which reads may go to a replica: those made while the middleware handles a safe request (GET, HEAD,
OPTIONS) from a client that has not written lately, outside any transaction on the primary. Everything
else reads from the primary: unsafe requests, management commands, the shell, migrations, tests, and a
request whose client wrote in the last DATABASE_REPLICA_PIN_SECONDS. Replicas are opted into per request,
never the default, so code that writes and then reads outside a request cannot read a stale replica.

Read-your-writes: after an unsafe request the middleware sets a short-lived cookie (``evidence_primary``);
while the browser sends it, that client's reads stay on the primary, long enough for the replicas to
replay the write. It is a plain cookie, not a session change, so it works for anonymous visitors and
costs no query; forging it only sends the forger's own reads to the primary. Keep
DATABASE_REPLICA_PIN_SECONDS above the replicas' worst replay lag (pg_stat_replication.replay_lag).

One replica is chosen per request, so every read of a request sees the same replica's snapshot.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

PIN_COOKIE = "evidence_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The replica this request reads from; None reads from the primary.
_read_from: ContextVar[str | None] = ContextVar("evidence_read_replica", default=None)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


@contextmanager
def reading_from(alias: str | None) -> Iterator[None]:
    """Route this thread's (or task's) reads to ``alias`` (None: the primary) inside the block."""
    token = _read_from.set(alias)
    try:
        yield
    finally:
        _read_from.reset(token)


class PrimaryReplicaRouter:
    """Writes and migrations go to "default"; reads go to the replica the middleware chose, if any."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        alias = _read_from.get()
        # inside a transaction on the primary (a view that locks, ATOMIC_REQUESTS) reads stay with it
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # every alias holds the same data: the replicas are copies of the primary
        known = {DEFAULT_DB_ALIAS, *replica_aliases()}
        if obj1._state.db in known and obj2._state.db in known:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # replicas receive the schema by replication, and refuse writes anyway
        return db == DEFAULT_DB_ALIAS


class ReadReplicaMiddleware:
    """Chooses where a request reads from, and pins a client to the primary for a while after it writes.

    First in MIDDLEWARE, so that the session, the user and everything after read from the same place.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replicas = replica_aliases()
        safe = request.method in SAFE_METHODS
        alias = random.choice(replicas) if replicas and safe and PIN_COOKIE not in request.COOKIES else None
        with reading_from(alias):
            response = self.get_response(request)
        if replicas and not safe:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
