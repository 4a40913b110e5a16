"""Writing the drawn library through the services: each batch of events (benchmarks.dataset.events) goes
to the bulk service of its kind, at the events' own moments.

The services decide what follows from each event, as they would have in the application: where a quote
stands in its article, a claim's status, its consensus, whether a retracted study it relies on flags it
and sends it back for re-review, when its evidence last changed. The generator only drew what people did
and when; a publication the rules no longer allow when its moment comes (the claim was sent back for
re-review since) is not attempted, and counted.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from benchmarks.dataset.articles import PlannedArticle
from benchmarks.dataset.events import Event, batches
from benchmarks.dataset.studies import PlannedStudy
from evidence.models import Claim, Study
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
from reviews.access import current_round_reviewers
from reviews.consensus import publish_blockers
from reviews.grade import Concern, EvidenceDesign, Grading
from reviews.models import Conflict, Flag, consensus_of
from reviews.services import (
    Adjudication,
    FlagClose,
    FlagRaise,
    Publication,
    ReviewSubmission,
    claims_adjudicate_bulk,
    flags_close_bulk,
    flags_raise_bulk,
    reviews_submit_bulk,
    verdicts_publish_bulk,
)

# What the generator draws for each kind of event; claims and studies are named by their plan index.


@dataclass
class PlannedCitation:
    claim: int
    study: int
    at: datetime
    values: dict[str, Any]
    user_id: int | None


@dataclass
class PlannedReview:
    claim: int
    reviewer_id: int
    at: datetime
    certainty: str
    verdict: str
    rationale: str
    serious: list[str]  # the GRADE downgrade domains rated serious (randomised evidence, no conflict declared)
    read_full_text: bool


@dataclass
class PlannedAdjudication:
    claim: int
    editor_id: int
    at: datetime
    certainty: str
    verdict: str
    rationale: str


@dataclass
class PlannedPublication:
    claim: int
    editor_id: int
    at: datetime
    rationale: str


@dataclass
class PlannedFlag:
    key: Hashable  # how its closing finds it
    claim: int
    editor_id: int
    at: datetime
    reason: str
    note: str


@dataclass
class PlannedClosing:
    flag: Hashable  # a PlannedFlag's key, or ("retracted", claim, study) for the system's flag
    editor_id: int
    at: datetime
    status: str
    note: str


class Replay:
    """Hands the events to the services, batch by batch, and remembers what they created."""

    def __init__(self, users: dict[int, User]) -> None:
        self.users = users
        self.claims: dict[int, Claim] = {}
        self.studies: dict[int, Study] = {}
        self.flags: dict[Hashable, Flag] = {}
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.refused_publications = 0

    def run(self, events: list[Event]) -> None:
        for kind, batch in batches(events):
            started = time.perf_counter()
            getattr(self, kind)([event.item for event in batch])
            self.seconds[kind] += time.perf_counter() - started
            self.calls[kind] += 1

    def user(self, pk: int | None) -> User | None:
        return self.users[pk] if pk is not None else None

    def article(self, items: list[PlannedArticle]) -> None:
        created = articles_create_bulk(
            items=[
                NewArticle(
                    values=article.values,
                    at=article.at,
                    claims=[NewClaim(quote=claim.quote, at=claim.at, values=claim.values) for claim in article.claims],
                    user=self.user(article.user_id),
                )
                for article in items
            ]
        )
        for article, (_, claims) in zip(items, created, strict=True):
            for planned, claim in zip(article.claims, claims, strict=True):
                self.claims[planned.index] = claim

    def study(self, items: list[PlannedStudy]) -> None:
        created = studies_create_bulk(
            items=[NewStudy(values=study.values, at=study.at, user=self.user(study.user_id)) for study in items]
        )
        for planned, study in zip(items, created, strict=True):
            self.studies[planned.index] = study

    def citation(self, items: list[PlannedCitation]) -> None:
        citations_create_bulk(
            items=[
                NewCitation(
                    claim=self.claims[c.claim],
                    study=self.studies[c.study],
                    at=c.at,
                    values=c.values,
                    user=self.user(c.user_id),
                )
                for c in items
            ]
        )

    def retraction(self, items: list[PlannedStudy]) -> None:
        studies_set_retraction_bulk(
            items=[
                RetractionChange(
                    study=self.studies[study.index],
                    status=study.notice.status,
                    at=study.notice.at,
                    note=study.notice.note,
                    notice_doi=study.notice.notice_doi,
                    retraction_date=study.notice.retraction_date,
                )
                for study in items
                if study.notice is not None
            ]
        )

    def review(self, items: list[PlannedReview]) -> None:
        reviews_submit_bulk(
            items=[
                ReviewSubmission(
                    claim=self.claims[review.claim],
                    reviewer=self.users[review.reviewer_id],
                    certainty=review.certainty,
                    verdict=review.verdict,
                    rationale=review.rationale,
                    at=review.at,
                    grading=Grading(
                        evidence_design=EvidenceDesign.RANDOMISED, **dict.fromkeys(review.serious, Concern.SERIOUS)
                    ),
                    conflict_of_interest=Conflict.NONE,
                    read_full_text=review.read_full_text,
                )
                for review in items
            ]
        )

    def adjudication(self, items: list[PlannedAdjudication]) -> None:
        claims_adjudicate_bulk(
            items=[
                Adjudication(
                    claim=self.claims[item.claim],
                    certainty=item.certainty,
                    verdict=item.verdict,
                    rationale=item.rationale,
                    adjudicated_by=self.users[item.editor_id],
                    at=item.at,
                )
                for item in items
            ]
        )

    def publication(self, items: list[PlannedPublication]) -> None:
        # an editor publishes what the rules allow at that moment: the desk does not offer the rest
        current = Claim.objects.select_related("consensus").in_bulk([self.claims[item.claim].pk for item in items])
        reviewers = current_round_reviewers(current)
        allowed = []
        for item in items:
            claim = current[self.claims[item.claim].pk]
            publisher = self.users[item.editor_id]
            if publish_blockers(
                claim, consensus_of(claim), publisher=publisher, reviewers=reviewers.get(claim.pk, set())
            ):
                self.refused_publications += 1
                continue
            allowed.append(Publication(claim=claim, published_by=publisher, at=item.at, rationale=item.rationale))
        if allowed:
            verdicts_publish_bulk(items=allowed)

    def flag(self, items: list[PlannedFlag]) -> None:
        raised = flags_raise_bulk(
            items=[
                FlagRaise(
                    claim=self.claims[item.claim],
                    reason=item.reason,
                    at=item.at,
                    note=item.note,
                    raised_by=self.users[item.editor_id],
                )
                for item in items
            ]
        )
        for item, flag in zip(items, raised, strict=True):
            self.flags[item.key] = flag

    def flag_close(self, items: list[PlannedClosing]) -> None:
        system = [item.flag for item in items if item.flag not in self.flags]
        wanted = defaultdict(list)
        for _, claim, study in system:
            wanted[self.claims[claim].pk].append(self.studies[study].pk)
        raised = Flag.objects.open().filter(reason=Flag.Reason.RETRACTED_SOURCE, claim__in=list(wanted))
        by_pair = {(flag.claim_id, flag.study_id): flag for flag in raised}
        for key in system:
            _, claim, study = key
            # the services raised it when the claim came to rely on the retracted study
            self.flags[key] = by_pair[(self.claims[claim].pk, self.studies[study].pk)]
        flags_close_bulk(
            items=[
                FlagClose(
                    flag=self.flags[item.flag],
                    status=item.status,
                    closed_by=self.users[item.editor_id],
                    at=item.at,
                    note=item.note,
                )
                for item in items
            ]
        )
