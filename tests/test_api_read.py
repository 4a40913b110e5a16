"""The read API: what it shows (what the pages show, no more), its filters (the pages' own), its pages, and
how many queries each list runs (the same for 2 rows as for 30)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.reverse import reverse as drf_reverse
from rest_framework.test import APIRequestFactory

from evidence.api import serializers as s
from evidence.api.views import ClaimViewSet
from evidence.models import Article, Claim, Study
from evidence.services import study_set_retraction
from reviews.models import Flag, Review
from reviews.services import claim_adjudicate, reviewer_profile_update, verdict_publish
from tests.builders import ArticleFactory, FlagFactory, grow, publish, rate

ARTICLE_SLUG = "ketamine-vs-mdma-in-psychotherapy"


def claim(key: str) -> Claim:
    return Claim.objects.get(article__slug=ARTICLE_SLUG, key=key)


def get(client: Client, url: str, params: dict | None = None, status: int = 200) -> dict:
    response = client.get(url, params or {})
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    return response.json()


def every(client: Client, url: str, params: dict | None = None) -> list[dict]:
    """All results of a list, following its next links."""
    results: list[dict] = []
    page = get(client, url, {**(params or {}), "page_size": 100})
    while True:
        results += page["results"]
        if not page["next"]:
            return results
        page = client.get(page["next"]).json()


# --- Query counts: the same for a small and a large data set ------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    cache.clear()  # the throttles' counts live in the cache; a fresh count for every request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries)


# (name, url, budget): the budget is the number of queries for an anonymous client; each is explained.
ENDPOINTS: list[tuple[str, Callable[[Article], str], int]] = [
    # count, page
    ("articles", lambda a: reverse("api:article-list"), 2),
    # the article with its claim count
    ("article", lambda a: reverse("api:article-detail", args=[a.slug]), 1),
    # count, page (claims with article and consensus), citations with studies, flags
    ("claims", lambda a: reverse("api:claim-list"), 4),
    ("claims filtered", lambda a: reverse("api:claim-list") + "?verdict=supported&flagged=yes&sort=strongest", 4),
    # article= and substance= check their values against the articles and the substances, read once per data
    # version (one query for the version, one for each list; all but the version come from the cache after)
    ("claims by article", lambda a: reverse("api:claim-list") + f"?article={a.slug}&substance=MDMA", 7),
    ("claims searched", lambda a: reverse("api:claim-list") + "?q=claim+sentence", 4),
    # … and the claim's verdict versions and re-review rounds (issue 19)
    ("claim", lambda a: reverse("api:claim-detail", args=[a.claims.order_by("pk").first().pk]), 5),
    # count, page
    ("studies", lambda a: reverse("api:study-list"), 2),
    ("studies filtered", lambda a: reverse("api:study-list") + "?design=rct&year_min=2000&q=trial&sort=oldest", 2),
    # the study, the claims citing it
    ("study", lambda a: reverse("api:study-detail", args=[a.claims.first().citations.first().study_id]), 2),
    ("citations", lambda a: reverse("api:citation-list"), 2),
    ("citations of an article", lambda a: reverse("api:citation-list") + f"?article={a.slug}&relation=supports", 2),
    ("flags", lambda a: reverse("api:flag-list"), 2),
    ("reviews", lambda a: reverse("api:review-list"), 2),
    # the article, its claims (evidence.feeds)
    ("claimreview feed", lambda a: reverse("evidence:article-claimreview", args=[a.slug]), 3),
    ("annotations", lambda a: reverse("evidence:article-annotations", args=[a.slug]), 3),
]


@pytest.mark.parametrize(("name", "url_of", "budget"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_queries_do_not_grow_with_the_data(client, make_user, name, url_of, budget):
    reviewer = make_user("Reviewers")
    article = ArticleFactory()
    grow(article, 2, reviewer)
    few = count_queries(client, url_of(article))
    grow(article, 15, reviewer)
    for _ in range(2):
        grow(ArticleFactory(), 1, reviewer)
    many = count_queries(client, url_of(article))
    assert many == few, f"{name}: {few} queries with 2 claims, {many} with 19: a query runs per row"
    assert many <= budget, f"{name}: {many} queries, budget {budget}; explain any new query in ENDPOINTS"


@pytest.mark.parametrize("role", ["Reviewers", "Editors"])
def test_signed_in_lists_add_only_the_credentials_lookup(make_user, role):
    """With a token: one more query (the token and its user), and for a reviewer's reviews a permission
    lookup; still nothing per row."""
    from rest_framework.authtoken.models import Token

    reviewer = make_user("Reviewers")
    user = make_user(role)
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    article = ArticleFactory()
    grow(article, 2, reviewer)
    few = {url: count_queries(client, url) for url in (reverse("api:claim-list"), reverse("api:review-list"))}
    grow(article, 20, reviewer)
    many = {url: count_queries(client, url) for url in few}
    assert many == few
    assert many[reverse("api:claim-list")] == 5  # token, count, page, citations, flags
    # token, the user's permissions (user and group), count, page
    assert many[reverse("api:review-list")] <= 6


# --- What each endpoint shows -----------------------------------------------------------------------


def test_article_list_and_detail(client, seed):
    page = get(client, reverse("api:article-list"))
    assert page["count"] == 1
    (row,) = page["results"]
    assert row["slug"] == ARTICLE_SLUG and row["n_claims"] == 38
    assert "text" not in row  # the list leaves the texts out
    assert row["html_url"].endswith(seed.get_absolute_url())
    assert row["claimreview_url"].endswith(f"/articles/{ARTICLE_SLUG}/claimreview.jsonld")
    detail = get(client, row["url"])
    assert detail["text"] == seed.text and detail["headings"] == seed.headings
    get(client, reverse("api:article-detail", args=["no-such-article"]), status=404)


def test_claim_shows_its_anchor_evidence_flags_and_citations(client, seed):
    c = claim("M10")
    data = get(client, reverse("api:claim-detail", args=[c.pk]))
    assert data["quote"] == c.quote and data["article"] == ARTICLE_SLUG
    anchor = data["anchor"]
    assert seed.text[anchor["start"] : anchor["end"]] == c.quote
    assert seed.text[: anchor["start"]].endswith(anchor["prefix"]) and seed.text[anchor["end"] :].startswith(
        anchor["suffix"]
    )
    assert data["evidence"]["relies_on_retracted"] is True
    assert data["evidence_status"] == "unreviewed" and data["consensus"] is None
    assert [f["reason"] for f in data["open_flags"]] == ["retracted_source"]
    assert data["open_flags"][0]["raised_by_system"] is True
    keys = {(ci["relation"], ci["study"]["citation_key"]) for ci in data["citations"]}
    assert keys == {("supports", "feduccia2021"), ("supports", "mitchell2021"), ("context", "mitchell2023")}
    # supporting evidence first, as the claim page groups it
    assert [ci["relation"] for ci in data["citations"]][0] == "supports"
    retracted = next(ci for ci in data["citations"] if ci["study"]["citation_key"] == "feduccia2021")
    assert retracted["study"]["retraction_status"] == "retracted"
    assert data["closed_flags"] == []


def test_consensus_is_shown_only_once_published(client, seed, make_user):
    c = claim("K5")
    rate(c, make_user("Reviewers"), "moderate", "partly_supported", rationale="Hidden until published.")
    data = get(client, reverse("api:claim-detail", args=[c.pk]))
    assert data["consensus"] is None and data["evidence_status"] == "unreviewed"
    assert "Hidden until published" not in str(data)
    publish(c, verdict="partly_supported", certainty="moderate", certainty_spread=1)
    data = get(client, reverse("api:claim-detail", args=[c.pk]))
    assert data["evidence_status"] == "partly_supported"
    consensus = data["consensus"]
    assert (consensus["verdict"], consensus["certainty"]) == ("partly_supported", "moderate")
    assert consensus["rationale"] == "Reviewed against the cited trials."
    assert consensus["certainty_spread"] == 1 and consensus["adjudicated"] is False
    assert consensus["published_at"]


# The pages' filters, through the API: the same claims as the claim list page finds.
CLAIM_QUERIES = [
    {"flagged": "yes"},
    {"retracted": "yes"},
    {"verdict": "supported"},
    {"verdict": "unreviewed"},
    {"certainty": "high"},
    {"status": "published"},
    {"claim_type": "durability"},
    {"substance": "MDMA"},
    {"article": ARTICLE_SLUG},
    {"unsupported": "yes"},
    {"q": "NMDA receptors"},
    {"sort": "weakest"},
]


def page_keys(client: Client, query: dict) -> list[str]:
    """The claim list page's results, in order, over every page."""
    found, page = [], 1
    while True:
        response = client.get(reverse("evidence:claim-list"), {**query, "page": page})
        found += [c.key for c in response.context["page"].object_list]
        if not response.context["page"].has_next():
            return found
        page += 1


@pytest.mark.parametrize("query", CLAIM_QUERIES, ids=[str(q) for q in CLAIM_QUERIES])
def test_claim_filters_are_the_pages_filters(client, seed, query):
    publish(claim("K1"), verdict="supported", certainty="high")
    api = [row["key"] for row in every(client, reverse("api:claim-list"), query)]
    assert api == page_keys(client, query)
    assert api, "each query finds something in the seed"


def test_study_filters_are_the_pages_filters(client, seed):
    for query in ({"retracted": "yes"}, {"verified": "no"}, {"design": "meta_analysis"}, {"q": "Cappiello"}):
        api = {row["citation_key"] for row in every(client, reverse("api:study-list"), query)}
        page = client.get(reverse("evidence:study-list"), {**query, "page": 1})
        assert page.context["page"].paginator.num_pages == 1
        assert api == {s.citation_key for s in page.context["page"].object_list}, query
    retracted = every(client, reverse("api:study-list"), {"retracted": "yes"})
    assert {s["citation_key"] for s in retracted} == {"mithoefer2019", "jerome2020", "feduccia2021"}


def test_invalid_filters_are_400_with_the_field_named(client, seed):
    response = client.get(reverse("api:claim-list"), {"verdict": "maybe", "claim_type": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"verdict", "claim_type"}
    assert client.get(reverse("api:study-list"), {"year_min": "soon"}).status_code == 400
    assert client.get(reverse("api:citation-list"), {"claim": "1.5"}).status_code == 400


def test_study_detail_lists_the_claims_citing_it(client, seed):
    study = Study.objects.get(citation_key="feduccia2021")
    data = get(client, reverse("api:study-detail", args=[study.pk]))
    assert {c["claim_key"] for c in data["citations"]} == {"M10", "M17"}
    assert data["retraction_status"] == "retracted" and data["doi_url"].startswith("https://doi.org/")
    assert data["n_claims"] == 2


def test_citations_and_flags_filter_by_claim(client, seed):
    c = claim("M10")
    rows = every(client, reverse("api:citation-list"), {"claim": c.pk})
    assert len(rows) == c.citations.count() == 3
    assert {row["claim"] for row in rows} == {c.pk}
    flags = every(client, reverse("api:flag-list"), {"claim": c.pk, "status": "open"})
    assert [f["reason"] for f in flags] == ["retracted_source"]


def test_pagination_has_a_maximum_page_size(client, seed):
    page = get(client, reverse("api:claim-list"), {"page_size": 1000})
    assert len(page["results"]) == 38  # all of them: fewer than the maximum
    page = get(client, reverse("api:citation-list"), {"page_size": 1000})
    assert page["count"] == 109 and len(page["results"]) == 100 and page["next"]
    assert len(get(client, reverse("api:citation-list"))["results"]) == 25
    assert client.get(reverse("api:claim-list"), {"page": 99}).status_code == 404


def test_a_page_size_is_a_whole_number_or_empty(client, seed):
    citations = reverse("api:citation-list")
    assert len(get(client, citations, {"page_size": ""})["results"]) == 25  # an empty box: the default
    assert len(get(client, citations, {"page_size": "7"})["results"]) == 7
    for refused in ("0", "-3", "2.5", "ten"):
        body = get(client, citations, {"page_size": refused}, status=400)
        assert body["errors"]["page_size"] == ["A whole number from 1 (at most 100 are given)."], refused


# --- Reviews: public once the verdict is published; blind review for reviewers -----------------------------


@pytest.fixture
def reviewed(seed, make_user):
    c = claim("K2")
    users = {"reviewer": make_user("Reviewers"), "other": make_user("Reviewers"), "editor": make_user("Editors")}
    rate(c, users["other"], "high", "supported", rationale="The other reviewer's reasoning.")
    return c, users


def visible(client: Client, c: Claim) -> set[str]:
    return {row["rationale"] for row in every(client, reverse("api:review-list"), {"claim": c.pk})}


def test_reviews_are_public_only_once_the_verdict_is_published(client, reviewed):
    c, users = reviewed
    assert visible(client, c) == set()
    review = Review.objects.get(claim=c)
    assert client.get(reverse("api:review-detail", args=[review.pk])).status_code == 404
    publish(c)
    assert visible(client, c) == {"The other reviewer's reasoning."}
    data = get(client, reverse("api:review-detail", args=[review.pk]))
    # readers see a reviewer's name only from a profile made public, as on the claim page
    assert data["reviewer"] == "Reviewer" and users["other"].username not in json.dumps(data)
    assert data["is_own"] is False
    reviewer_profile_update(
        user=users["other"], display_name="Dr Ada Other", credentials="MD", field="", declared_interests="", public=True
    )
    assert get(client, reverse("api:review-detail", args=[review.pk]))["reviewer"] == "Dr Ada Other"
    editor = Client()
    editor.force_login(users["editor"])
    assert get(editor, reverse("api:review-detail", args=[review.pk]))["reviewer"] == users["other"].username
    assert data["certainty"] == data["computed_certainty"] == "high" and data["evidence_design"] == "randomised"
    assert data["risk_of_bias"] == "not_serious" and data["conflict_of_interest"] == "none"


def test_blind_review_through_the_api(reviewed):
    c, users = reviewed
    reviewer = Client()
    reviewer.force_login(users["reviewer"])
    assert visible(reviewer, c) == set()  # others' reviews stay hidden until they submit their own
    rate(c, users["reviewer"], "low", "unsupported", rationale="Mine.")
    assert visible(reviewer, c) == {"Mine.", "The other reviewer's reasoning."}
    mine = [row for row in every(reviewer, reverse("api:review-list"), {"claim": c.pk}) if row["is_own"]]
    assert [row["rationale"] for row in mine] == ["Mine."]
    editor = Client()
    editor.force_login(users["editor"])
    assert visible(editor, c) == {"Mine.", "The other reviewer's reasoning."}


def test_a_claim_back_in_review_hides_its_new_round_from_anonymous_readers(client, reviewed):
    """The API once had its own copy of the blind-review rule that counted any claim with a published
    verdict as public: once a published claim went back for re-review, anonymous readers saw the new
    round's reviews as reviewers revised them. It now asks reviews.access, as the claim page does."""
    c, users = reviewed
    rate(c, users["reviewer"], "moderate", "supported", rationale="Round one.")
    verdict_publish(claim=c, published_by=users["editor"], rationale="Two reviewers agree.")
    assert visible(client, c) == {"The other reviewer's reasoning.", "Round one."}
    cited = c.citations.filter(relation="supports").first().study
    study_set_retraction(study=cited, status=Study.RetractionStatus.RETRACTED, note="Retracted.")
    c.refresh_from_db()
    assert c.status == Claim.Status.NEEDS_REREVIEW
    rate(c, users["reviewer"], "low", "partly_supported", rationale="Round two, not yet published.")
    # the sending back opened round 2: blind; round 1's reviews were published and stay public
    assert visible(client, c) == {"The other reviewer's reasoning.", "Round one."}
    page = client.get(reverse("evidence:claim-detail", args=[c.pk])).content.decode()
    assert "Round two" not in page and "Round one" in page
    assert (
        client.get(
            reverse("api:review-detail", args=[Review.objects.get(claim=c, reviewer=users["reviewer"], round=2).pk])
        ).status_code
        == 404
    )
    editor = Client()
    editor.force_login(users["editor"])
    assert visible(editor, c) == {"The other reviewer's reasoning.", "Round one.", "Round two, not yet published."}
    rate(c, users["other"], "low", "partly_supported", rationale="The other's round two.")
    assert visible(client, c) == {"The other reviewer's reasoning.", "Round one."}
    claim_adjudicate(
        claim=c, certainty="low", verdict="partly_supported", rationale="Settled.", adjudicated_by=users["editor"]
    )
    verdict_publish(claim=c, published_by=users["editor"], rationale="Republished after the retraction.")
    assert visible(client, c) == {
        "The other reviewer's reasoning.",
        "Round one.",
        "Round two, not yet published.",
        "The other's round two.",
    }


# --- The claim list's shortcuts: the same answer as DRF's own way, kept per data version -------------------


class _AsDRFWould(s.ClaimDetailSerializer):
    """The claim serializer without the list's shortcuts: fresh nested serializers for every claim, and
    reverse() for every URL."""

    def get_evidence(self, claim):
        return s.EvidenceCountsSerializer(claim).data

    def get_consensus(self, claim):
        consensus = s.published_consensus(claim)
        return s.PublishedConsensusSerializer(consensus).data if consensus is not None else None

    def get_open_flags(self, claim):
        return s.FlagSerializer([f for f in claim.flags.all() if f.status == Flag.Status.OPEN], many=True).data

    def get_closed_flags(self, claim):
        return s.FlagSerializer([f for f in claim.flags.all() if f.status != Flag.Status.OPEN], many=True).data

    def get_citations(self, claim):
        return s.CitationSerializer(claim.citations.all(), many=True, context=self.context).data

    def get_url(self, claim):
        return drf_reverse("api:claim-detail", args=[claim.pk], request=self.context["request"])

    def get_html_url(self, claim):
        return drf_reverse("evidence:claim-detail", args=[claim.pk], request=self.context["request"])


@pytest.mark.slow
def test_the_claim_list_says_what_drf_would_say(client, seed, make_user):
    from reviews.services import flag_close

    publish(claim("K1"))
    flag_close(flag=FlagFactory(claim=claim("K2")), status=Flag.Status.RESOLVED, closed_by=make_user("Editors"))
    listed = {row["id"]: row for row in every(client, reverse("api:claim-list"))}
    request = Request(APIRequestFactory().get("/api/claims/"))
    claims = ClaimViewSet(request=request, action="list", format_kwarg=None).get_queryset()
    expected = json.loads(JSONRenderer().render(_AsDRFWould(claims, many=True, context={"request": request}).data))
    assert len(listed) == len(expected) == 38
    for row in expected:
        shown = listed[row["id"]]
        # the detail's, not the list's
        only_detail = {name: row.pop(name) for name in ("closed_flags", "verdict_versions", "under_rereview")}
        assert list(shown) == list(row) and shown == row, row["key"]
        detail = get(client, reverse("api:claim-detail", args=[row["id"]]))
        assert detail == {**row, **only_detail}, row["key"]
    assert any(row["consensus"] for row in expected) and any(row["citations"] for row in expected)


@pytest.mark.parametrize("script_name", ["", "/evidence"])
def test_record_urls_are_filled_in_as_reverse_would_write_them(script_name):
    request = Request(APIRequestFactory().get("/api/claims/", SCRIPT_NAME=script_name, HTTP_HOST="localhost:8443"))
    set_script_prefix(f"{script_name}/")
    try:
        for name in ("api:claim-detail", "api:study-detail", "api:citation-detail", "evidence:claim-detail"):
            for pk in (1, 7, 918_273_645, 2**62):
                assert s.absolute_url(request, name, pk) == drf_reverse(name, args=[pk], request=request)
        # a slug, or no request, goes through reverse() itself
        assert s.absolute_url(request, "api:article-detail", "a-slug").endswith("/api/articles/a-slug/")
        assert s.absolute_url(None, "api:claim-detail", 3) == "/api/claims/3/".replace("/api", f"{script_name}/api", 1)
    finally:
        set_script_prefix("/")


def test_the_claim_list_is_kept_per_data_version_for_anonymous_clients(client, committed_seed, settings, make_user):
    settings.PAGE_CACHE = True  # off in tests (tests/conftest.py): their transactions never commit
    url = reverse("api:claim-list") + "?substance=MDMA&page_size=5"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert len(queries) == 1 and "evidence_pageversion" in queries[0]["sql"]  # the version; the page is kept
    # another page, other filters or another host are other entries
    assert client.get(url + "&page=2").json()["results"] != first.json()["results"]
    assert Client(HTTP_HOST="localhost").get(url).json()["results"][0]["url"].startswith("http://localhost/")
    # refusals are answered as ever, and never kept
    for _ in range(2):
        assert client.get(url + "&verdict=maybe").status_code == 400
        assert client.get(url + "&page=99").status_code == 404
    # a committed change moves the version: the next request builds the page again
    FlagFactory(claim=Claim.objects.filter(substance="MDMA").order_by("article__title", "start").first())
    with CaptureQueriesContext(connection) as queries:
        changed = client.get(url)
    assert len(queries) > 1 and changed.content != first.content
    # signed in: never from the cache (nothing in the answer differs today, but nothing may come to)
    from rest_framework.authtoken.models import Token

    token = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('Reviewers')).key}")
    token.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert token.get(url).content == changed.content
    assert len(queries) > 2


def test_a_kept_claim_list_still_counts_towards_the_rate(client, committed_seed, settings):
    settings.PAGE_CACHE = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/minute"},
    }
    statuses = [client.get(reverse("api:claim-list")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
