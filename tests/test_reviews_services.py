"""The review workflow's services: submitting and editing reviews, adjudication, publication, automatic
flags, the evidence-changed rule, and submissions racing each other on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from evidence.models import Citation, Claim, Study
from evidence.services import (
    article_revise,
    citation_create,
    citation_delete,
    citation_update,
    study_set_retraction,
    study_update,
)
from reviews import queues
from reviews.grade import Grading
from reviews.models import Consensus, Flag, Review
from reviews.services import (
    claim_adjudicate,
    claims_flag_retracted_reliance,
    review_delete,
    review_submit,
    verdict_publish,
)
from tests.builders import article_with_claims, cite, grade_fields, graded, rate, trial

# --- Submitting and editing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_review_creates_it_and_starts_the_claims_review(make_user):
    claim = article_with_claims(1).claims.get()
    reviewer = make_user("Reviewers")
    assert claim.status == Claim.Status.AWAITING_REVIEW
    review = review_submit(
        claim=claim,
        reviewer=reviewer,
        certainty="low",
        verdict="partly_supported",
        rationale="  Two small open-label trials.  ",
        grading=Grading(evidence_design="randomised", risk_of_bias="serious", imprecision="serious"),
        conflict_of_interest="none",
        read_full_text=True,
    )
    review.refresh_from_db()
    assert (review.certainty, review.verdict, review.rationale) == (
        "low",
        "partly_supported",
        "Two small open-label trials.",
    )
    assert review.downgrade_reasons == ["Risk of bias: serious (−1)", "Imprecision: serious (−1)"]
    assert review.computed_certainty == "low" and review.conflict_of_interest == "none"
    assert review.read_full_text
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    assert claim.history.first().history_change_reason == f"review submitted by {reviewer}"


@pytest.mark.django_db
def test_editing_keeps_one_review_and_every_version(make_user):
    claim = article_with_claims(1).claims.get()
    reviewer = make_user("Reviewers")
    low = Grading(evidence_design="randomised", indirectness="very_serious")
    rate(claim, reviewer, "low", "supported", rationale="Trials.", grading=low)
    rate(claim, reviewer, "moderate", "supported", rationale="Trials.")
    rate(claim, reviewer, "moderate", "supported", rationale="Trials.")  # saved again unchanged: confirms it
    review = Review.objects.get(claim=claim, reviewer=reviewer)
    assert Review.objects.filter(claim=claim).count() == 1
    assert (review.certainty, review.indirectness) == ("moderate", "not_serious")
    versions = list(review.history.order_by("history_date").values_list("certainty", "history_change_reason"))
    assert versions == [
        ("low", "submitted"),
        ("moderate", "revised: certainty, indirectness, imprecision"),
        ("moderate", "confirmed unchanged"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"certainty": "certain", "verdict": "supported", "rationale": "x"}, "certainty"),
        ({"certainty": "low", "verdict": "true", "rationale": "x"}, "verdict"),
        ({"certainty": "low", "verdict": "supported", "rationale": "   "}, "rationale"),
        ({"certainty": "low", "verdict": "supported", "rationale": "x", "grading": Grading()}, "evidence_design"),
        (
            {"certainty": "low", "verdict": "supported", "rationale": "x", "grading": Grading("randomised", "vibes")},
            "risk_of_bias",
        ),
        (
            {"certainty": "low", "verdict": "supported", "rationale": "x", "conflict_of_interest": ""},
            "conflict_of_interest",
        ),
        (
            {"certainty": "low", "verdict": "supported", "rationale": "x", "conflict_of_interest": "declared"},
            "conflict_statement",
        ),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(make_user, values, field):
    claim = article_with_claims(1).claims.get()
    with pytest.raises(ValidationError) as refused:
        review_submit(claim=claim, reviewer=make_user("Reviewers"), **{**graded("low"), **values})
    assert field in refused.value.message_dict
    assert not Review.objects.exists() and not Consensus.objects.exists()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_REVIEW


@pytest.mark.django_db
def test_a_published_claim_stays_published_when_a_reviewer_edits(make_user):
    claim = article_with_claims(1).claims.get()
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    rate(claim, anna, "moderate", "supported")
    rate(claim, ben, "moderate", "supported")
    verdict_publish(claim=claim, published_by=make_user("Editors"), rationale="Two RCTs agree.")
    rate(claim, ben, "low", "supported")
    claim.refresh_from_db()
    row = Consensus.objects.get(claim=claim)
    assert claim.status == Claim.Status.PUBLISHED
    # readers still see what was published; the desk offers the changed decision for publication
    assert (row.published_certainty, row.certainty) == ("moderate", "low")
    assert claim in queues.ready_to_publish()


@pytest.mark.django_db
def test_deleting_a_review_refreshes_the_consensus(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "high", "supported")
    second = rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    assert Consensus.objects.get(claim=claim).disputed
    review_delete(review=second)
    row = Consensus.objects.get(claim=claim)
    assert (row.n_reviews, row.certainty, row.disputed) == (1, "high", False)


# --- Two submissions at the same moment (PostgreSQL, separate connections) -------------------------------


def _race(*jobs) -> list[BaseException]:
    """Run each job in its own thread (own database connection), released together by a barrier."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except BaseException as exc:  # noqa: B036 - reported to the test, whatever it is
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_submissions_of_one_review_leave_one_review(make_user):
    claim = article_with_claims(1).claims.get()
    reviewer = make_user("Reviewers")
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(reviewer)
    url = reverse("reviews:review-claim", args=[claim.pk])
    responses = []

    def post(client, verdict):
        data = {"certainty": "low", "verdict": verdict, "rationale": f"Says {verdict}.", **grade_fields("low")}
        return lambda: responses.append(client.post(url, data))

    for _ in range(5):  # several rounds: a race lost once in a while must still be caught
        errors = _race(post(clients[0], "supported"), post(clients[1], "unsupported"))
        assert errors == []
    assert [response.status_code for response in responses] == [302] * 10
    assert Review.objects.filter(claim=claim, reviewer=reviewer).count() == 1
    assert Consensus.objects.get(claim=claim).n_reviews == 1
    assert Review.history.filter(claim_id=claim.pk).count() == 10  # every submission is a version


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_reviewers_submitting_at_once_both_count_in_the_consensus(make_user):
    """Each submission recomputes the consensus; without the claim lock each would see only its own review."""
    article = article_with_claims(5)
    for claim in article.claims.all():
        anna, ben = make_user("Reviewers"), make_user("Reviewers")
        errors = _race(lambda c=claim, r=anna: rate(c, r, "high"), lambda c=claim, r=ben: rate(c, r, "very_low"))
        assert errors == []
        row = Consensus.objects.get(claim=claim)
        assert (row.n_reviews, row.certainty_spread, row.disputed) == (2, 3, True)


# --- Adjudication and publication -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_adjudication_needs_a_rationale_and_a_review(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    with pytest.raises(ValidationError):
        claim_adjudicate(claim=claim, certainty="low", verdict="supported", rationale="Fine.", adjudicated_by=editor)
    rate(claim, make_user("Reviewers"), "high", "supported")
    with pytest.raises(ValidationError) as refused:
        claim_adjudicate(claim=claim, certainty="low", verdict="supported", rationale=" ", adjudicated_by=editor)
    assert "rationale" in refused.value.message_dict
    assert not Consensus.objects.get(claim=claim).is_adjudicated


@pytest.mark.django_db
def test_adjudication_records_who_when_and_why_and_becomes_the_decision(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "contradicted")
    assert claim in queues.disputed()
    row = claim_adjudicate(
        claim=claim, certainty="low", verdict="partly_supported", rationale="Small trials.", adjudicated_by=editor
    )
    row.refresh_from_db()
    assert (row.adjudicated_by, row.adjudication_rationale) == (editor, "Small trials.")
    assert row.adjudicated_at is not None
    assert (row.decision.certainty, row.decision.verdict) == ("low", "partly_supported")
    assert row.history.first().history_change_reason == f"adjudicated by {editor}"
    # the reviews' own consensus is kept alongside the decision
    assert (row.certainty, row.verdict, row.disputed) == ("low", "contradicted", True)
    assert claim not in queues.disputed()
    assert claim in queues.ready_to_publish()


@pytest.mark.django_db
def test_a_review_changed_after_adjudication_puts_a_disputed_claim_back_on_the_desk(make_user):
    claim = article_with_claims(1).claims.get()
    editor, first, second = make_user("Editors"), make_user("Reviewers"), make_user("Reviewers")
    rate(claim, first, "high", "supported")
    rate(claim, second, "very_low", "contradicted")
    claim_adjudicate(
        claim=claim, certainty="low", verdict="partly_supported", rationale="Small trials.", adjudicated_by=editor
    )
    assert claim not in queues.disputed()

    # still disputed, but not what the editor decided on: back on the desk, and not publishable
    assert claim in queues.ready_to_publish()
    rate(claim, second, "very_low", "unsupported")
    assert claim in queues.disputed()
    assert claim not in queues.ready_to_publish()
    with pytest.raises(ValidationError, match="adjudicate again"):
        verdict_publish(claim=claim, published_by=editor)
    page = Client()
    page.force_login(editor)
    assert (
        "A review was saved after the last adjudication."
        in page.get(reverse("reviews:editor-claim", args=[claim.pk])).content.decode()
    )

    # deciding again takes it off, and it can be published
    claim_adjudicate(
        claim=claim, certainty="low", verdict="unsupported", rationale="Looked again.", adjudicated_by=editor
    )
    assert claim not in queues.disputed()
    assert claim in queues.ready_to_publish()

    # a change that ends the dispute leaves the adjudication standing and the desk clear
    rate(claim, second, "high", "supported")
    assert not Consensus.objects.get(claim=claim).disputed
    assert claim not in queues.disputed()


@pytest.mark.django_db
def test_publishing_needs_agreement_or_adjudication(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "high", "supported")
    with pytest.raises(ValidationError, match="1 of the 2 reviews"):
        verdict_publish(claim=claim, published_by=editor, rationale="Fine.")
    rate(claim, make_user("Reviewers"), "low", "supported")
    with pytest.raises(ValidationError, match="disagree"):
        verdict_publish(claim=claim, published_by=editor, rationale="Fine.")
    assert not Consensus.objects.get(claim=claim).is_published
    assert claim not in queues.ready_to_publish()


@pytest.mark.django_db
def test_publishing_snapshots_the_decision(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    claim_adjudicate(
        claim=claim, certainty="low", verdict="partly_supported", rationale="Only in part.", adjudicated_by=editor
    )
    row = verdict_publish(claim=claim, published_by=editor)  # the adjudication's rationale is the summary
    row.refresh_from_db()
    claim.refresh_from_db()
    assert (row.published_certainty, row.published_verdict, row.published_rationale) == (
        "low",
        "partly_supported",
        "Only in part.",
    )
    assert (row.published_by, claim.status) == (editor, Claim.Status.PUBLISHED)
    assert claim not in queues.ready_to_publish()


@pytest.mark.django_db
def test_publishing_without_adjudication_needs_a_summary(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    with pytest.raises(ValidationError) as refused:
        verdict_publish(claim=claim, published_by=make_user("Editors"), rationale="")
    assert "rationale" in refused.value.message_dict
    row = verdict_publish(claim=claim, published_by=make_user("Editors"), rationale="Two RCTs.")
    assert (row.published_certainty, row.published_verdict) == ("moderate", "supported")  # median rounds down


# --- Automatic flags: a retracted study ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_retraction_flags_reliant_claims_once_and_sends_them_back(make_user):
    article = article_with_claims(3)
    relying, mixed, context_only = article.claims.order_by("start")
    paper = trial()
    cite(relying, paper, Citation.Relation.SUPPORTS)
    cite(mixed, paper, Citation.Relation.MIXED)
    cite(context_only, paper, Citation.Relation.CONTEXT)
    for claim in (relying, mixed, context_only):
        rate(claim, make_user("Reviewers"))
        rate(claim, make_user("Reviewers"))
    verdict_publish(claim=relying, published_by=make_user("Editors"), rationale="Fine.")

    study_set_retraction(study=paper, status=Study.RetractionStatus.RETRACTED, note="Retracted for misconduct.")
    flagged = Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE, status=Flag.Status.OPEN, raised_by=None)
    assert set(flagged.values_list("claim_id", "study_id")) == {(relying.pk, paper.pk), (mixed.pk, paper.pk)}
    statuses = dict(Claim.objects.values_list("pk", "status"))
    assert statuses[relying.pk] == statuses[mixed.pk] == Claim.Status.NEEDS_REREVIEW
    assert statuses[context_only.pk] == Claim.Status.IN_REVIEW
    # the single rule runs again (an import, the admin) without a second flag
    assert claims_flag_retracted_reliance(claims=Claim.objects.all()) == []
    assert set(queues.relying_on_retracted_study()) == {relying, mixed}
    # sent back: not publishable again until someone looks again
    with pytest.raises(ValidationError, match="re-review"):
        verdict_publish(claim=relying, published_by=make_user("Editors"), rationale="Again.")
    assert relying in queues.awaiting_reviews() and relying not in queues.ready_to_publish()


@pytest.mark.django_db
def test_a_re_review_returns_the_claim_to_review(make_user):
    claim = article_with_claims(1).claims.get()
    paper = trial()
    cite(claim, paper)
    anna = make_user("Reviewers")
    rate(claim, anna)
    study_set_retraction(study=paper, status=Study.RetractionStatus.RETRACTED)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.NEEDS_REREVIEW
    assert [r.claim_id for r in queues.evidence_changed_since_my_review(anna)] == [claim.pk]
    rate(claim, anna, "very_low", "unsupported")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    assert list(queues.evidence_changed_since_my_review(anna)) == []


# --- Evidence changed since my review ------------------------------------------------------------------


def _changed(reviewer) -> set[int]:
    return {review.claim_id for review in queues.evidence_changed_since_my_review(reviewer)}


SUPPORTS = {"relation": Citation.Relation.SUPPORTS, "note": "Shows it."}


@pytest.mark.django_db
def test_evidence_changed_rule(make_user):
    article = article_with_claims(6)
    added, edited, removed, retracted, untouched, sent_back = article.claims.order_by("start")
    papers = {claim.pk: trial() for claim in article.claims.all()}
    citations = {
        claim.pk: citation_create(claim=claim, study=papers[claim.pk], values=SUPPORTS)
        for claim in article.claims.all()
    }
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    for claim in article.claims.all():
        rate(claim, anna)
    assert _changed(anna) == set()

    citation_create(claim=added, study=trial(), values=SUPPORTS)
    citation_update(citation=citations[edited.pk], values={"note": "On a second reading, it shows less."})
    citation_delete(citation=citations[removed.pk])
    study_set_retraction(study=papers[retracted.pk], status=Study.RetractionStatus.EXPRESSION_OF_CONCERN)
    # not changes of evidence for this rule: a study's other fields, a citation saved as it was
    study_update(study=papers[untouched.pk], values={"sample_size": 41, "retraction_note": "Typo fixed."})
    citation_update(citation=citations[untouched.pk], values=SUPPORTS)
    article_revise(article=article, text=article.text.replace(sent_back.quote, "Something else entirely."), headings=[])

    assert _changed(anna) == {added.pk, edited.pk, removed.pk, retracted.pk, sent_back.pk}
    assert _changed(ben) == set()  # only the reviewer's own reviews
    flags = {review.claim_id: review.evidence_changed for review in queues.my_reviews(anna)}
    assert flags[untouched.pk] is False and flags[added.pk] is True

    # saving the review again, even unchanged, confirms it against the new evidence
    rate(added, anna)
    assert added.pk not in _changed(anna)
    # a claim nobody touched since it was created has no stamp, and has not changed for anyone
    fresh = article_with_claims(1).claims.get()
    rate(fresh, ben)
    assert fresh.evidence_changed_at is None and _changed(ben) == set()


@pytest.mark.django_db
def test_a_retraction_changed_and_changed_back_still_counts_as_a_change(make_user):
    """The rule compares moments, not statuses: the reviewer may have seen the notice in between, so a
    status set and set back is two changes (the old rule, reading the studies' history, saw none)."""
    claim = article_with_claims(1).claims.get()
    paper = trial()
    citation_create(claim=claim, study=paper, values={"relation": Citation.Relation.CONTEXT})
    anna = make_user("Reviewers")
    rate(claim, anna)
    study_set_retraction(study=paper, status=Study.RetractionStatus.CORRECTED)
    assert _changed(anna) == {claim.pk}
    study_set_retraction(study=paper, status=Study.RetractionStatus.NONE)
    assert _changed(anna) == {claim.pk}
    rate(claim, anna)
    assert _changed(anna) == set()


@pytest.mark.django_db
def test_a_quote_lost_in_a_revision_counts_as_changed(make_user):
    article = article_with_claims(2)
    first, second = article.claims.order_by("start")
    anna = make_user("Reviewers")
    rate(first, anna)
    rate(second, anna)
    article_revise(article=article, text=article.text.replace(first.quote, "Something else entirely."), headings=[])
    assert _changed(anna) == {first.pk}


@pytest.mark.django_db
def test_a_claim_sent_back_stays_changed_for_each_reviewer_until_they_confirm(make_user):
    article = article_with_claims(2)
    lost, kept = article.claims.order_by("start")
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    for reviewer in (anna, ben):
        rate(lost, reviewer)
    article_revise(article=article, text=article.text.replace(lost.quote, "Something else entirely."), headings=[])
    rate(lost, ben)  # ben looks again: the claim is back in review
    assert Claim.objects.get(pk=lost.pk).status == Claim.Status.IN_REVIEW
    assert (_changed(anna), _changed(ben)) == ({lost.pk}, set())


def _stamp(claim: Claim):
    return Claim.objects.values_list("evidence_changed_at", flat=True).get(pk=claim.pk)


@pytest.mark.django_db
def test_every_import_that_changes_evidence_stamps_the_claims(seed):
    """The write paths of the importers: a retraction status filled by a bibliography file, a notice of
    the Retraction Watch data set, a citation edited by an article file. The API's and the admin's
    writes are tested where they are (this file's citation_* calls; tests/test_reviews_admin.py)."""
    import dataclasses
    from datetime import date

    from evidence.importers.article import load
    from evidence.importers.retractions import RetractionNotice
    from evidence.services import article_import, bibliography_import, retractions_import
    from tests.conftest import SEED_FILE

    cited = Citation.objects.filter(study__doi__gt="").select_related("claim", "study")
    first, second = cited.order_by("study_id")[:2]
    claims = Claim.objects.filter(citations__study=first.study)
    before = {claim.pk: claim.evidence_changed_at for claim in claims}
    assert all(before.values())  # the seed's import stamped every claim it cited a study for

    bib = (
        f"@article{{x, title = {{{first.study.title}}}, doi = {{{first.study.doi}}}, retractionstatus = {{corrected}}}}"
    )
    report = bibliography_import(data=bib, filename="notice.bib")
    assert report.of("updated") and Study.objects.get(pk=first.study_id).retraction_status == "corrected"
    assert all(_stamp(claim) > before[claim.pk] for claim in claims)

    notice = RetractionNotice(
        source="line 2",
        record_id="1",
        nature="Retraction",
        status=Study.RetractionStatus.RETRACTED,
        date=date(2024, 1, 2),
        notice_doi="10.5555/notice",
        original_doi=second.study.doi,
        original_pmid="",
        reason="Fabrication",
    )
    stamped = _stamp(second.claim)
    retractions_import(notices=[notice])
    assert _stamp(second.claim) > stamped

    bundle = load(SEED_FILE)
    spec = next(spec for spec in bundle.claims if spec.key == first.claim.key)
    spec.citations = [dataclasses.replace(link, note=link.note + " Revised.") for link in spec.citations]
    unrelated = Claim.objects.exclude(pk=first.claim_id).exclude(citations__study=second.study).first()
    stamps = (_stamp(first.claim), _stamp(unrelated))
    article_import(bundle=bundle)
    assert _stamp(first.claim) > stamps[0] and _stamp(unrelated) == stamps[1]


@pytest.mark.django_db
def test_the_generated_library_stamps_claims_as_its_history_tells(make_user):
    """The benchmark's library generator (benchmarks/dataset) has the services stamp evidence_changed_at at
    its events' moments; the stamps must be what migration 0007 reads back from the history tables."""
    import importlib
    import io

    from django.core.management import call_command

    from benchmarks.dataset.command import Command

    make_user("Reviewers")  # the roles exist
    call_command(Command(), articles=3, claims=40, studies=60, reviews=50, seed=3, stdout=io.StringIO())
    migration = importlib.import_module("evidence.migrations.0007_claim_evidence_changed_at")
    expected = migration.evidence_changes(
        Claim, Citation, Citation.history.model, Study.history.model, Claim.history.model
    )
    stored = dict(Claim.objects.values_list("pk", "evidence_changed_at"))
    assert stored == {pk: expected.get(pk) for pk in stored}
