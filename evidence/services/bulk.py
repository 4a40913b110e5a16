"""Bulk services for evidence's own records: many articles with their claims, studies, citations and
retraction notices at once, each at the moment it happened (``at``).

They keep the rules and side effects of the one-at-a-time services (articles, studies, citations,
retractions), for a batch: every row validated before anything is written, uniqueness checked against
the library and within the batch, a history row per change with its reason, user and moment, claims'
``evidence_changed_at`` stamped through ``ClaimQuerySet.mark_evidence_changed``, evidence.signals sent
so that reviews flags the claims now relying on a retracted study, and the data version moved. Rows are
written with bulk_create/bulk_update (evidence.services.rows): a few queries per batch, not per row. A
ValidationError names the record it refuses, and the caller's transaction writes nothing of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from evidence import anchoring, caching, signals
from evidence.identifiers import IdentifierError
from evidence.models import Article, Citation, Claim, RetractionStatus, Study
from evidence.services import rows
from evidence.services.reports import ReportLine
from evidence.services.studies import IDENTIFIERS

# --- Articles and their claims ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewClaim:
    """A claim of a new article: its quote, which the service anchors, and its other fields (key, kind,
    substance, claim_type, secondary_types, evidence_note, attribution…; not the anchor, not the status)."""

    quote: str
    at: datetime
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewArticle:
    values: dict[str, Any]  # slug, title, author, publisher, url, published_on, text, headings
    at: datetime
    claims: Sequence[NewClaim] = ()
    user: AbstractBaseUser | None = None


@transaction.atomic
def articles_create_bulk(*, items: Sequence[NewArticle]) -> list[tuple[Article, list[Claim]]]:
    """Create articles with their claims, as the article import creates a new article's.

    Each quote must occur exactly once in its article's text; the service anchors it there (offsets,
    prefix and suffix, section heading) and the claim starts awaiting review. Keys are unique within an
    article, slugs within the library. Returns each article with its claims, primary keys set.
    """
    slugs = [item.values.get("slug", "") for item in items]
    taken = set(Article.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    seen: set[str] = set()
    articles: list[Article] = []
    claims: list[list[Claim]] = []
    for item in items:
        article = Article(**item.values, created_at=item.at, updated_at=item.at)
        label = f"article {article.slug}"
        if article.slug in taken or article.slug in seen:
            raise ValidationError(f"{label}: an article with this slug already exists.")
        seen.add(article.slug)
        rows.clean(article, label=label)
        articles.append(rows.stamp(article, at=item.at, reason="created", user=item.user))
        claims.append(_anchored_claims(article, item.claims, label))
    rows.insert(Article, articles)
    for article, mine in zip(articles, claims, strict=True):
        for claim in mine:
            claim.article = article  # now with its primary key
    rows.insert(Claim, [claim for mine in claims for claim in mine])
    caching.touch()
    return list(zip(articles, claims, strict=True))


def _anchored_claims(article: Article, specs: Sequence[NewClaim], label: str) -> list[Claim]:
    """The article's claims, each anchored where its quote stands in the text (anchoring.locate, as the
    article import does) and in the section there, with a key no other claim of the article has."""
    claims, keys = [], set()
    for spec in specs:
        key = spec.values.get("key", "")
        try:
            anchor = anchoring.locate(article.text, spec.quote)
        except anchoring.AnchorError as exc:
            raise ValidationError(f"{label}, claim {key or spec.quote[:40]!r}: {exc}") from None
        if key and key in keys:
            raise ValidationError(f"{label}, claim {key}: the article already has a claim with this key.")
        keys.add(key)
        claims.append(
            Claim(
                article=article,
                quote=spec.quote,
                start=anchor.start,
                end=anchor.end,
                prefix=anchor.prefix,
                suffix=anchor.suffix,
                status=Claim.Status.AWAITING_REVIEW,
                created_at=spec.at,
                updated_at=spec.at,
                **spec.values,
            )
        )
    sections = anchoring.sections_at(article.text, article.headings, [claim.start for claim in claims])
    for claim, section, spec in zip(claims, sections, specs, strict=True):
        claim.section = section
        rows.clean(claim, label=f"{label}, claim {claim.key or spec.quote[:40]!r}")
        rows.stamp(claim, at=spec.at, reason="created")
    return claims


# --- Studies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewStudy:
    values: dict[str, Any]  # named as on Study
    at: datetime
    user: AbstractBaseUser | None = None


@transaction.atomic
def studies_create_bulk(*, items: Sequence[NewStudy]) -> list[Study]:
    """study_create for many studies: DOI and PMID normalised and held by no other study (in the library
    or in the batch), every field valid, a "created" history row each. Returns them with primary keys."""
    studies = [Study(**item.values, created_at=item.at, updated_at=item.at) for item in items]
    labels = [_study_label(study, number) for number, study in enumerate(studies, start=1)]
    _identifiers_clean(studies, labels)
    for study, label, item in zip(studies, labels, items, strict=True):
        rows.clean(study, label=label)
        rows.stamp(study, at=item.at, reason="created", user=item.user)
    rows.insert(Study, studies)
    caching.touch()
    return studies


def _study_label(study: Study, number: int) -> str:
    return f"study {study.citation_key or study.doi or study.pmid or study.title[:60] or number}"


def _identifiers_clean(studies: list[Study], labels: list[str]) -> None:
    """services.studies.study_identifier_clean for a batch, in one query per identifier: each DOI and PMID
    normalised, and held by no stored study and by no other study of the batch."""
    for name, (kind, normalize) in IDENTIFIERS.items():
        holders: dict[str, str] = {}
        for study, label in zip(studies, labels, strict=True):
            try:
                value = normalize(getattr(study, name))
            except IdentifierError as exc:
                raise ValidationError(f"{label}: {name}: {exc}") from None
            setattr(study, name, value)
            if not value:
                continue
            if value in holders:
                raise ValidationError(f"{label}: {name}: {kind} {value} is also given to {holders[value]}.")
            holders[value] = label
        # the "not empty" condition lets PostgreSQL use the partial unique index
        stored = Study.objects.filter(Q(**{f"{name}__in": list(holders)}) & ~Q(**{name: ""}))
        for pk, value in stored.values_list("pk", name)[:1]:
            raise ValidationError(f"{holders[value]}: {name}: {kind} {value} is already recorded for study {pk}.")


# --- Citations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCitation:
    claim: Claim
    study: Study
    at: datetime
    values: dict[str, Any] = field(default_factory=dict)  # relation, note, directness, directness_note
    user: AbstractBaseUser | None = None


@transaction.atomic
def citations_create_bulk(*, items: Sequence[NewCitation]) -> list[Citation]:
    """citation_create for many links: each study cited once per claim, values valid, "linked" in the
    history by whoever added it; each claim's evidence stamped as changed at its latest new citation, and
    reviews told (evidence.signals.citations_changed), which flags claims now relying on a retracted study
    at the moment they came to."""
    claim_ids = {item.claim.pk for item in items}
    study_ids = {item.study.pk for item in items}
    if None in claim_ids or Claim.objects.filter(pk__in=claim_ids).count() != len(claim_ids):
        raise ValidationError("A citation names a claim that is not in the library.")
    if None in study_ids or Study.objects.filter(pk__in=study_ids).count() != len(study_ids):
        raise ValidationError("A citation names a study that is not in the library.")
    pairs = [(item.claim.pk, item.study.pk) for item in items]
    existing = set(
        Citation.objects.filter(claim__in=claim_ids, study__in=study_ids).values_list("claim_id", "study_id")
    )
    seen: set[tuple[int, int]] = set()
    citations = []
    for item, pair in zip(items, pairs, strict=True):
        label = f"citation of study {item.study.pk} for claim {item.claim.pk}"
        if pair in existing or pair in seen:
            raise ValidationError(f"{label}: this study is already cited for this claim.")
        seen.add(pair)
        citation = Citation(
            claim=item.claim,
            study=item.study,
            added_by=item.user,
            created_at=item.at,
            updated_at=item.at,
            **item.values,
        )
        rows.clean(citation, label=label)
        citations.append(rows.stamp(citation, at=item.at, reason="linked", user=item.user))
    rows.insert(Citation, citations)
    moments = {pair: item.at for pair, item in zip(pairs, items, strict=True)}
    latest: dict[int, datetime] = {}
    for (claim_id, _), at in moments.items():
        latest[claim_id] = max(at, latest.get(claim_id, at))
    _evidence_changed(latest)
    signals.citations_changed.send(
        sender=Citation, claims=Claim.objects.filter(pk__in=claim_ids), user=None, at=moments
    )
    caching.touch()
    return citations


def _evidence_changed(moments: dict[int, datetime]) -> None:
    """Stamp each claim's evidence as changed at its moment (claim id → moment): one UPDATE per moment."""
    for at, claim_ids in rows.by_moment(moments).items():
        Claim.objects.filter(pk__in=claim_ids).mark_evidence_changed(at)


# --- Retraction notices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetractionChange:
    study: Study
    status: str
    at: datetime
    note: str = ""
    notice_doi: str = ""
    retraction_date: date | None = None
    user: AbstractBaseUser | None = None


@transaction.atomic
def studies_set_retraction_bulk(*, items: Sequence[RetractionChange]) -> list[ReportLine]:
    """study_set_retraction for many studies, each at its moment: the status, notice and date recorded
    with a history row; a change of status is a change of every citing claim's evidence; the studies that
    became retracted are announced (evidence.signals.studies_retracted), and reviews flags the claims
    relying on each and sends the reviewed ones back for re-review. Returns what reviews did."""
    ids = [item.study.pk for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("one retraction change per study and batch")
    studies = Study.objects.select_for_update().in_bulk(ids)
    changed: list[Study] = []
    retracted: dict[int, datetime] = {}
    concerned: dict[int, datetime] = {}
    evidence_moments: dict[int, datetime] = {}
    for item in items:
        study = studies[item.study.pk]
        was_retracted, status_before = study.is_retracted, study.retraction_status
        study.retraction_status = item.status
        study.retraction_note = item.note or study.retraction_note
        study.retraction_doi = item.notice_doi or study.retraction_doi
        study.retraction_date = item.retraction_date or study.retraction_date
        study.updated_at = item.at
        rows.clean(study, label=f"study {study.pk}")
        changed.append(rows.stamp(study, at=item.at, reason=f"retraction status set to {item.status}", user=item.user))
        if item.status != status_before:
            evidence_moments[study.pk] = item.at
        if study.is_retracted and not was_retracted:
            retracted[study.pk] = item.at
        if item.status == RetractionStatus.EXPRESSION_OF_CONCERN and status_before != item.status:
            concerned[study.pk] = item.at
    rows.update(Study, changed, ["retraction_status", "retraction_note", "retraction_doi", "retraction_date"])
    for at, study_ids in rows.by_moment(evidence_moments).items():
        Claim.objects.filter(citations__study__in=study_ids).mark_evidence_changed(at)
    caching.touch()
    lines = []
    if concerned:
        lines += signals.consequences(
            signals.studies_concerned, sender=Study, studies=[studies[pk] for pk in concerned], user=None, at=concerned
        )
    if retracted:
        lines += signals.consequences(
            signals.studies_retracted, sender=Study, studies=[studies[pk] for pk in retracted], user=None, at=retracted
        )
    return lines
