"""Conditional GET and versioned caching of public pages (evidence/caching.py)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence import caching
from evidence.models import Citation, Claim
from reviews.models import Flag
from tests.builders import ArticleFactory, CitationFactory, add_claim


def test_public_pages_answer_conditional_gets(client, seed):
    for url in (
        reverse("evidence:home"),
        seed.get_absolute_url(),
        reverse("evidence:article-map", args=[seed.slug]),
        reverse("evidence:claim-list") + "?substance=MDMA",
        Claim.objects.first().get_absolute_url(),
        reverse("evidence:study-list"),
        reverse("evidence:gap-map"),
    ):
        first = client.get(url)
        assert first.status_code == 200
        assert first.headers["ETag"].startswith('W/"') and "Last-Modified" in first.headers
        assert "public" in first.headers["Cache-Control"] and "max-age=0" in first.headers["Cache-Control"]
        with CaptureQueriesContext(connection) as queries:
            again = client.get(url, HTTP_IF_NONE_MATCH=first.headers["ETag"])
        assert again.status_code == 304, url
        assert len(queries) == 1, [q["sql"] for q in queries]  # the version read, nothing else
        assert "evidence_pageversion" in queries[0]["sql"]  # the versions of what the page shows


def test_a_change_makes_the_etag_change(client, committed_seed, claim):
    url = committed_seed.get_absolute_url()
    etag = client.get(url).headers["ETag"]
    Flag.objects.create(claim=claim("K1"), reason=Flag.Reason.OVERSTATED)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    # deleting a row changes it too
    etag = changed.headers["ETag"]
    Citation.objects.filter(claim__key="K1").first().delete()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_different_pages_have_different_etags(client, seed):
    a = client.get(reverse("evidence:claim-list") + "?substance=MDMA").headers["ETag"]
    b = client.get(reverse("evidence:claim-list") + "?substance=ketamine").headers["ETag"]
    assert a != b


def test_signed_in_pages_are_private_and_not_conditional(client, seed, make_user):
    client.force_login(make_user("Reviewers"))
    response = client.get(seed.get_absolute_url())
    assert "ETag" not in response.headers
    assert "private" in response.headers["Cache-Control"]


def test_article_aggregates_are_cached_until_the_data_changes(client, committed_seed, claim):
    url = committed_seed.get_absolute_url()
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with CaptureQueriesContext(connection) as second:
        response = client.get(url)
    assert response.status_code == 200
    assert len(second) == 1 < len(first)  # only the version read: the claims come from the cache
    Flag.objects.create(claim=claim("K1"), reason=Flag.Reason.OVERSTATED)
    response = client.get(url)
    assert response.context["summary"]["flagged"] == 3  # recomputed: M10, M17 and now K1


def test_version_bumps_once_per_committed_transaction_and_never_on_rollback(transactional_db):
    start, _ = caching.current()
    article = ArticleFactory()
    assert caching.current()[0] == start + 1  # autocommit: one save, one bump
    with transaction.atomic():
        for _ in range(5):
            add_claim(article)
    assert caching.current()[0] == start + 2  # eleven saves, one transaction, one bump
    with pytest.raises(RuntimeError), transaction.atomic():
        add_claim(article)
        raise RuntimeError("roll back")
    assert caching.current()[0] == start + 2
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint that rolls back takes its callback with it …
                add_claim(article)
                raise RuntimeError
        except RuntimeError:
            pass
        CitationFactory(claim=article.claims.first())  # … and the outer change schedules its own
    assert caching.current()[0] == start + 3


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE = True


def test_pages_are_cached_per_version_for_readers_without_state(client, committed_seed, page_cache, claim):
    url = reverse("evidence:claim-list") + "?substance=MDMA"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert len(queries) == 1  # the version read; the page came from the cache
    Flag.objects.create(claim=claim("M2"), reason=Flag.Reason.OVERSTATED)  # commits: new version
    with CaptureQueriesContext(connection) as queries:
        changed = client.get(url)
    assert len(queries) > 1 and b"1 open flag" in changed.content


def test_readers_with_a_session_or_messages_get_fresh_pages(client, committed_seed, page_cache, make_user):
    url = reverse("evidence:home")
    client.get(url)
    client.cookies["messages"] = "something"
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) > 1  # rendered, not served from the cache
    del client.cookies["messages"]
    client.force_login(make_user("Reviewers"))
    response = client.get(url)
    assert b"Sign out" in response.content and "private" in response["Cache-Control"]
