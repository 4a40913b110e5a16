"""Readers' pages: what they show, what their filters do, and how many queries they run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from evidence.citations import references_store
from evidence.models import Article, Claim, Study
from reviews.models import Flag
from reviews.services import claims_send_back
from tests.builders import (
    ArticleFactory,
    FlagFactory,
    ReviewFactory,
    add_claim,
    grow,
    publish,
)

ARTICLE_SLUG = "ketamine-vs-mdma-in-psychotherapy"


def claim(key: str) -> Claim:
    return Claim.objects.get(article__slug=ARTICLE_SLUG, key=key)


# --- Query counts: the same for a small and a large data set --------------------------------------


def count_queries(client, url: str) -> int:
    """Queries of the uncached page (the cached path is tests/test_caching.py's business), in a library
    whose references are formatted (a never-formatted study's first reader stores them: one UPDATE more,
    once, tests/test_citations.py)."""
    references_store(Study.objects.with_references())
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


PAGES: list[tuple[str, Callable[[Article], str], int]] = [
    ("home", lambda a: reverse("evidence:home"), 6),
    ("article", lambda a: a.get_absolute_url(), 8),
    ("claim list", lambda a: reverse("evidence:claim-list"), 6),
    (
        "claim list filtered",
        lambda a: reverse("evidence:claim-list") + "?verdict=supported&flagged=yes&sort=strongest",
        6,
    ),
    ("claim list searched", lambda a: reverse("evidence:claim-list") + "?q=claim+sentence", 6),
    # … plus the claim's verdict versions and its re-review rounds (issue 19)
    ("claim page", lambda a: a.claims.order_by("pk").first().get_absolute_url(), 10),
    ("study list", lambda a: reverse("evidence:study-list"), 6),
    ("study list filtered", lambda a: reverse("evidence:study-list") + "?design=rct&year_min=2000&q=trial", 6),
    ("study page", lambda a: a.claims.order_by("pk").first().citations.first().study.get_absolute_url(), 8),
]


@pytest.mark.parametrize(("name", "url_of", "budget"), PAGES, ids=[p[0] for p in PAGES])
def test_queries_do_not_grow_with_the_data(client, make_user, name, url_of, budget):
    reviewer = make_user("Reviewers")
    article = ArticleFactory()
    grow(article, 2, reviewer)
    few = count_queries(client, url_of(article))
    grow(article, 30, reviewer)
    for _ in range(3):
        grow(ArticleFactory(), 1, reviewer)
    many = count_queries(client, url_of(article))
    assert many == few, f"{name}: {few} queries with 2 claims, {many} with 33: a query runs per row"
    assert many <= budget, f"{name}: {many} queries, budget {budget}"


@pytest.mark.slow
def test_anonymous_pages_write_no_session(client, seed):
    for url in (reverse("evidence:home"), seed.get_absolute_url(), reverse("evidence:claim-list")):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert "Set-Cookie" not in response.headers or "sessionid" not in response.headers["Set-Cookie"]
        assert not [q for q in queries if "django_session" in q["sql"]]


# --- Article page -------------------------------------------------------------------------------


@pytest.mark.slow
def test_article_page_marks_every_claim_where_it_stands(client, seed):
    html = client.get(seed.get_absolute_url()).content.decode()
    # (a claim relying on a retracted study has one class more: test_retraction_display.py)
    links = re.findall(r'<a class="claim status-(\w+)[^"]*" id="claim-(\d+)" href="/claims/(\d+)/"', html)
    assert len(links) == 38
    assert {status for status, _, _ in links} == {"unreviewed"}
    assert all(anchor == target for _, anchor, target in links)
    # every claim's quote is inside its own link, in article order
    for c in seed.claims.order_by("start"):
        assert f'href="/claims/{c.pk}/"' in html
    # section headings stay headings, and the title is the page's only h1
    assert html.count("<h1") == 1
    for heading in seed.headings:
        assert f'<h2 class="article-heading">{escape(heading)}</h2>' in html
    assert "Not yet reviewed" in html  # a text label, not only a colour


def test_article_page_shows_verdicts_and_summary(client, seed, make_user):
    publish(claim("K1"), verdict="supported", certainty="high")
    publish(claim("M1"), verdict="contradicted", certainty="low")
    response = client.get(seed.get_absolute_url())
    html = response.content.decode()
    assert f'class="claim status-supported" id="claim-{claim("K1").pk}"' in html
    assert f'class="claim status-contradicted" id="claim-{claim("M1").pk}"' in html
    summary = response.context["summary"]
    assert summary["total"] == 38 and summary["reviewed"] == 2
    assert {status.key: n for status, n, _ in summary["verdicts"]} == {
        "supported": 1,
        "partly_supported": 0,
        "unsupported": 0,
        "contradicted": 1,
        "unreviewed": 36,
    }
    assert summary["flagged"] == 2  # M10 and M17 rely on a retracted study
    assert summary["relies_on_retracted"] == 2


def test_the_articles_address_without_an_article_leads_to_the_list_of_articles(client, seed):
    response = client.get("/articles/")
    assert response.status_code == 301 and response["Location"] == reverse("evidence:home")
    assert seed.title in client.get(response["Location"]).content.decode()


def test_unknown_article_is_404(client, db):
    assert client.get(reverse("evidence:article-detail", args=["no-such-article"])).status_code == 404


# --- Claim list ---------------------------------------------------------------------------------


def keys(response) -> set[str]:
    return {c.key for c in response.context["page"].object_list}


def all_keys(client, query: str) -> set[str]:
    found: set[str] = set()
    page = 1
    while True:
        response = client.get(f"{reverse('evidence:claim-list')}?{query}&page={page}")
        assert response.status_code == 200
        found |= keys(response)
        if not response.context["page"].has_next():
            return found
        page += 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flagged=yes", {"M10", "M17"}),
        ("retracted=yes", {"M10", "M17"}),
        ("verdict=supported", {"K1"}),
        ("certainty=high", {"K1"}),
        ("status=published", {"K1"}),
        ("claim_type=durability", {"K8", "M14", "K9"}),
    ],
)
def test_claim_filters(client, seed, query, expected):
    publish(claim("K1"), verdict="supported", certainty="high")
    source = {c.key: c for c in Claim.objects.all()}
    if query.startswith("claim_type"):
        expected = {k for k, c in source.items() if c.claim_type == "durability"}
    assert all_keys(client, query) == expected


@pytest.mark.slow
def test_claim_filters_by_substance_article_and_missing_support(client, seed):
    mdma = set(Claim.objects.filter(substance="MDMA").values_list("key", flat=True))
    assert all_keys(client, "substance=MDMA") == mdma
    assert len(all_keys(client, f"article={ARTICLE_SLUG}")) == 38
    other = ArticleFactory()
    lonely = add_claim(other)
    unsupported = all_keys(client, "unsupported=yes")
    assert lonely.key in unsupported
    # a claim whose only supporting study is retracted has no support
    seed_unsupported = {
        c.key
        for c in Claim.objects.filter(article=seed)
        if not c.citations.filter(relation="supports").exclude(study__retraction_status="retracted").exists()
    }
    assert unsupported == seed_unsupported | {lonely.key}
    assert all_keys(client, "verdict=unreviewed") >= seed_unsupported


def select_options(html: str, name: str) -> list[tuple[str, bool, str]]:
    """(value, selected, label as written) of each option of the filter form's ``name`` select."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    assert len(options) == select.group(1).count("<option"), "every option read"
    return [(value, bool(selected), label) for value, selected, label in options]


def test_the_filter_form_lists_every_choice_escaped_and_keeps_the_readers(client, seed):
    tricky = ArticleFactory(title='Ketamine <b>& "MDMA"</b>')
    html = client.get(reverse("evidence:claim-list"), {"article": tricky.slug, "verdict": "supported"}).content
    articles = select_options(html.decode(), "article")
    assert [value for value, _, _ in articles[1:]] == list(
        Article.objects.order_by("title", "pk").values_list("slug", flat=True)
    )
    assert articles[0][:2] == ("", False)  # "any article"
    assert [value for value, selected, _ in articles if selected] == [tricky.slug]
    assert (tricky.slug, True, escape(tricky.title)) in articles
    verdicts = select_options(html.decode(), "verdict")
    assert [value for value, selected, _ in verdicts if selected] == ["supported"]
    # nothing chosen: "All articles" is the one selected
    fresh = client.get(reverse("evidence:claim-list")).content.decode()
    assert [option for option in select_options(fresh, "article") if option[1]] == [("", True, "All articles")]


def test_claim_search_finds_words_in_the_quote(client, seed):
    response = client.get(reverse("evidence:claim-list"), {"q": "NMDA receptors"})
    assert keys(response) == {c.key for c in Claim.objects.filter(quote__icontains="NMDA receptors")}
    assert keys(response)  # the seed has such a claim
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "zebrafish"})) == set()


@pytest.mark.slow
def test_malformed_filters_are_ignored_with_an_error_not_a_crash(client, seed):
    for query in (
        {"verdict": "maybe"},
        {"article": "nope"},
        {"page": "-1"},
        {"page": "x" * 500},
        {"q": "a" * 5000},
        {"sort": "drop table"},
        {"q": "\x00"},
    ):
        response = client.get(reverse("evidence:claim-list"), query)
        assert response.status_code in (200, 400), query


@pytest.mark.slow
def test_pagination_keeps_the_filters(client, seed):
    response = client.get(reverse("evidence:claim-list"), {"verdict": "unreviewed", "sort": "newest"})
    html = response.content.decode()
    assert response.context["page"].has_next()
    assert 'href="?verdict=unreviewed&amp;sort=newest&amp;page=2"' in html


def test_search_uses_the_full_text_index_on_postgresql(seed):
    if connection.vendor != "postgresql":
        pytest.skip("full-text indexes exist on PostgreSQL only; CI runs this on PostgreSQL")
    from evidence.filters import ClaimFilter, StudyFilter

    cases = [
        (ClaimFilter({"q": "ketamine"}, queryset=Claim.objects.all()).qs, "evidence_claim_search_idx"),
        (StudyFilter({"q": "ketamine"}, queryset=Study.objects.all()).qs, "evidence_study_search_idx"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for queryset, index in cases:
            plan = queryset.explain()
            assert index in plan, plan


# --- Claim page ----------------------------------------------------------------------------------


def test_claim_page_shows_studies_by_relation_with_links_and_badges(client, seed):
    response = client.get(claim("M10").get_absolute_url())
    html = response.content.decode()
    groups = dict((relation, [c.study.citation_key for c in cs]) for relation, cs in response.context["groups"])
    assert set(groups["supports"]) == {"feduccia2021", "mitchell2021"}
    assert groups["context"] == ["mitchell2023"]
    assert "⚠ Retracted" in html  # feduccia2021
    assert "Metadata not verified" in html  # mitchell2023
    assert 'href="https://doi.org/10.1007/s00213-020-05710-w"' in html
    assert "Relies on a retracted study" in html  # the open system flag
    assert response.context["claim_review"] is None
    assert "application/ld+json" not in html
    assert "However, it’s essential" in html


@pytest.mark.slow
def test_claim_page_links_pubmed_and_shows_context(client, seed):
    c = claim("K1")
    html = client.get(c.get_absolute_url()).content.decode()
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/26075331/"' in html  # lodge2015
    assert f'href="{c.article.get_absolute_url()}#claim-{c.pk}"' in html
    assert f"<mark>{escape(c.quote)}</mark>" in html


@pytest.mark.slow
def test_claim_page_embeds_claimreview_once_published(client, seed, make_user):
    c = claim("K5")
    reviewer = make_user("Reviewers")
    ReviewFactory(claim=c, reviewer=reviewer, verdict="partly_supported", certainty="moderate")
    publish(c, verdict="partly_supported", certainty="moderate")
    html = client.get(c.get_absolute_url()).content.decode()
    payload = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(payload)
    assert data["@type"] == "ClaimReview"
    assert data["claimReviewed"] == c.quote
    assert data["itemReviewed"]["@type"] == "Claim"
    assert data["itemReviewed"]["appearance"]["headline"] == c.article.title
    assert data["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 3,
        "bestRating": 4,
        "worstRating": 1,
        "alternateName": "Partly supported (moderate certainty evidence)",
    }
    assert data["url"].endswith(c.get_absolute_url())
    assert data["author"]["name"] == "Evidence review"
    assert re.match(r"\d{4}-\d{2}-\d{2}$", data["datePublished"])
    assert "Two consistent trials." in html  # the published review's rationale


def test_claim_page_escapes_user_text_in_html_and_json_ld(client, make_user):
    payload = "</script><script>alert(1)</script>"
    article = ArticleFactory(title=f"Title {payload}")
    c = add_claim(article, sentence=f"A claim with {payload} inside.")
    FlagFactory(claim=c, note=payload)
    publish(c, published_rationale=payload)
    html = client.get(c.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["claimReviewed"] == c.quote  # escaped for HTML, intact as JSON


@pytest.mark.slow
def test_claim_changelog_lists_links_and_flags(client, seed, make_user):
    c = claim("M10")
    response = client.get(c.get_absolute_url())
    whats = [entry.what for entry in response.context["changelog"]]
    assert "Claim recorded" in whats
    assert sum(1 for what in whats if what.startswith("Linked ")) == 3
    assert "Flag raised: Relies on a retracted study" in whats


def test_unknown_claim_and_study_are_404(client, db):
    assert client.get(reverse("evidence:claim-detail", args=[999999])).status_code == 404
    assert client.get(reverse("evidence:study-detail", args=[999999])).status_code == 404


# --- Studies -------------------------------------------------------------------------------------


def study_keys(client, query: dict) -> set[str]:
    response = client.get(reverse("evidence:study-list"), {**query, "page": 1})
    assert response.status_code == 200
    assert response.context["page"].paginator.num_pages == 1 or len(response.context["page"].object_list) == 25
    found = {s.citation_key for s in response.context["page"].object_list}
    pages = response.context["page"].paginator.num_pages
    for page in range(2, pages + 1):
        found |= {
            s.citation_key
            for s in client.get(reverse("evidence:study-list"), {**query, "page": page}).context["page"].object_list
        }
    return found


@pytest.mark.slow
def test_study_filters(client, seed):
    assert study_keys(client, {"retracted": "yes"}) == {"mithoefer2019", "jerome2020", "feduccia2021"}
    assert len(study_keys(client, {"verified": "yes"})) == 35
    assert study_keys(client, {"design": "meta_analysis"}) == set(
        Study.objects.filter(design="meta_analysis").values_list("citation_key", flat=True)
    )
    assert study_keys(client, {"year_min": 2024, "year_max": 2024}) == set(
        Study.objects.filter(year=2024).values_list("citation_key", flat=True)
    )


def test_study_search_by_doi_pmid_author_and_title(client, seed):
    assert study_keys(client, {"q": "https://doi.org/10.1016/S0006-3223(99)00230-9"}) == {"berman2000"}
    assert study_keys(client, {"q": "10686270"}) == {"berman2000"}
    assert "berman2000" in study_keys(client, {"q": "Cappiello"})
    assert "berman2000" in study_keys(client, {"q": "antidepressant effects"})


def test_study_page_lists_the_claims_citing_it(client, seed):
    study = Study.objects.get(citation_key="feduccia2021")
    response = client.get(study.get_absolute_url())
    html = response.content.decode()
    assert {c.claim.key for c in response.context["page"].object_list} == {"M10", "M17"}
    assert "⚠ Retracted" in html and "Retracted by Psychopharmacology" in html
    untitled = Study.objects.get(citation_key="nmda_meta_ajp2015")
    html = client.get(untitled.get_absolute_url()).content.decode()
    assert "[title not confirmed] DOI 10.1176/appi.ajp.2015.15040465" in html
    assert "Metadata not verified" in html


def test_open_flags_show_on_claim_page(client, seed, make_user):
    editor = make_user("Editors")
    c = claim("K2")
    Flag.objects.create(claim=c, reason=Flag.Reason.OVERSTATED, note="Says 'deep' without evidence.", raised_by=editor)
    html = client.get(c.get_absolute_url()).content.decode()
    assert "⚑ Overstated" in html and "without evidence" in html


@pytest.mark.slow
def test_reviews_are_withheld_while_a_published_claim_is_back_in_review(client, seed, make_user):
    c = claim("K5")
    reviewer = make_user("Reviewers")
    ReviewFactory(claim=c, reviewer=reviewer, rationale="Visible once published.")
    publish(c)
    assert "Visible once published." in client.get(c.get_absolute_url()).content.decode()
    claims_send_back(claims=[c], reason="an editor asked", user=make_user("Editors"))
    ReviewFactory(claim=c, reviewer=reviewer, round=2, rationale="The new round's, blind.")
    html = client.get(c.get_absolute_url()).content.decode()
    assert "The new round&#x27;s, blind." not in html and "The new round's, blind." not in html  # blind
    assert "Visible once published." in html  # the published round's reviews stay public
    assert "Reviewed against the cited trials." in html  # the published verdict's rationale stays


def test_undated_articles_come_last_on_the_home_page(client, db):
    from datetime import date

    undated = ArticleFactory(title="Undated")
    dated = ArticleFactory(title="Dated", published_on=date(2024, 5, 1))
    titles = [a.title for a in client.get(reverse("evidence:home")).context["page"].object_list]
    assert titles.index(dated.title) < titles.index(undated.title)


@pytest.mark.slow
def test_an_adjudicated_published_claim_page_stays_within_budget(client, seed, make_user):
    from django.utils import timezone

    c = claim("K1")
    editor = make_user("Editors")
    for _ in range(2):
        ReviewFactory(claim=c, reviewer=make_user("Reviewers"))
    publish(
        c,
        adjudicated_certainty="low",
        adjudicated_verdict="partly_supported",
        adjudication_rationale="The reviewers disagreed on the PTSD evidence.",
        adjudicated_by=editor,
        adjudicated_at=timezone.now(),
        published_by=editor,
    )
    assert count_queries(client, c.get_absolute_url()) <= 10


def test_search_vectors_follow_every_write(client, seed):
    """The stored vectors are the triggers' business: a save, a queryset update and a bulk insert all count."""
    if connection.vendor != "postgresql":
        pytest.skip("stored search vectors exist on PostgreSQL only; CI runs this on PostgreSQL")
    study = Study.objects.get(citation_key="berman2000")
    study.title = "Antidepressant effects of ketamine in depressed patients: a zanzibar revisit"
    study.save()
    assert study_keys(client, {"q": "zanzibar"}) == {"berman2000"}
    Study.objects.filter(citation_key="lodge2015").update(container_title="Quixotic Pharmacology")
    assert study_keys(client, {"q": "quixotic"}) == {"lodge2015"}
    Study.objects.bulk_create([Study(title="Xylophone trial of nothing", doi="10.5555/xylophone")])
    assert [s.title for s in client.get(reverse("evidence:study-list"), {"q": "xylophone"}).context["page"]] == [
        "Xylophone trial of nothing"
    ]


# --- Filter labels -------------------------------------------------------------------------------

FILTER_LABELS = """
import json, django
django.setup()
from evidence.filters import ClaimFilter, StudyFilter
print(json.dumps({name: [str(field.label) for field in f({}).form.fields.values()] for name, f in
                  (("claims", ClaimFilter), ("studies", StudyFilter))}))
"""


def filter_labels() -> dict[str, list[str]]:
    from evidence.filters import ClaimFilter, StudyFilter

    return {
        name: [str(field.label) for field in f({}).form.fields.values()]
        for name, f in (("claims", ClaimFilter), ("studies", StudyFilter))
    }


def test_filter_labels_do_not_depend_on_what_was_requested_first(client, db):
    """A freshly started process labels the filters as readers read them, not after the field names
    ("[invalid name]", "Article slug"), and generating the API schema changes nothing."""
    fresh = subprocess.run(
        [sys.executable, "-c", FILTER_LABELS],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "evidence.settings"},
        cwd=Path(__file__).resolve().parent.parent,
    )
    labels = json.loads(fresh.stdout)
    assert labels["claims"] == [
        "Search claims",
        "Article",
        "Substance",
        "Claim type",
        "Verdict",
        "Certainty",
        "Review status",
        "Has open flags",
        "Relies on a retracted study",
        "Has no supporting study",
        "Sort by",
    ]
    assert client.get(reverse("api:schema")).status_code == 200
    assert filter_labels() == labels
    html = client.get(reverse("evidence:claim-list")).content.decode()
    for label in ("Article", "Verdict", "Certainty"):
        assert f">{label}</label>" in html


# --- A study's line and citation warnings when fields are missing -----------------------------------------


def study_lines(client, q: str) -> list[str]:
    html = client.get(reverse("evidence:study-list"), {"q": q}).content.decode()
    items = re.findall(r'<li class="study-item.*?</li>', html, re.S)
    lines = [re.search(r'<p class="meta">(.*?)</p>', item, re.S) for item in items]
    return [" ".join(re.sub(r"<[^>]+>", " ", line.group(1)).split()) if line else "" for line in lines]


def test_a_study_line_leaves_out_what_is_missing_and_its_separator(client, db):
    Study.objects.create(
        title="Esketamine nasal spray approval letter",
        authors=[{"literal": "U.S. Food and Drug Administration"}],
        year=2024,
        design=Study.Design.REGULATORY,
    )
    Study.objects.create(title="Esketamine without authors", container_title="JAMA", year=2019)
    Study.objects.create(title="Esketamine, journal only", container_title="JAMA")
    Study.objects.create(title="Esketamine, nothing known")
    assert sorted(study_lines(client, "esketamine")) == sorted(
        ["U.S. Food and Drug Administration · 2024", "JAMA · 2019", "JAMA", ""]
    )


def test_citing_a_study_with_no_confirmed_author_says_none_was(client, db):
    none = Study.objects.create(title="A trial nobody signed", year=2020, author_list_complete=False, verified=True)
    some = Study.objects.create(
        title="A trial of many", year=2020, authors=[{"family": "Daly", "given": "E."}], author_list_complete=False
    )
    page = client.get(none.get_absolute_url()).content.decode()
    assert "No author was confirmed" in page and "Only some authors" not in page
    page = client.get(some.get_absolute_url()).content.decode()
    assert "Only some authors were confirmed" in page


# --- Claim search beyond the quote ---------------------------------------------------------------


def test_claim_search_covers_the_evidence_note_the_section_and_the_article_title(client, db):
    """Readers search for what they saw on the claim's card or page: its words, the curator's reading of
    the evidence, the section and the article it comes from. A title change reaches its claims."""
    article = ArticleFactory(title="Psychedelic medicine in the Zanzibar gazette")
    plain = add_claim(article, "Ketamine lifts mood within hours of one infusion.")
    noted = add_claim(
        article, "MDMA makes people feel close to each other.", evidence_note="Only oxytocin proxies measured."
    )
    sectioned = add_claim(ArticleFactory(), "Both drugs raise blood pressure.")
    sectioned.section = "Cardiovascular risks"
    sectioned.save()
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "oxytocin"})) == {noted.key}
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "cardiovascular"})) == {sectioned.key}
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "zanzibar"})) == {plain.key, noted.key}
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "zanzibar infusion"})) == {plain.key}

    article.title = "Psychedelic medicine in the Xylophone herald"
    article.save()
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "xylophone"})) == {plain.key, noted.key}
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "zanzibar"})) == set()
    Article.objects.filter(pk=article.pk).update(title="Quixotic pharmacology weekly")  # no save() signal
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "quixotic"})) == {plain.key, noted.key}
    # and a claim's own note and section follow its writes
    Claim.objects.filter(pk=plain.pk).update(evidence_note="Serotonergic effects unmeasured.")
    assert keys(client.get(reverse("evidence:claim-list"), {"q": "serotonergic"})) == {plain.key}


def test_a_match_in_the_quote_ranks_above_one_in_the_article_title(client, db):
    if connection.vendor != "postgresql":
        pytest.skip("ranking is PostgreSQL's; SQLite keeps the article order")
    article = ArticleFactory(title="Ketamine for everyone")
    in_title = add_claim(article, "MDMA makes people feel close to each other.")
    in_quote = add_claim(article, "Ketamine lifts mood within hours of one infusion.")
    ranked = [c.key for c in client.get(reverse("evidence:claim-list"), {"q": "ketamine"}).context["page"]]
    assert ranked == [in_quote.key, in_title.key]
