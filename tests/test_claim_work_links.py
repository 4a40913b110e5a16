"""The public claim page's ways into a claim's work (issue 21 §3): "Review this claim" for one who may review
it, "Open in the editor's desk" for an editor, nothing for readers; and the page cache and conditional GET
never hand one person's page to another."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

REVIEW = b"Review this claim"
EDITOR = b"Open in the editor&#x27;s desk"


def _page(client: Client, claim) -> bytes:
    response = client.get(claim.get_absolute_url())
    assert response.status_code == 200
    return response.content


def _as(make_user, *groups: str, superuser: bool = False) -> Client:
    client = Client()
    client.force_login(make_user(*groups, superuser=superuser))
    return client


@pytest.mark.django_db
def test_each_role_is_offered_its_own_way_in(seed, claim, make_user):
    k1 = claim("K1")
    review_url = reverse("reviews:review-claim", args=[k1.pk]).encode()
    editor_url = reverse("reviews:editor-claim", args=[k1.pk]).encode()
    reviewer = _page(_as(make_user, "Reviewers"), k1)
    assert REVIEW in reviewer and review_url in reviewer and EDITOR not in reviewer
    editor = _page(_as(make_user, "Editors"), k1)
    assert EDITOR in editor and editor_url in editor and REVIEW not in editor
    both = _page(_as(make_user, "Editors", "Reviewers"), k1)
    assert REVIEW in both and EDITOR in both
    admin = _page(_as(make_user, superuser=True), k1)
    assert REVIEW in admin and EDITOR in admin
    for page in (_page(Client(), k1), _page(_as(make_user), k1), _page(_as(make_user, "Curators"), k1)):
        assert REVIEW not in page and EDITOR not in page and b"work-links" not in page


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE = True


@pytest.mark.django_db(transaction=True)
def test_signed_in_links_never_reach_another_visitor(committed_seed, claim, make_user, page_cache):
    k1 = claim("K1")
    url = k1.get_absolute_url()
    reader = Client()
    first = reader.get(url)
    etag = first.headers["ETag"]
    assert REVIEW not in first.content
    with CaptureQueriesContext(connection) as queries:
        cached = reader.get(url)
    assert len(queries) == 1 and cached.content == first.content  # the reader's page, from the cache

    editor = _as(make_user, "Editors", "Reviewers")
    # the reader's ETag is no answer to a signed-in user: they get their own page, with their links
    theirs = editor.get(url, HTTP_IF_NONE_MATCH=etag)
    assert theirs.status_code == 200 and REVIEW in theirs.content and EDITOR in theirs.content
    assert "ETag" not in theirs.headers and "private" in theirs.headers["Cache-Control"]
    again = editor.get(url)
    assert REVIEW in again.content

    # and the signed-in page went into no cache: the next reader still gets the readers' page, unchanged
    later = Client().get(url)
    assert later.content == first.content and REVIEW not in later.content and EDITOR not in later.content
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
