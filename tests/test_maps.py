"""The evidence maps' numbers against the database, for the seed article and a generated data set."""

from __future__ import annotations

import random

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.maps import DESIGN_COLUMNS
from evidence.models import Article, Citation, Claim, ClaimType, Relation, Study
from reviews.models import Verdict
from tests.builders import ArticleFactory, CitationFactory, StudyFactory, add_claim, publish


def expected_cell(claim: Claim, designs: tuple[str, ...]) -> dict[str, int]:
    """Counted straight from the database with one filter per number: independent of evidence/maps.py."""
    citations = Citation.objects.filter(claim=claim, study__design__in=designs)
    return {
        "supports": citations.filter(relation=Relation.SUPPORTS).count(),
        "mixed": citations.filter(relation=Relation.MIXED).count(),
        "contradicts": citations.filter(relation=Relation.CONTRADICTS).count(),
        "retracted": citations.exclude(relation=Relation.CONTEXT).filter(study__retraction_status="retracted").count(),
    }


def assert_map_matches_database(client, article: Article) -> None:
    response = client.get(reverse("evidence:article-map", args=[article.slug]))
    assert response.status_code == 200
    rows = [row for group in response.context["groups"] for row in group.rows]
    assert len(rows) == article.claims.count()
    for row in rows:
        for column, cell in zip(DESIGN_COLUMNS, row.cells, strict=True):
            shown = {
                "supports": cell.supports,
                "mixed": cell.mixed,
                "contradicts": cell.contradicts,
                "retracted": cell.retracted,
            }
            assert shown == expected_cell(row.claim, column.designs), (row.claim.key, column.key)
        has_evidence = Citation.objects.filter(claim=row.claim).exclude(relation=Relation.CONTEXT).exists()
        assert row.empty is (not has_evidence)


@pytest.mark.slow
def test_seed_map_matches_the_database(client, seed):
    assert_map_matches_database(client, seed)
    response = client.get(reverse("evidence:article-map", args=[seed.slug]))
    html = response.content.decode()
    # the three retracted MDMA papers are marked where they are counted (M10 and M17 cite feduccia2021)
    assert html.count('class="sym sym-retracted">†') >= 2
    # design columns run strongest to weakest
    labels = [column.label for column in response.context["columns"]]
    assert labels[:2] == ["Meta-analysis / systematic review", "Randomised trial"]
    # all seed claims except those citing only context or nothing are non-empty rows
    assert response.context["n_empty"] == sum(
        1 for c in seed.claims.all() if not c.citations.exclude(relation=Relation.CONTEXT).exists()
    )


def generate(seed_value: int, n_claims: int = 40) -> Article:
    rng = random.Random(seed_value)
    article = ArticleFactory()
    designs = list(Study.Design.values)
    studies = [
        StudyFactory(design=rng.choice(designs), retraction_status=rng.choice(["none"] * 9 + ["retracted"]))
        for _ in range(30)
    ]
    for i in range(n_claims):
        claim = add_claim(
            article, substance=rng.choice(["ketamine", "MDMA", "psilocybin"]), claim_type=rng.choice(ClaimType.values)
        )
        for study in rng.sample(studies, rng.randint(0, 6)):
            CitationFactory(claim=claim, study=study, relation=rng.choice(Relation.values))
        if i % 3 == 0:
            publish(
                claim, verdict=rng.choice(Verdict.values), certainty=rng.choice(["high", "moderate", "low", "very_low"])
            )
    return article


@pytest.mark.slow
def test_generated_map_matches_the_database(client, db):
    article = generate(7)
    assert_map_matches_database(client, article)
    response = client.get(reverse("evidence:article-map", args=[article.slug]) + "?group=substance")
    groups = response.context["groups"]
    assert [g.label for g in groups] == sorted({c.substance for c in article.claims.all()}, key=str.lower)
    assert sum(len(g.rows) for g in groups) == 40


def test_summary_counts_match_the_database(client, db):
    article = generate(11)
    summary = client.get(reverse("evidence:article-map", args=[article.slug])).context["summary"]
    claims = Claim.objects.filter(article=article)
    verdicts = {status.key: n for status, n, _ in summary["verdicts"]}
    for verdict in Verdict.values:
        assert verdicts[verdict] == claims.filter(consensus__published_verdict=verdict).count()
    assert verdicts["unreviewed"] == claims.filter(consensus__isnull=True).count()
    certainties = dict((label, n) for label, n, _ in summary["certainties"])
    assert certainties["High"] == claims.filter(consensus__published_certainty="high").count()
    assert summary["no_support"] == sum(
        1
        for c in claims
        if not c.citations.filter(relation="supports").exclude(study__retraction_status="retracted").exists()
    )
    assert (
        summary["relies_on_retracted"]
        == claims.filter(citations__relation__in=["supports", "mixed"], citations__study__retraction_status="retracted")
        .distinct()
        .count()
    )


def test_gap_map_counts_claims_by_substance_and_type(client, db):
    a, b = generate(3, 25), generate(4, 25)
    response = client.get(reverse("evidence:gap-map"))
    rows = dict(response.context["map"]["rows"])
    for substance, cells in rows.items():
        for cell in cells:
            claims = Claim.objects.filter(article__in=[a, b], substance=substance, claim_type=cell.claim_type)
            assert cell.total == claims.count()
            assert cell.verdicts.get("unreviewed", 0) == claims.filter(consensus__isnull=True).count()
            for verdict in Verdict.values:
                assert cell.verdicts.get(verdict, 0) == claims.filter(consensus__published_verdict=verdict).count()
    assert "not yet claimed" in response.content.decode() or all(
        cell.total for cells in rows.values() for cell in cells
    )


@pytest.mark.parametrize("url_name", ["evidence:article-map", "evidence:gap-map"])
def test_map_queries_do_not_grow(client, db, url_name):
    article = generate(1, 5)

    def url() -> str:
        return reverse(url_name, args=[article.slug]) if url_name == "evidence:article-map" else reverse(url_name)

    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    cache.clear()  # measure the uncached page again
    for _ in range(40):
        claim = add_claim(article)
        CitationFactory(claim=claim)
    generate(2, 20)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url()).status_code == 200
    assert len(many) == len(few) <= 4


def test_unknown_article_map_is_404(client, db):
    assert client.get(reverse("evidence:article-map", args=["missing"])).status_code == 404
