"""Redis (the shared cache) away: public pages, the API and signing in still work, uncached and with
requests uncounted, never a server error (issue 17). The cache points at a port nobody listens on."""

from __future__ import annotations

import socket
import threading

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from redis.exceptions import RedisError

from evidence.cache import DegradingRedisCache, redis_cache
from tests.test_settings import PRODUCTION, start

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port with nothing listening on it (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_away():
    with override_settings(CACHES={"default": redis_cache(f"redis://127.0.0.1:{closed_port()}/0")}, PAGE_CACHE=True):
        yield


def test_public_pages_and_the_api_render_without_the_cache(seed, redis_away, caplog):
    client = Client(raise_request_exception=False)
    study = seed.claims.first().citations.first().study
    claim = seed.claims.first()
    pages = [
        reverse("evidence:home"),
        seed.get_absolute_url(),
        reverse("evidence:article-map", args=[seed.slug]),
        reverse("evidence:claim-list"),
        claim.get_absolute_url(),
        reverse("evidence:study-list"),
        study.get_absolute_url(),
        reverse("evidence:article-claimreview", args=[seed.slug]),
        "/api/claims/",
        "/api/studies/",
    ]
    for url in pages:
        for _ in range(2):  # the second time, a cached page would be read
            response = client.get(url)
            assert response.status_code == 200, url
    assert "cache unavailable" in caplog.text


def test_signing_in_works_without_the_cache(make_user, redis_away):
    user = make_user(username="reader")
    client = Client(raise_request_exception=False)
    response = client.post(reverse("login"), {"username": "reader", "password": "a-long-test-password"})
    assert response.status_code == 302, response.status_code
    assert client.get(reverse("evidence:home")).wsgi_request.user == user


def test_production_settings_use_the_degrading_cache_for_redis():
    probe = (
        "import django; from django.conf import settings; django.setup(); print(settings.CACHES['default']['BACKEND'])"
    )
    result = start("-c", probe, REDIS_URL="redis://127.0.0.1:6379/0", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "evidence.cache.DegradingRedisCache"


class HangingRedis:
    """A server that accepts connections and never answers: a Redis that hangs rather than refuses."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def hanging_redis():
    server = HangingRedis()
    yield server
    server.close()


def test_a_hanging_redis_is_asked_once_and_then_left_alone_for_a_while(hanging_redis, caplog):
    entry = redis_cache(f"redis://127.0.0.1:{hanging_redis.port}/0")
    entry["OPTIONS"] = {**entry["OPTIONS"], "socket_timeout": 0.2, "retry_after": 60}
    cache = DegradingRedisCache(entry["LOCATION"], entry)

    assert cache.get("a", "missed") == "missed"
    assert cache.get_many(["a", "b"]) == {}
    cache.set("a", 1)
    with pytest.raises(RedisError):
        cache.incr("hits")

    assert len(hanging_redis.connections) == 1  # only the first call reached the server
    assert caplog.text.count("cache unavailable") == 1


def test_after_the_pause_the_cache_asks_redis_again(hanging_redis):
    entry = redis_cache(f"redis://127.0.0.1:{hanging_redis.port}/0")
    entry["OPTIONS"] = {**entry["OPTIONS"], "socket_timeout": 0.2, "retry_after": 0}
    cache = DegradingRedisCache(entry["LOCATION"], entry)

    assert cache.get("a") is None
    assert cache.get("a") is None

    assert len(hanging_redis.connections) == 2


def test_a_paused_cache_answers_again_once_redis_is_back():
    entry = redis_cache("redis://127.0.0.1:6379/15")
    cache = DegradingRedisCache(entry["LOCATION"], entry)
    cache.pause("get", RedisError("simulated earlier failure"))
    assert cache.get("evidence-test-pause", "missed") == "missed"  # not asked while paused

    cache.paused_until = 0.0  # the pause is over
    cache.set("evidence-test-pause", "kept", 5)
    assert cache.get("evidence-test-pause") == "kept"
    cache.delete("evidence-test-pause")
