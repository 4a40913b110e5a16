"""The benchmark's synthetic library (benchmarks/dataset) at a tiny scale: every rule the models and
services keep holds, and a seed is a library."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from benchmarks.dataset import generator as synthetic
from benchmarks.dataset.command import Command
from evidence import caching
from evidence.anchoring import anchor_at
from evidence.models import RELIANT_RELATIONS, Article, Citation, Claim, Relation, RetractionStatus, Study
from reviews.consensus import compute, publish_blockers
from reviews.models import Consensus, Flag, Review
from tests.builders import ArticleFactory

SMALL = {"articles": 3, "claims": 40, "studies": 60, "reviews": 50}
LIBRARY = (Article, Claim, Study, Citation, Review, Consensus, Flag)


@pytest.fixture
def roles(make_user) -> None:
    """The Reviewers, Editors and Curators groups (make_user recreates them after a flushing test)."""


def generate(seed: int = 7, **options) -> str:
    out = io.StringIO()
    call_command(Command(), **{**SMALL, **options}, seed=seed, stdout=out)
    return out.getvalue()


def test_counts_match_the_arguments(roles):
    output = generate()
    assert Article.objects.count() == 3
    assert Claim.objects.count() == 40
    assert Study.objects.count() == 60
    assert Review.objects.count() == 50
    assert "Generated a library with seed 7" in output
    # claims per article vary; every claim cites 1 to 8 studies and has 0 to 4 reviews
    per_article = Counter(Claim.objects.values_list("article_id", flat=True))
    assert len(set(per_article.values())) > 1
    citations = Counter(Citation.objects.values_list("claim_id", flat=True))
    assert set(citations) == set(Claim.objects.values_list("pk", flat=True))
    assert all(1 <= n <= 8 for n in citations.values())
    assert set(Citation.objects.values_list("relation", flat=True)) == set(Relation.values)
    reviews = Counter(Review.objects.values_list("claim_id", flat=True))
    assert all(1 <= n <= 4 for n in reviews.values())
    assert len(reviews) < 40  # some claims are not reviewed yet
    # reviews come from a pool of reviewers, each in the Reviewers group
    reviewers = User.objects.filter(reviews__isnull=False).distinct()
    assert reviewers.count() >= 4
    assert all(user.groups.filter(name="Reviewers").exists() for user in reviewers)
    assert Flag.objects.filter(status=Flag.Status.OPEN).exists()


@pytest.mark.slow
def test_every_constraint_holds(roles):
    generate()
    # COPY checks CHECK and UNIQUE constraints as it goes; foreign keys wait for the commit, which a
    # test's transaction never reaches, so check them now
    connection.check_constraints()
    for model in LIBRARY:
        for obj in model.objects.all():
            obj.full_clean()


def test_claims_are_anchored_in_their_article(roles):
    generate()
    for article in Article.objects.prefetch_related("claims"):
        assert article.text.startswith(article.title + "\n")
        keys = [claim.key for claim in article.claims.all()]
        assert len(keys) == len(set(keys))
        for claim in article.claims.all():
            assert article.text[claim.start : claim.end] == claim.quote
            assert article.text.count(claim.quote) == 1, claim.quote
            anchor = anchor_at(article.text, claim.start, claim.end)
            assert (claim.prefix, claim.suffix) == (anchor.prefix, anchor.suffix)
            assert claim.section in ["", *article.headings]


def test_consensus_and_status_follow_the_reviews(roles):
    generate()
    for claim in Claim.objects.prefetch_related("reviews").select_related("consensus"):
        reviews = list(claim.reviews.all())
        if not reviews:
            assert claim.status == Claim.Status.AWAITING_REVIEW
            assert not Consensus.objects.filter(claim=claim).exists()
            continue
        consensus = claim.consensus
        expected = compute((review.certainty, review.verdict) for review in reviews)
        assert (consensus.n_reviews, consensus.certainty, consensus.verdict) == (
            expected.n_reviews,
            expected.certainty,
            expected.verdict,
        )
        assert consensus.disputed == expected.disputed
        assert consensus.last_reviewed_at == max(review.updated_at for review in reviews)
        if consensus.is_published:
            assert (consensus.published_certainty, consensus.published_verdict) == (
                consensus.decision.certainty,
                consensus.decision.verdict,
            )
            assert claim.status in (Claim.Status.PUBLISHED, Claim.Status.NEEDS_REREVIEW)
            # published only when publish_blockers() allowed it: adjudicated, or two reviews agreeing
            assert consensus.is_adjudicated or (consensus.n_reviews >= 2 and not consensus.disputed)
        else:
            assert claim.status in (Claim.Status.IN_REVIEW, Claim.Status.NEEDS_REREVIEW)
    assert Consensus.objects.exclude(published_verdict="").exists()


def test_claims_relying_on_a_retracted_study_are_flagged(roles):
    generate(studies=100, claims=200, reviews=300)  # 1 study in 100 is retracted; enough citations to cite it
    assert Study.objects.filter(retraction_status=RetractionStatus.RETRACTED).count() == 1
    reliant = set(
        Citation.objects.filter(
            relation__in=RELIANT_RELATIONS, study__retraction_status=RetractionStatus.RETRACTED
        ).values_list("claim_id", "study_id")
    )
    flagged = set(Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE).values_list("claim_id", "study_id"))
    assert reliant and reliant == flagged


def test_history_starts_with_each_row_and_ends_with_its_current_values(roles):
    generate()
    for model in LIBRARY:
        history = model.history.model
        pk = model._meta.pk.attname
        first = dict(history.objects.filter(history_type="+").values_list(pk, "history_date"))
        assert set(first) == set(model.objects.values_list("pk", flat=True)), model
        assert not history.objects.exclude(history_type__in=["+", "~"]).exists()
    for claim in Claim.objects.all():
        latest = claim.history.order_by("-history_date", "-history_id").first()
        assert (latest.status, latest.updated_at) == (claim.status, claim.updated_at)
    for study in Study.objects.filter(retraction_status=RetractionStatus.RETRACTED):
        versions = list(study.history.order_by("history_date").values_list("retraction_status", flat=True))
        assert versions == [RetractionStatus.NONE, RetractionStatus.RETRACTED]


@pytest.mark.slow
def test_every_verdict_was_publishable_at_the_moment_it_was_published(roles):
    """The services published it, so publish_blockers allowed it then: the claim and its consensus as the
    history has them just before the publication."""
    generate(studies=100, claims=200, reviews=500)
    published = list(Consensus.objects.exclude(published_at=None))
    assert len(published) > 20
    for consensus in published:
        just_before = consensus.published_at - timedelta(microseconds=1)
        claim_then = Claim.history.as_of(just_before).get(pk=consensus.claim_id)
        consensus_then = Consensus.history.as_of(just_before).get(claim_id=consensus.claim_id)
        assert publish_blockers(claim_then, consensus_then) == [], consensus.claim_id


def test_every_row_and_every_change_is_in_the_history_at_its_moment(roles):
    generate()
    for model in LIBRARY:
        pk = model._meta.pk.attname
        tracked = [f.attname for f in model.history.model.tracked_fields]
        latest = {row[pk]: row for row in model.history.order_by("history_date", "history_id").values(pk, *tracked)}
        for row in model.objects.values(pk, *tracked):
            assert {name: latest[row[pk]][name] for name in tracked} == row, (model, row[pk])
        # moments as drawn, before REFERENCE_TIME: not the moment the generator ran
        assert not model.history.filter(history_date__gt=synthetic.REFERENCE_TIME).exists(), model
        stamp = next((name for name in ("created_at", "raised_at") if name in tracked), None)
        if stamp is not None:
            created = model.history.filter(history_type="+").values_list(pk, "history_date", stamp)
            assert all(when == stamped for _, when, stamped in created), model


@pytest.mark.slow
def test_reviewed_claims_go_back_for_re_review_when_a_study_they_rely_on_is_retracted(roles):
    generate(studies=200, claims=400, reviews=1000)
    sent_back = 0
    for flag in Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE).select_related("claim"):
        claim_then = Claim.history.as_of(flag.raised_at - timedelta(microseconds=1)).get(pk=flag.claim_id)
        if claim_then.status in (Claim.Status.IN_REVIEW, Claim.Status.PUBLISHED):
            assert flag.claim.history.filter(history_date=flag.raised_at, status=Claim.Status.NEEDS_REREVIEW).exists()
            sent_back += 1
    assert sent_back


def fingerprint() -> list[str]:
    """The library's content, independent of primary keys (which come from the sequences)."""
    rows = [
        *Article.objects.values_list("slug", "title", "text", "headings", "published_on", "created_at"),
        *Claim.objects.values_list(
            "article__slug",
            "key",
            "quote",
            "start",
            "end",
            "section",
            "substance",
            "claim_type",
            "status",
            "updated_at",
        ),
        *Study.objects.values_list(
            "doi", "pmid", "title", "authors", "year", "design", "sample_size", "abstract", "retraction_status"
        ),
        *Citation.objects.values_list("claim__article__slug", "claim__key", "study__doi", "study__title", "relation"),
        *Review.objects.values_list(
            "claim__article__slug", "claim__key", "reviewer__username", "certainty", "verdict", "created_at"
        ),
        *Consensus.objects.values_list("claim__article__slug", "claim__key", "published_verdict", "published_at"),
        *Flag.objects.values_list("claim__article__slug", "claim__key", "reason", "status", "raised_at"),
        *[(model.__name__, model.history.count()) for model in LIBRARY],
    ]
    return sorted(map(repr, rows))


def test_the_same_seed_gives_the_same_library(roles):
    generate(seed=7)
    first = fingerprint()
    generate(seed=7, force=True)
    assert fingerprint() == first
    generate(seed=8, force=True)
    assert fingerprint() != first


def test_refuses_a_database_that_holds_a_library(roles):
    ArticleFactory()
    with pytest.raises(CommandError, match="already holds"):
        generate()
    assert Article.objects.count() == 1 and not Study.objects.exists()


def test_append_adds_to_the_library_and_force_replaces_it(roles):
    generate(seed=7)
    generate(seed=7, append=True)
    assert (Claim.objects.count(), Study.objects.count(), Review.objects.count()) == (80, 120, 100)
    assert Article.objects.values("slug").distinct().count() == 6
    connection.check_constraints()
    generate(seed=9, force=True)
    assert (Claim.objects.count(), Study.objects.count(), Review.objects.count()) == (40, 60, 50)


def test_generation_moves_the_data_version_so_caches_drop_old_pages(roles, django_capture_on_commit_callbacks):
    before, _ = caching.current()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        generate()
    assert callbacks
    assert caching.current()[0] > before


def test_dry_run_writes_nothing(roles):
    output = generate(dry_run=True)
    assert "rolled back" in output
    assert not any(model.objects.exists() for model in LIBRARY)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"claims": 10, "reviews": 41}, "more than 4 per claim"),
        ({"studies": 0}, "need studies"),
        ({"articles": 0}, "at least one article"),
        ({"claims": -1}, "must not be negative"),
    ],
)
def test_impossible_sizes_are_refused(roles, options, message):
    with pytest.raises(CommandError, match=message):
        generate(**options)


def test_the_benchmark_article_has_100_claims(roles):
    generate(articles=4, claims=260, studies=80, reviews=300)
    counts = Counter(Claim.objects.values_list("article__slug", flat=True))
    assert synthetic.BENCHMARK_ARTICLE_CLAIMS in counts.values()


def test_pages_render_on_the_generated_library(roles, client):
    generate()
    claim = Claim.objects.filter(consensus__published_verdict__gt="").first() or Claim.objects.first()
    study = Study.objects.filter(citations__isnull=False).first()
    for url in (
        reverse("evidence:home"),
        claim.article.get_absolute_url(),
        reverse("evidence:article-map", args=[claim.article.slug]),
        reverse("evidence:claim-list") + "?q=ketamine",
        claim.get_absolute_url(),
        reverse("evidence:study-list") + "?design=rct",
        study.get_absolute_url(),
    ):
        assert client.get(url).status_code == 200, url
    client.force_login(User.objects.filter(groups__name="Reviewers").first())
    assert client.get(reverse("reviews:queue")).status_code == 200
