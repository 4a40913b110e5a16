"""Consensus and agreement, on examples worked out by hand (reviews/consensus.py holds the rules)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reviews import consensus as rules
from reviews.consensus import (
    agreement_by_article,
    certainty_spread,
    compute,
    consensus_refresh,
    krippendorff_alpha,
    majority_verdict,
    median_certainty,
    publish_blockers,
)
from reviews.models import Consensus, Review, decision
from tests.builders import article_with_claims, rate

# --- Median certainty ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("certainties", "median"),
    [
        ([], ""),
        (["moderate"], "moderate"),  # a single reviewer is their own median
        (["high", "low", "very_low"], "low"),  # odd: the middle rank (1, 2, 4 → 2)
        (["high", "high", "low"], "high"),
        # even: the midpoint of the two middle ranks, rounded down
        (["low", "high"], "moderate"),  # (2 + 4) / 2 = 3 exactly
        (["low", "moderate"], "low"),  # (2 + 3) / 2 = 2.5 → 2, the more conservative level
        (["very_low", "high"], "low"),  # (1 + 4) / 2 = 2.5 → 2
        (["moderate", "high"], "moderate"),  # 3.5 → 3
        (["very_low", "low", "moderate", "high"], "low"),  # middle ranks 2 and 3 → 2.5 → 2
        (["high", "high", "moderate", "moderate"], "moderate"),  # a 2–2 tie goes down, never up
    ],
)
def test_median_certainty(certainties, median):
    assert median_certainty(certainties) == median


# --- Majority verdict -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "majority"),
    [
        ([], ""),
        (["partly_supported"], "partly_supported"),  # a single reviewer
        (["supported", "supported", "unsupported"], "supported"),
        (["contradicted", "supported", "supported"], "supported"),  # majority wins whatever its direction
        # ties for most votes go to the verdict least favourable to the claim
        (["supported", "unsupported"], "unsupported"),
        (["supported", "partly_supported"], "partly_supported"),
        (["unsupported", "contradicted"], "contradicted"),
        (["supported", "supported", "partly_supported", "partly_supported", "contradicted"], "partly_supported"),
        (["supported", "partly_supported", "unsupported"], "unsupported"),  # a three-way tie
    ],
)
def test_majority_verdict(verdicts, majority):
    assert majority_verdict(verdicts) == majority


def test_spread_and_disputed():
    assert certainty_spread([]) == 0
    assert certainty_spread(["low"]) == 0
    assert certainty_spread(["very_low", "high"]) == 3
    # one level apart with the same verdict: agreement enough
    agreed = compute([("moderate", "supported"), ("high", "supported")])
    assert (agreed.certainty_spread, agreed.verdict_split, agreed.disputed) == (1, False, False)
    # two levels apart: disputed even though the verdicts agree
    apart = compute([("low", "supported"), ("high", "supported")])
    assert (apart.certainty_spread, apart.verdict_split, apart.disputed) == (2, False, True)
    # same certainty, different verdicts: disputed
    split = compute([("low", "supported"), ("low", "partly_supported")])
    assert (split.certainty_spread, split.verdict_split, split.disputed) == (0, True, True)
    single = compute([("very_low", "contradicted")])
    assert single == rules.ConsensusValues(1, "very_low", "contradicted", 0, False, False)


# --- Krippendorff's alpha (ordinal), worked by hand ---------------------------------------------------------
#
# Ordinal metric: δ²(c, k) = (Σ_{g=c..k} n_g − (n_c + n_k) / 2)², with n_g how often rank g occurs among
# the pairable values; alpha = 1 − (n − 1) · Σ o_ck δ²_ck / Σ n_c n_k δ²_ck over c ≠ k.


def test_alpha_two_reviewers_three_claims():
    # A: high, moderate, very low; B: high, low, very low.  Ranks 4,3,1 / 4,2,1; n = 6.
    # n_1 = 2, n_2 = 1, n_3 = 1, n_4 = 2.  Only claim 2 disagrees: o_23 = o_32 = 1, δ²_23 = (2 − 1)² = 1.
    # Σ n n δ² = 2 · (2·1·2.25 + 2·1·6.25 + 2·2·16 + 1·1·1 + 1·2·6.25 + 1·2·2.25) = 198.
    # alpha = 1 − 5 · 2 / 198 = 188 / 198.
    ratings = [
        ("A", 1, "high"),
        ("A", 2, "moderate"),
        ("A", 3, "very_low"),
        ("B", 1, "high"),
        ("B", 2, "low"),
        ("B", 3, "very_low"),
    ]
    result = krippendorff_alpha(ratings)
    assert result.alpha == pytest.approx(188 / 198)
    assert (result.n_claims, result.n_reviews, result.n_reviewers) == (3, 6, 2)


def test_alpha_with_ties_missing_values_and_a_single_rating():
    # Claim 1: A high, B high, C moderate; claim 2: A low, B low; claim 3: A very low, C low;
    # claim 4: A only (not pairable, left out).  Pairable values n = 7: n_1 = 1, n_2 = 3, n_3 = 1, n_4 = 2.
    # Claim 1 (m = 3) adds 1 to o_44, o_34, o_43; claim 2 adds 2 to o_22; claim 3 adds 1 to o_12, o_21.
    # δ²_12 = (4 − 2)² = 4, δ²_34 = (3 − 1.5)² = 2.25 → Σ o δ² = 2 · 2.25 + 2 · 4 = 12.5.
    # Σ n n δ² = 2 · (3·4 + 1·16 + 2·30.25 + 3·4 + 6·12.25 + 2·2.25) = 357.
    # alpha = 1 − 6 · 12.5 / 357 = 282 / 357.
    ratings = [
        ("A", 1, "high"),
        ("B", 1, "high"),
        ("C", 1, "moderate"),
        ("A", 2, "low"),
        ("B", 2, "low"),
        ("A", 3, "very_low"),
        ("C", 3, "low"),
        ("A", 4, "moderate"),
    ]
    result = krippendorff_alpha(ratings)
    assert result.alpha == pytest.approx(282 / 357)
    assert (result.n_claims, result.n_reviews, result.n_reviewers) == (3, 7, 3)


def test_alpha_below_zero_when_reviewers_systematically_disagree():
    # A: very low, high; B: high, very low.  n_1 = n_4 = 2, δ²_14 = (4 − 2)² = 4;
    # Σ o δ² = 4 · 4 = 16, Σ n n δ² = 2 · 2 · 2 · 4 = 32 → alpha = 1 − 3 · 16 / 32 = −0.5.
    result = krippendorff_alpha([("A", 1, "very_low"), ("B", 1, "high"), ("A", 2, "high"), ("B", 2, "very_low")])
    assert result.alpha == pytest.approx(-0.5)


def test_alpha_is_undefined_for_a_single_reviewer():
    result = krippendorff_alpha([("A", 1, "high"), ("A", 2, "low"), ("A", 3, "moderate")])
    assert result.alpha is None and not result.defined
    assert (result.n_claims, result.n_reviews) == (0, 0)
    assert "two reviewers" in result.reason


def test_alpha_is_undefined_when_every_review_gives_the_same_certainty():
    # expected disagreement is 0: alpha is 0/0, not 1
    result = krippendorff_alpha([("A", 1, "low"), ("B", 1, "low"), ("A", 2, "low"), ("B", 2, "low")])
    assert result.alpha is None
    assert (result.n_claims, result.n_reviews, result.n_reviewers) == (2, 4, 2)


def test_alpha_is_undefined_with_no_reviews():
    assert krippendorff_alpha([]).alpha is None


# --- The Consensus row, written by the services ---------------------------------------------------------


@pytest.mark.django_db
def test_consensus_row_follows_the_reviews(make_user):
    claim = article_with_claims(1).claims.get()
    anna, ben, cleo = (make_user("Reviewers") for _ in range(3))
    rate(claim, anna, "high", "supported")
    row = Consensus.objects.get(claim=claim)
    assert (row.n_reviews, row.certainty, row.verdict, row.disputed) == (1, "high", "supported", False)
    rate(claim, ben, "low", "partly_supported")
    row.refresh_from_db()
    # median of high and low is moderate; a 1–1 verdict tie goes to partly supported
    assert (row.n_reviews, row.certainty, row.verdict) == (2, "moderate", "partly_supported")
    assert (row.certainty_spread, row.verdict_split, row.disputed) == (2, True, True)
    rate(claim, cleo, "moderate", "partly_supported")
    row.refresh_from_db()
    assert (row.n_reviews, row.certainty, row.verdict, row.disputed) == (3, "moderate", "partly_supported", True)
    assert row.last_reviewed_at == Review.objects.filter(claim=claim).latest("updated_at").updated_at


@pytest.mark.django_db
def test_refresh_without_change_writes_no_history(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "high", "supported")
    versions = Consensus.history.filter(claim_id=claim.pk).count()
    consensus_refresh(claim=claim)
    consensus_refresh(claim=claim)
    assert Consensus.history.filter(claim_id=claim.pk).count() == versions


@pytest.mark.django_db
def test_adjudication_is_the_decision_and_the_sql_twin_agrees(make_user):
    claims = list(article_with_claims(2).claims.all())
    editor = make_user("Editors")
    for claim in claims:
        rate(claim, make_user("Reviewers"), "high", "supported")
        rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    row = Consensus.objects.get(claim=claims[0])
    assert decision(row).verdict == "unsupported" and not decision(row).adjudicated
    Consensus.objects.filter(claim=claims[0]).update(
        adjudicated_certainty="low",
        adjudicated_verdict="partly_supported",
        adjudication_rationale="The RCTs are small.",
        adjudicated_by=editor,
        adjudicated_at=timezone.now(),
    )
    row.refresh_from_db()
    assert (decision(row).certainty, decision(row).verdict, decision(row).adjudicated) == (
        "low",
        "partly_supported",
        True,
    )
    assert row.decision == decision(row)
    for annotated in Consensus.objects.filter(claim__in=claims).with_decision():
        assert (annotated.decision_certainty, annotated.decision_verdict) == (
            decision(annotated).certainty,
            decision(annotated).verdict,
        )


@pytest.mark.django_db
def test_publish_blockers(make_user):
    claim = article_with_claims(1).claims.get()
    assert publish_blockers(claim, None) == ["nobody has reviewed this claim yet"]
    rate(claim, make_user("Reviewers"), "high", "supported")
    claim.refresh_from_db()
    assert "1 of the 2 reviews" in publish_blockers(claim, Consensus.objects.get(claim=claim))[0]
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    assert publish_blockers(claim, Consensus.objects.get(claim=claim)) == []
    rate(claim, make_user("Reviewers"), "very_low", "supported")
    assert any("disagree" in reason for reason in publish_blockers(claim, Consensus.objects.get(claim=claim)))


@pytest.mark.django_db
def test_agreement_by_article_keeps_articles_apart(make_user):
    first, second = article_with_claims(3), article_with_claims(2)
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    # first article: the hand-worked 188/198 example
    for claim, (a, b) in zip(
        first.claims.order_by("start"), [("high", "high"), ("moderate", "low"), ("very_low", "very_low")], strict=True
    ):
        rate(claim, anna, a)
        rate(claim, ben, b)
    # second article: one reviewer only
    for claim in second.claims.all():
        rate(claim, anna, "low")
    result = agreement_by_article()
    assert result[first.pk].alpha == pytest.approx(188 / 198)
    assert (result[first.pk].n_claims, result[first.pk].n_reviews) == (3, 6)
    assert result[second.pk].alpha is None
    assert agreement_by_article([second.pk]).keys() == {second.pk}
