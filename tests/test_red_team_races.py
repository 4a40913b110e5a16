"""Red-team defects that only show under concurrency (issue 17): requests racing each other over real
PostgreSQL connections, each thread with its own, released together (tests.test_concurrency.run_together)."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import redis
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from reviews.models import Review
from tests.reviewing import article_with_claims
from tests.test_concurrency import run_together


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL (CI uses it)")


# --- 27: created or updated, decided under the claim's lock ----------------------------------------------


def test_concurrent_puts_of_one_review_answer_201_once(make_user):
    """Twenty PUTs of the same reviewer's review at once (a retrying script, a double submit): one row, so
    exactly one answer may say it was created (201), whichever got the claim's lock first; the rest 200."""
    claims = article_with_claims(3).claims.order_by("pk")
    reviewer = make_user("Reviewers")
    for claim in claims:

        def put(n: int, claim=claim) -> int:
            client = APIClient()
            client.force_authenticate(reviewer)
            body = {"certainty": "moderate", "verdict": "supported", "rationale": f"Submission {n}."}
            return client.put(f"/api/claims/{claim.pk}/review/", body, format="json").status_code

        statuses = run_together(*(lambda n=n: put(n) for n in range(20)))
        assert sorted(statuses) == [200] * 19 + [201], statuses
        assert Review.objects.filter(claim=claim, reviewer=reviewer).count() == 1


# --- 28: request rates counted once, across workers --------------------------------------------------------


@pytest.fixture
def shared_cache(settings):
    """Django's cache on the real Redis, as production runs it (REDIS_URL): a database index of its own
    (EVIDENCE_TEST_REDIS_URL, default redis://127.0.0.1:6379/15) and a key prefix unique to this test, whose
    keys are deleted afterwards. Never FLUSHDB: other test runs may share the server."""
    url = os.environ.get("EVIDENCE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("EVIDENCE_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is not answering at {url}, and EVIDENCE_REQUIRE_REDIS=1")
        pytest.skip(f"Redis is not answering at {url} (CI runs it: .ci/run)")
    prefix = f"evidence-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    }
    yield
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def with_rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_concurrent_anonymous_requests_get_exactly_the_rate(settings, shared_cache):
    """100 requests from one address, 20 at a time, at 60/minute: 60 answers, 40 refusals. DRF's own
    throttle reads a list of times from the cache and writes it back, so concurrent requests overwrote
    each other's entries (68 of 100 went through); an atomic increment loses none."""
    with_rates(settings, anon="60/minute")

    def five() -> list[int]:
        client = APIClient(REMOTE_ADDR="198.51.100.20")
        return [client.get("/api/articles/").status_code for _ in range(5)]

    statuses = [status for batch in run_together(*(five for _ in range(20))) for status in batch]
    assert statuses.count(200) == 60, statuses.count(200)
    assert statuses.count(429) == 40


def test_concurrent_token_attempts_get_exactly_the_rate(settings, shared_cache, make_user):
    """The token endpoint's rate is what stands between a password guesser and the sign-in lockout's
    per-address count: 30 attempts at once at 10/hour, 10 are looked at."""
    with_rates(settings, token="10/hour")
    make_user("Editors", username="script-editor")

    def attempt() -> int:
        body = {"username": "someone-else", "password": "guess"}
        return APIClient(REMOTE_ADDR="198.51.100.21").post("/api/auth/token/", body, format="json").status_code

    statuses = run_together(*(attempt for _ in range(30)))
    assert statuses.count(429) == 20, statuses
    assert statuses.count(400) == 10


def test_a_refused_client_is_told_when_its_window_ends(settings, shared_cache):
    with_rates(settings, anon="2/minute")
    client = APIClient(REMOTE_ADDR="198.51.100.22")
    assert [client.get("/api/articles/").status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get("/api/articles/")
    assert 1 <= int(refused["Retry-After"]) <= 60
    # another address has its own count
    assert APIClient(REMOTE_ADDR="198.51.100.23").get("/api/articles/").status_code == 200


# --- 29: the sign-in lockout under parallel guesses -------------------------------------------------------


class CountingHasher(MD5PasswordHasher):
    """A password hasher that counts the passwords it checks, and takes a moment over each, as production's
    slow hasher does on purpose (the moment is what parallel guesses race through)."""

    algorithm = "counting_md5"
    checked = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with self.lock:
            type(self).checked += 1
        time.sleep(0.2)
        return super().verify(password, encoded)


@pytest.fixture
def counted_passwords(settings):
    settings.PASSWORD_HASHERS = ["tests.test_red_team_races.CountingHasher"]
    CountingHasher.checked = 0
    return CountingHasher


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/auth/token/"])
def test_parallel_guesses_get_no_more_checks_than_the_lockout_allows(
    settings, shared_cache, counted_passwords, make_user, path: str
):
    """12 wrong passwords for one account from one address at once, with a lockout after 4 failures:
    django-axes checks the count before the password and records the failure after it, so every guess
    that arrived before the first failure was recorded had its password checked (all 12). At most 4 may be
    checked, however many arrive together; the rest are refused unchecked, and the pair is locked out."""
    settings.AXES_FAILURE_LIMIT = 4
    with_rates(settings, token=None)  # the token endpoint's own rate is another guard; this tests the lockout
    user = make_user("Reviewers")

    def guess(n: int) -> int:
        body = {"username": user.username, "password": f"guess number {n}"}
        if path.startswith("/api/"):
            return APIClient(REMOTE_ADDR="203.0.113.40").post(path, body, format="json").status_code
        return Client(REMOTE_ADDR="203.0.113.40").post(path, body).status_code

    run_together(*(lambda n=n: guess(n) for n in range(12)))
    assert counted_passwords.checked <= 4, f"{counted_passwords.checked} passwords checked"
    # locked out now, even with the right password
    right = {"username": user.username, "password": "a-long-test-password"}
    assert Client(REMOTE_ADDR="203.0.113.40").post("/accounts/login/", right).status_code == 429


def test_sign_ins_one_after_another_still_check_up_to_the_limit(settings, shared_cache, counted_passwords, make_user):
    """The reservation is given back when an attempt ends: sequential failures lock out at the limit as
    before, and a success in between starts the count again."""
    settings.AXES_FAILURE_LIMIT = 3
    user = make_user("Reviewers")
    client = Client(REMOTE_ADDR="203.0.113.41")

    def sign_in(password: str) -> int:
        return client.post("/accounts/login/", {"username": user.username, "password": password}).status_code

    assert [sign_in("wrong"), sign_in("wrong")] == [200, 200]
    assert sign_in("a-long-test-password") == 302
    client.logout()
    assert [sign_in("wrong"), sign_in("wrong"), sign_in("wrong")] == [200, 200, 429]
    assert counted_passwords.checked == 6
    assert sign_in("a-long-test-password") == 429 and counted_passwords.checked == 6


def test_sign_in_works_while_redis_is_away(settings, make_user, caplog):
    """A real connection to a port nothing listens on: the reservations are unavailable, so axes' own
    check applies alone, and people can still sign in (and are still locked out one guess at a time)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.AXES_FAILURE_LIMIT = 2
    user = make_user("Reviewers")
    client = Client(REMOTE_ADDR="203.0.113.42")

    def sign_in(password: str) -> int:
        return client.post("/accounts/login/", {"username": user.username, "password": password}).status_code

    assert sign_in("a-long-test-password") == 302
    client.logout()
    assert [sign_in("wrong"), sign_in("wrong"), sign_in("a-long-test-password")] == [200, 429, 429]
    assert "sign-in reservations unavailable" in caplog.text
