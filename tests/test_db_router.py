"""Read replicas: safe requests read from a replica, writes and everything outside a request use the primary,
and a client that has just written reads from the primary (evidence/db_routers.py).

The replica here is Django's test mirror of "default" (TEST: {"MIRROR": "default"}, as the settings give
every DATABASE_REPLICA_URLS entry): a second connection to the same test database. It is added to
DATABASES when this module is collected, before the test databases are set up, which is when Django
points mirrors at their primary; nothing routes to it unless a test installs the router. A mirror's
connection does not see the test transaction of "default", so the routing tests commit their data
(transaction=True, with serialized_rollback like every transactional test here: see tests/conftest.py).
"""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence import db_routers
from evidence.models import Claim
from evidence.settings import replica_databases
from reviews.models import Review
from tests.builders import ArticleFactory, CitationFactory, add_claim, grade_fields

REPLICA = "replica_1"
if REPLICA not in settings.DATABASES:
    _default = settings.DATABASES["default"]
    settings.DATABASES[REPLICA] = {
        **copy.deepcopy(_default),
        "TEST": {**_default.get("TEST", {}), "NAME": None, "MIRROR": "default"},
    }

BOTH = ["default", REPLICA]


@pytest.fixture(autouse=True)
def _close_the_replica_connection():
    """The mirror's own connection would keep the test database open and stop its teardown."""
    yield
    connections[REPLICA].close()


@pytest.fixture
def replicas(settings):
    """The router and the middleware installed as DATABASE_REPLICA_URLS would install them."""
    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_REPLICA_PIN_SECONDS = 10
    settings.DATABASE_ROUTERS = ["evidence.db_routers.PrimaryReplicaRouter"]
    settings.MIDDLEWARE = ["evidence.db_routers.ReadReplicaMiddleware", *settings.MIDDLEWARE]


class Queries:
    """The queries each connection ran inside the block."""

    def __enter__(self) -> Queries:
        self.contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in BOTH}
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        for context in self.contexts.values():
            context.__exit__(*exc_info)

    def on(self, alias: str) -> list[str]:
        return [query["sql"] for query in self.contexts[alias].captured_queries]


# --- Settings ------------------------------------------------------------------------------------------------


def test_replica_urls_become_mirrored_database_entries():
    entries = replica_databases(["postgres://reader:pw@10.0.0.2:5433/evidence", "postgresql://10.0.0.3/evidence"], 60)
    assert list(entries) == ["replica_1", "replica_2"]
    first = entries["replica_1"]
    assert (first["ENGINE"], first["HOST"], first["PORT"], first["NAME"]) == (
        "django.db.backends.postgresql",
        "10.0.0.2",
        5433,
        "evidence",
    )
    assert first["CONN_MAX_AGE"] == 60
    assert first["TEST"] == {"MIRROR": "default"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("postgress://10.0.0.2/evidence", "not a database URL"),
        ("postgres://10.0.0.2:port/evidence", "not a database URL"),
        ("mysql://10.0.0.2/evidence", "must be a PostgreSQL replica"),
        ("postgres://10.0.0.2:5433", "names no database"),
    ],
)
def test_a_bad_replica_url_stops_start_up(url, message):
    with pytest.raises(ImproperlyConfigured, match=f"DATABASE_REPLICA_URLS entry 2 .*{message}"):
        replica_databases(["postgres://10.0.0.2/evidence", url], 60)


# --- The router ------------------------------------------------------------------------------------------------


def test_outside_a_request_everything_uses_the_primary(replicas):
    router = db_routers.PrimaryReplicaRouter()
    assert router.db_for_read(Claim) == "default"
    assert router.db_for_write(Claim) == "default"
    assert Claim.objects.all().db == "default"
    assert router.allow_migrate("default", "evidence") is True
    assert router.allow_migrate(REPLICA, "evidence") is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)
def test_reads_chosen_for_a_replica_stay_on_the_primary_inside_a_transaction(replicas):
    router = db_routers.PrimaryReplicaRouter()
    with db_routers.reading_from(REPLICA):
        assert router.db_for_read(Claim) == REPLICA
        assert router.db_for_write(Claim) == "default"
        with transaction.atomic():
            assert router.db_for_read(Claim) == "default"
    assert router.db_for_read(Claim) == "default"


# --- Requests ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)
def test_an_anonymous_page_reads_from_the_replica_and_writes_nothing(replicas, client):
    article = ArticleFactory()
    CitationFactory(claim=add_claim(article))
    for url in (article.get_absolute_url(), reverse("evidence:claim-list"), reverse("evidence:home")):
        with Queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert queries.on(REPLICA), f"{url} read nothing from the replica"
        assert queries.on("default") == [], f"{url} used the primary: {queries.on('default')}"
        # no pin and no session: an anonymous GET leaves no trace
        assert db_routers.PIN_COOKIE not in response.cookies
        assert settings.SESSION_COOKIE_NAME not in response.cookies


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)
def test_a_reviewer_who_has_just_written_reads_from_the_primary(replicas, client, make_user):
    reviewer = make_user("Reviewers")
    claim = add_claim(ArticleFactory())
    CitationFactory(claim=claim)
    client.force_login(reviewer)
    review_page = reverse("reviews:review-claim", args=[claim.pk])

    with Queries() as queries:
        assert client.get(review_page).status_code == 200
    assert queries.on(REPLICA) and not queries.on("default")

    with Queries() as queries:
        response = client.post(
            review_page,
            {
                **grade_fields("moderate"),
                "certainty": "moderate",
                "verdict": "supported",
                "rationale": "Two consistent trials.",
            },
        )
    assert response.status_code == 302
    assert Review.objects.filter(claim=claim, reviewer=reviewer).exists()
    assert queries.on("default") and not queries.on(REPLICA), "a POST reads and writes on the primary"
    pin = response.cookies[db_routers.PIN_COOKIE]
    assert pin["max-age"] == 10 and pin["httponly"]

    # the browser sends the pin back: the next pages read the primary, where the review certainly is
    with Queries() as queries:
        response = client.get(review_page)
    assert response.status_code == 200
    assert queries.on("default") and not queries.on(REPLICA)
    assert db_routers.PIN_COOKIE not in response.cookies  # a GET does not extend the pin

    # once the cookie has expired, reads go back to the replica
    del client.cookies[db_routers.PIN_COOKIE]
    with Queries() as queries:
        assert client.get(review_page).status_code == 200
    assert queries.on(REPLICA) and not queries.on("default")


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)
def test_without_replicas_nothing_changes(client):
    article = ArticleFactory()
    with Queries() as queries:
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert queries.on("default") and not queries.on(REPLICA)
    assert db_routers.PIN_COOKIE not in response.cookies
