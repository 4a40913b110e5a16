"""Readers' trust and reach (issue 23): the Atom feeds of published verdicts, the embeddable claim card and
its oEmbed endpoint, the methodology and about pages, the article's source, the home page, reader reports."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.services import article_revise
from tests.factories import ArticleFactory, add_claim, publish

pytestmark = pytest.mark.django_db


def _feed(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return feedparser.parse(response.content)


# --- Atom feeds --------------------------------------------------------------------------------------------


def test_a_verdict_published_again_is_a_new_entry_and_a_refresh_is_not(client):
    article = ArticleFactory()
    claim = add_claim(article)
    first = timezone.now() - timedelta(days=3)
    publish(claim, verdict="supported", published_at=first)
    publish(claim, verdict="supported", published_at=first, n_reviews=3)  # a late review: same publication
    publish(claim, verdict="contradicted", certainty="low", published_at=first + timedelta(days=1))

    entries = _feed(client, reverse("evidence:verdict-feed")).entries

    assert [entry.title.split(" (")[0] for entry in entries] == ["Contradicted", "Supported"]
    assert entries[0].title.startswith("Contradicted (low certainty)")
    assert len({entry.id for entry in entries}) == 2
    assert entries[0].link == f"http://testserver{claim.get_absolute_url()}"


def test_an_orphans_verdicts_leave_the_feeds(client):
    article = ArticleFactory()
    kept = add_claim(article, "Ketamine lifts mood within hours.")
    lost = add_claim(article, "MDMA heals everything at once.")
    publish(kept)
    publish(lost)
    article_revise(article=article, text=article.text.replace(lost.quote, "Something else."), headings=article.headings)

    for url in (reverse("evidence:verdict-feed"), reverse("evidence:article-verdict-feed", args=[article.slug])):
        titles = [entry.title for entry in _feed(client, url).entries]
        assert titles == [f"Supported (moderate certainty): “{kept.quote}”"], url


def test_the_article_feed_holds_only_its_own_claims_and_unknown_articles_are_404(client):
    mine, other = ArticleFactory(), ArticleFactory()
    publish(add_claim(mine, "Mine says ketamine works."))
    publish(add_claim(other, "Other says MDMA works."))

    entries = _feed(client, reverse("evidence:article-verdict-feed", args=[mine.slug])).entries

    assert [entry.title for entry in entries] == ["Supported (moderate certainty): “Mine says ketamine works.”"]
    assert client.get(reverse("evidence:article-verdict-feed", args=["no-such-article"])).status_code == 404


def test_feed_text_is_escaped_not_markup(client):
    claim = add_claim(ArticleFactory(), "Ketamine <b>lifts</b> mood & more.")
    publish(claim, published_rationale="Because <script>alert(1)</script> & so on.")

    entry = _feed(client, reverse("evidence:verdict-feed")).entries[0]

    assert "<b>lifts</b>" in entry.title  # plain text in the title, shown as typed
    assert "<script>" not in entry.summary
    assert "&lt;script&gt;" in entry.summary


def test_unpublished_claims_are_not_in_the_feed(client):
    add_claim(ArticleFactory())
    assert _feed(client, reverse("evidence:verdict-feed")).entries == []


def test_the_feed_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    article = ArticleFactory()
    for _ in range(5):
        publish(add_claim(article))
    with django_assert_max_num_queries(3):  # the data version, the article, the events with their claims
        client.get(reverse("evidence:article-verdict-feed", args=[article.slug]))


def test_pages_announce_their_feeds(client):
    article = ArticleFactory()
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'title="Verdicts on this article (Atom)" href="/articles/{article.slug}/verdicts.atom"' in page
    assert 'href="/feeds/verdicts.atom"' in client.get(reverse("evidence:home")).content.decode()
