"""Writes racing each other on PostgreSQL: no duplicate rows, no lost update, no exception.

Each test starts its writers in threads released together by a barrier. Every thread has its own
database connection (Django's connections are per thread) and closes it when done; transactional_db
lets the threads see each other's commits, as separate requests or processes would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from evidence.importers.records import StudyRecord
from evidence.models import Study
from evidence.services import ImportReport, bibliography_import, study_upsert
from reviews.models import Certainty, Consensus, Review
from reviews.services import claim_adjudicate, review_submit
from tests.builders import article_with_claims, graded


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL (CI uses it)")


def run_together(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each call in its own thread, all released at once; re-raise the first exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = call()
        except BaseException as exc:  # noqa: B036 - reported to the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck (a deadlock?)"
    if errors:
        raise errors[0]
    return results


# --- Reviews ---------------------------------------------------------------------------------------------


def test_one_reviewer_submitting_the_same_review_at_once_gets_one_review(make_user):
    """A double click, or two tabs: one row, each submission in its history, a consistent consensus."""
    claim = article_with_claims(1).claims.get()
    reviewer = make_user("Reviewers")
    certainties = ["high", "moderate", "low", "very_low", "moderate", "low"]

    def submit(certainty: str) -> Callable[[], Review]:
        return lambda: review_submit(
            claim=claim,
            reviewer=reviewer,
            certainty=certainty,
            verdict="supported",
            rationale=f"Rated {certainty}.",
            **graded(certainty),
        )

    run_together(*(submit(c) for c in certainties))
    review = Review.objects.get(claim=claim, reviewer=reviewer)
    assert review.history.count() == len(certainties)
    consensus = Consensus.objects.get(claim=claim)
    assert consensus.n_reviews == 1
    assert consensus.certainty == review.certainty  # the consensus is of the last write, not a stale one


def test_reviewers_submitting_at_once_all_count_in_the_consensus(make_user):
    claim = article_with_claims(1).claims.get()
    reviewers = [make_user("Reviewers") for _ in range(6)]
    certainties = ["high", "high", "moderate", "moderate", "moderate", "low"]

    run_together(
        *(
            (
                lambda r=r, c=c: review_submit(
                    claim=claim, reviewer=r, certainty=c, verdict="supported", rationale="x", **graded(c)
                )
            )
            for r, c in zip(reviewers, certainties, strict=True)
        )
    )
    assert Review.objects.filter(claim=claim).count() == 6
    consensus = Consensus.objects.get(claim=claim)
    assert consensus.n_reviews == 6  # no submission computed the consensus from a stale set of reviews
    assert consensus.certainty == Certainty.MODERATE
    assert consensus.history.count() <= 1 + 6  # created, then at most one change per submission


def test_an_editor_adjudicating_while_a_reviewer_edits_loses_neither(make_user):
    claim = article_with_claims(1).claims.get()
    rita, sam = make_user("Reviewers"), make_user("Reviewers")
    editor = make_user("Editors")
    review_submit(
        claim=claim, reviewer=rita, certainty="high", verdict="supported", rationale="Strong trials.", **graded("high")
    )
    review_submit(
        claim=claim, reviewer=sam, certainty="very_low", verdict="unsupported", rationale="Weak.", **graded("very_low")
    )
    for round_, (certainty, verdict) in enumerate([("low", "partly_supported"), ("moderate", "supported")] * 3):
        run_together(
            lambda c=certainty, v=verdict, n=round_: review_submit(
                claim=claim, reviewer=sam, certainty=c, verdict=v, rationale=f"Revised, round {n}.", **graded(c)
            ),
            lambda n=round_: claim_adjudicate(
                claim=claim,
                certainty="low",
                verdict="partly_supported",
                rationale=f"Editor's decision, round {n}.",
                adjudicated_by=editor,
            ),
        )
        review = Review.objects.get(claim=claim, reviewer=sam)
        consensus = Consensus.objects.get(claim=claim)
        # the reviewer's edit stands, and the consensus was computed from it ...
        assert (review.certainty, review.verdict, review.rationale) == (certainty, verdict, f"Revised, round {round_}.")
        assert consensus.n_reviews == 2
        assert consensus.last_reviewed_at == review.updated_at
        # ... and the editor's adjudication stands beside it
        assert consensus.adjudication_rationale == f"Editor's decision, round {round_}."
        assert consensus.adjudicated_by == editor


# --- Imports of the same DOI -----------------------------------------------------------------------------


def record(**fields: Any) -> StudyRecord:
    values = {"source": "test", "title": "Ketamine for depression: a trial", "year": 2021, "doi": "10.5555/race.1"}
    values.update(fields)
    return StudyRecord(**values)


def upsert_in_a_long_transaction(rec: StudyRecord, hold: float = 0.5) -> ImportReport:
    """As article_import does: the study is written early in a transaction that stays open a while."""
    report = ImportReport()
    with transaction.atomic():
        study_upsert(record=rec, report=report)
        time.sleep(hold)
    return report


def test_simultaneous_upserts_of_one_doi_make_one_study():
    records = [
        record(citation_key="first"),
        record(sample_size=40),
        record(population="adults with depression"),
        record(pmid="123456"),
    ]
    reports = run_together(*(lambda r=r: upsert_in_a_long_transaction(r) for r in records))
    study = Study.objects.get()
    actions = sorted(line.action for report in reports for line in report.lines)
    assert actions.count("created") == 1 and "rejected" not in actions, actions
    # the later writers completed the study rather than failing or duplicating it
    assert (study.sample_size, study.population, study.pmid) == (40, "adults with depression", "123456")


def test_simultaneous_upserts_of_many_dois_never_duplicate():
    dois = [f"10.5555/race.{n}" for n in range(10)]

    def import_all(order: list[str]) -> None:
        for doi in order:
            upsert_in_a_long_transaction(record(doi=doi, title=f"Trial {doi}"), hold=0.01)

    run_together(*(lambda k=k: import_all(dois[k:] + dois[:k]) for k in range(4)))
    assert sorted(Study.objects.values_list("doi", flat=True)) == sorted(dois)


BIBTEX = "\n".join(
    f"@article{{race{n}, title = {{A trial number {n}}}, author = {{Tester, Ada}}, journal = {{J Tests}},"
    f" year = {{2020}}, doi = {{10.5555/bib.{n}}}}}"
    for n in range(20)
)


def test_the_same_bibliography_imported_twice_at_once_makes_each_study_once():
    reports = run_together(*(lambda: bibliography_import(data=BIBTEX, filename="race.bib") for _ in range(3)))
    assert Study.objects.count() == 20
    assert sorted(Study.objects.values_list("doi", flat=True)) == sorted(f"10.5555/bib.{n}" for n in range(20))
    for report in reports:
        counts = report.counts("study")
        assert counts["created"] + counts["unchanged"] + counts["updated"] == 20, report.lines
