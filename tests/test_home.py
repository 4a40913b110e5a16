"""The home page: the articles under review with their claim counts, a page at a time."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import Article
from evidence.views import ARTICLES_PER_PAGE
from tests import builders

pytestmark = pytest.mark.django_db

HOME = "/"
CARD = re.compile(r'<li class="article-card">(.*?)</li>', re.S)


def cards(response) -> list[str]:
    """Each article card's text, tags removed and spacing collapsed."""
    return [" ".join(re.sub(r"<[^>]+>", " ", card).split()) for card in CARD.findall(response.content.decode())]


def titles(response) -> list[str]:
    return [article.title for article in response.context["page"].object_list]


def dated_articles(n: int, claims_each: int = 1) -> list[Article]:
    articles = []
    for i in range(n):
        article = builders.article(title=f"Article dated {i:03d}", published_on=date(2000 + i, 1, 1))
        for quote in ["Ketamine lifts mood within hours.", "Both drugs raise blood pressure."][:claims_each]:
            builders.claim(article, quote)
        articles.append(article)
    return articles


def test_home_is_at_the_root():
    assert reverse("evidence:home") == HOME


def test_the_seed_article_is_listed_with_its_claim_count(client, seed: Article):
    response = client.get(HOME)
    assert response.status_code == 200
    [card] = cards(response)
    assert card.startswith(seed.title)
    # then the verdict summary: none of the 38 is published yet
    assert card.endswith("38 claims Verdicts on its claims: 38 ? Not yet reviewed")


def test_claim_counts_are_per_article_and_singular_for_one(client):
    quotes = ["Ketamine lifts mood within hours.", "Both drugs raise blood pressure."]
    for n, title in enumerate(["None", "One", "Two"]):
        article = builders.article(title=title)
        for quote in quotes[:n]:
            builders.claim(article, quote)
    assert sorted(cards(client.get(HOME))) == [
        "None 0 claims",
        "One 1 claim Verdicts on its claims: 1 ? Not yet reviewed",
        "Two 2 claims Verdicts on its claims: 2 ? Not yet reviewed",
    ]


def test_an_empty_site_says_how_to_add_an_article(client):
    response = client.get(HOME)
    assert response.status_code == 200
    assert "No articles yet" in response.content.decode()


def test_articles_come_a_page_at_a_time_newest_first(client):
    dated_articles(ARTICLES_PER_PAGE + 5, claims_each=0)
    first = client.get(HOME)
    assert len(cards(first)) == ARTICLES_PER_PAGE
    newest_first = [f"Article dated {i:03d}" for i in reversed(range(ARTICLES_PER_PAGE + 5))]
    assert titles(first) == newest_first[:ARTICLES_PER_PAGE]
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()

    second = client.get(HOME, {"page": 2})
    assert titles(second) == newest_first[ARTICLES_PER_PAGE:]
    assert 'href="?page=1"' in second.content.decode()

    # a page number out of range or not a number gives a page, not an error
    assert titles(client.get(HOME, {"page": 99})) == titles(second)
    assert titles(client.get(HOME, {"page": "abc"})) == titles(first)


def test_one_page_needs_no_pagination(client):
    dated_articles(3, claims_each=0)
    page = client.get(HOME).content.decode()
    assert "Page 1 of" not in page and 'rel="next"' not in page


def test_queries_do_not_grow_with_articles(client):
    """If this fails, the page runs a query per article: annotate or prefetch in the view instead."""
    dated_articles(2, claims_each=2)
    client.get(HOME)  # warm the caches a first request fills
    with CaptureQueriesContext(connection) as few:
        response = client.get(HOME)
    assert len(response.context["page"].object_list) == 2
    dated_articles(28, claims_each=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get(HOME)
    assert len(response.context["page"].object_list) == ARTICLES_PER_PAGE
    assert len(many) == len(few), "\n".join(query["sql"] for query in many.captured_queries)
