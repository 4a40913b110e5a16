"""The bulk services (evidence.services.bulk, reviews.services' bulk section): the single-row services'
rules for a batch, each write at the moment it was given, its history included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from evidence import caching
from evidence.models import Citation, Claim, Study
from evidence.services.bulk import (
    NewArticle,
    NewCitation,
    NewClaim,
    NewStudy,
    RetractionChange,
    articles_create_bulk,
    citations_create_bulk,
    studies_create_bulk,
    studies_set_retraction_bulk,
)
from reviews.consensus import compute
from reviews.models import Consensus, Flag, Review
from reviews.services import (
    Adjudication,
    Publication,
    ReviewSubmission,
    claims_adjudicate_bulk,
    reviews_submit_bulk,
    verdicts_publish_bulk,
)
from tests.builders import graded

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
QUOTES = ["Ketamine lifts mood within hours.", "MDMA helps with PTSD.", "Psilocybin lasts for months."]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def claims_and_studies(n_studies: int = 2) -> tuple[list[Claim], list[Study]]:
    text = "Drugs in psychiatry\n\n" + " ".join(QUOTES) + "\n"
    [(article, claims)] = articles_create_bulk(
        items=[
            NewArticle(
                values={"slug": "drugs", "title": "Drugs in psychiatry", "text": text},
                at=at(0),
                claims=[
                    NewClaim(quote=quote, at=at(0.5), values={"key": f"C{i}", "claim_type": "efficacy"})
                    for i, quote in enumerate(QUOTES, start=1)
                ],
            )
        ]
    )
    studies = studies_create_bulk(
        items=[NewStudy(values={"title": f"Trial {i}", "doi": f"10.5555/BULK.{i}"}, at=at(1)) for i in range(n_studies)]
    )
    return claims, studies


@pytest.mark.django_db
def test_rows_and_their_history_keep_the_moments_given():
    claims, studies = claims_and_studies()
    claim = Claim.objects.get(pk=claims[0].pk)
    assert (claim.created_at, claim.updated_at, claim.status) == (at(0.5), at(0.5), Claim.Status.AWAITING_REVIEW)
    assert (claim.start, claim.prefix, claim.section) == (len("Drugs in psychiatry\n\n"), "Drugs in psychiatry\n\n", "")
    first = claim.history.get()
    assert (first.history_date, first.created_at, first.history_change_reason) == (at(0.5), at(0.5), "created")
    study = Study.objects.get(pk=studies[0].pk)
    assert study.doi == "10.5555/bulk.0"  # stored normalised, as study_create stores it
    assert study.history.get().history_date == study.created_at == at(1)


@pytest.mark.django_db
def test_a_batch_with_a_bad_record_is_refused_whole_naming_it():
    claims_and_studies()
    with pytest.raises(ValidationError, match=r"10\.5555/bulk\.0 is already recorded for study"):
        studies_create_bulk(
            items=[NewStudy(values={"title": "New"}, at=at(2)), NewStudy(values={"doi": "10.5555/bulk.0"}, at=at(2))]
        )
    with pytest.raises(ValidationError, match="also given to"):
        studies_create_bulk(
            items=[NewStudy(values={"pmid": "123"}, at=at(2)), NewStudy(values={"pmid": "123"}, at=at(2))]
        )
    with pytest.raises(ValidationError, match="does not occur in the article text"):
        articles_create_bulk(
            items=[
                NewArticle(values={"slug": "x", "title": "X", "text": "X\n"}, at=at(2), claims=[NewClaim("Y.", at(2))])
            ]
        )
    assert Study.objects.count() == 2 and not Claim.objects.filter(article__slug="x").exists()


@pytest.mark.django_db
def test_citing_a_retracted_study_flags_the_claim_when_it_is_cited(django_capture_on_commit_callbacks):
    claims, studies = claims_and_studies()
    studies_set_retraction_bulk(items=[RetractionChange(study=studies[0], status="retracted", at=at(2))])
    before = caching.current()[0]
    with django_capture_on_commit_callbacks(execute=True):
        citations_create_bulk(
            items=[
                NewCitation(claims[0], studies[0], at(3), {"relation": "supports"}),
                NewCitation(claims[0], studies[1], at(4), {"relation": "supports"}),
                NewCitation(claims[1], studies[0], at(5), {"relation": "context"}),
            ]
        )
    flag = Flag.objects.get()
    assert (flag.claim_id, flag.study_id, flag.raised_at, flag.is_open) == (claims[0].pk, studies[0].pk, at(3), True)
    # each claim's evidence changed at its latest citation
    stamps = dict(Claim.objects.values_list("pk", "evidence_changed_at"))
    assert (stamps[claims[0].pk], stamps[claims[1].pk], stamps[claims[2].pk]) == (at(4), at(5), None)
    assert Citation.history.filter(history_change_reason="linked").count() == 3
    assert caching.current()[0] > before  # readers' caches retire


@pytest.mark.django_db
def test_reviews_consensus_adjudication_and_publication_follow_the_single_row_rules(make_user):
    claims, studies = claims_and_studies()
    citations_create_bulk(items=[NewCitation(c, studies[0], at(2), {"relation": "supports"}) for c in claims])
    ann, bob, editor = make_user("Reviewers"), make_user("Reviewers"), make_user("Editors")
    reviews_submit_bulk(
        items=[
            ReviewSubmission(claims[0], ann, "high", "supported", "Two trials.", at(3), **graded("high")),
            ReviewSubmission(claims[0], bob, "low", "unsupported", "Small.", at(4), **graded("low")),
            ReviewSubmission(claims[1], ann, "moderate", "supported", "One trial.", at(3), **graded("moderate")),
            ReviewSubmission(claims[1], bob, "moderate", "supported", "A trial.", at(4), **graded("moderate")),
        ]
    )
    reviews_submit_bulk(
        items=[
            ReviewSubmission(claims[1], ann, "moderate", "supported", "One trial. Large.", at(5), **graded("moderate"))
        ]
    )
    disputed, single = Consensus.objects.get(claim=claims[0]), Consensus.objects.get(claim=claims[1])
    expected = compute([("high", "supported"), ("low", "unsupported")])
    assert (disputed.n_reviews, disputed.certainty, disputed.verdict, disputed.disputed) == (
        expected.n_reviews,
        expected.certainty,
        expected.verdict,
        True,
    )
    assert single.last_reviewed_at == at(5) and single.updated_at == at(5)
    revised = Review.objects.get(claim=claims[1], reviewer=ann).history.order_by("history_date")
    assert [(h.history_change_reason, h.history_date) for h in revised] == [
        ("submitted", at(3)),
        ("revised: rationale", at(5)),
    ]
    claim = Claim.objects.get(pk=claims[0].pk)
    assert (claim.status, claim.updated_at) == (Claim.Status.IN_REVIEW, at(3))

    # a disputed claim cannot be published until an editor adjudicates it; the refusal writes nothing
    with pytest.raises(ValidationError, match="reviewers disagree"):
        verdicts_publish_bulk(
            items=[Publication(claims[1], editor, at(6), "Fine."), Publication(claims[0], editor, at(6), "Fine.")]
        )
    assert not Consensus.objects.exclude(published_verdict="").exists()
    claims_adjudicate_bulk(
        items=[Adjudication(claims[0], "low", "partly_supported", "Small trial wins.", editor, at(7))]
    )
    verdicts_publish_bulk(
        items=[Publication(claims[0], editor, at(8)), Publication(claims[1], editor, at(8), "One trial.")]
    )
    published = Consensus.objects.get(claim=claims[0])
    assert (published.published_verdict, published.published_rationale, published.published_at) == (
        "partly_supported",
        "Small trial wins.",
        at(8),
    )
    assert Claim.objects.get(pk=claims[0].pk).history.latest().history_change_reason == f"verdict published by {editor}"


@pytest.mark.django_db
def test_a_retraction_flags_reliant_claims_and_sends_reviewed_ones_back_at_its_moment(make_user):
    claims, studies = claims_and_studies()
    citations_create_bulk(
        items=[NewCitation(c, studies[0], at(2), {"relation": "supports"}) for c in claims[:2]]
        + [NewCitation(claims[2], studies[0], at(2), {"relation": "contradicts"})]
    )
    reviews_submit_bulk(
        items=[
            ReviewSubmission(claims[0], make_user("Reviewers"), "high", "supported", "Yes.", at(3), **graded("high"))
        ]
    )
    studies_set_retraction_bulk(items=[RetractionChange(study=studies[0], status="retracted", at=at(9), note="Fraud.")])
    flags = dict(Flag.objects.values_list("claim_id", "raised_at"))
    assert flags == {claims[0].pk: at(9), claims[1].pk: at(9)}  # not the claim that only contradicts
    reviewed, waiting = Claim.objects.get(pk=claims[0].pk), Claim.objects.get(pk=claims[1].pk)
    assert (reviewed.status, reviewed.updated_at, reviewed.evidence_changed_at) == (
        Claim.Status.NEEDS_REREVIEW,
        at(9),
        at(9),
    )
    assert waiting.status == Claim.Status.AWAITING_REVIEW
    assert Claim.objects.get(pk=claims[2].pk).evidence_changed_at == at(9)  # its evidence changed too
    assert [h.retraction_status for h in Study.objects.get(pk=studies[0].pk).history.order_by("history_date")] == [
        "none",
        "retracted",
    ]
