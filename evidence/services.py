"""Writes to articles, claims, studies and citations: one keyword-only function per action.

Views, admin actions, management commands and (later) the API call these and nothing else, so a rule
such as "a retracted study flags the claims relying on it" holds whatever made the change. Each write
saves only what changed, so repeating an import adds no history entries.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from evidence import anchoring
from evidence.importers.article import ArticleBundle
from evidence.importers.records import StudyRecord
from evidence.models import Article, ArticleRevision, Citation, Claim, Study

# --- Reports ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    action: str  # created, updated, unchanged, merged, rejected, conflict
    kind: str  # study, article, claim, citation
    label: str
    detail: str = ""


@dataclass
class ImportReport:
    """What an import did, line by line; ``counts()`` summarises it."""

    lines: list[ReportLine] = field(default_factory=list)
    dry_run: bool = False

    def add(self, action: str, kind: str, label: str, detail: str = "") -> None:
        self.lines.append(ReportLine(action, kind, label, detail))

    def counts(self, kind: str | None = None) -> Counter[str]:
        return Counter(line.action for line in self.lines if kind is None or line.kind == kind)

    def of(self, action: str, kind: str | None = None) -> list[ReportLine]:
        return [line for line in self.lines if line.action == action and (kind is None or line.kind == kind)]

    @property
    def changed(self) -> bool:
        return any(line.action in {"created", "updated", "merged"} for line in self.lines)


# --- Studies --------------------------------------------------------------------------------------------

_EMPTY: tuple[Any, ...] = ("", None, [], {})
# A study's defaults that a record may replace as if they were empty.
_DEFAULTS = {"design": Study.Design.OTHER, "retraction_status": Study.RetractionStatus.NONE}


def normalize_title(title: str) -> str:
    """Title for matching: accents, case, punctuation and spacing removed."""
    decomposed = unicodedata.normalize("NFKD", title)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    ascii_only = re.sub(r"^retracted article:\s*", "", ascii_only)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())


def study_match(record: StudyRecord) -> Study | None:
    """The existing study a record describes: by DOI, then PMID, then normalised title with year.

    Raises ValidationError when the DOI and the PMID point at two different studies.
    """
    by_doi = Study.objects.filter(doi=record.doi).first() if record.doi else None
    by_pmid = Study.objects.filter(pmid=record.pmid).first() if record.pmid else None
    if by_doi and by_pmid and by_doi.pk != by_pmid.pk:
        raise ValidationError(
            f"DOI {record.doi} belongs to study {by_doi.pk} but PMID {record.pmid} to study {by_pmid.pk}"
        )
    if by_doi or by_pmid:
        return by_doi or by_pmid
    if record.title:
        wanted = normalize_title(record.title)
        # Few studies share a year, so this reads a handful of titles, not the library.
        for candidate in Study.objects.filter(year=record.year).only("pk", "title", "doi", "pmid"):
            if normalize_title(candidate.title) == wanted:
                # two different DOIs mean two different works, however alike their titles
                if record.doi and candidate.doi and record.doi != candidate.doi:
                    continue
                return Study.objects.get(pk=candidate.pk)
    return None


def _is_empty(study: Study, name: str) -> bool:
    value = getattr(study, name)
    return value in _EMPTY or (name in _DEFAULTS and value == _DEFAULTS[name])


@transaction.atomic
def study_upsert(
    *, record: StudyRecord, report: ImportReport, user: AbstractBaseUser | None = None, update: bool = False
) -> Study | None:
    """Create the study a record describes, or complete the one it matches.

    A match gains the values it lacks; a value it already has is kept and reported as a conflict,
    unless ``update`` is set, in which case it is replaced and the history entry says so.
    Returns None when the record is rejected (the report says why).
    """
    label = record.citation_key or record.doi or record.pmid or (record.title or "")[:60]
    try:
        study = study_match(record)
    except ValidationError as exc:
        report.add("rejected", "study", label, f"{record.source}: {exc.messages[0]}")
        return None
    values = record.given_fields()
    if study is None:
        study = Study(**values)
        study._change_reason = f"imported from {record.source}"
        try:
            study.full_clean()
        except ValidationError as exc:
            report.add("rejected", "study", label, f"{record.source}: {_messages(exc)}")
            return None
        study.save()
        report.add("created", "study", label, record.source)
        _after_study_change(study, was_retracted=False)
        return study

    was_retracted = study.is_retracted
    changed: list[str] = []
    conflicts: list[str] = []
    for name, value in values.items():
        current = getattr(study, name)
        if current == value or (value in _EMPTY and name != "citation_key"):
            continue
        if name == "citation_key" and current:
            continue  # the first library's key stays; keys are labels, not identity
        if _is_empty(study, name) or update:
            setattr(study, name, value)
            changed.append(name)
        else:
            conflicts.append(name)
    if conflicts:
        report.add(
            "conflict",
            "study",
            label,
            f"{record.source}: kept the stored {', '.join(conflicts)} (use --update to replace)",
        )
    if not changed:
        report.add("unchanged", "study", label, record.source)
        return study
    try:
        study.full_clean()
    except ValidationError as exc:
        report.add("rejected", "study", label, f"{record.source}: {_messages(exc)}")
        return None
    study._change_reason = f"{'updated' if update else 'completed'} from {record.source}: {', '.join(changed)}"
    study.save(update_fields=[*changed, "updated_at"])
    report.add("updated", "study", label, f"{record.source}: {', '.join(changed)}")
    _after_study_change(study, was_retracted=was_retracted)
    return study


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
    return " ".join(exc.messages)


def _after_study_change(study: Study, *, was_retracted: bool) -> None:
    if study.is_retracted and not was_retracted:
        from reviews.services import claims_flag_retracted_reliance

        claims_flag_retracted_reliance(claims=Claim.objects.filter(citations__study=study))


@transaction.atomic
def study_set_retraction(
    *,
    study: Study,
    status: str,
    note: str = "",
    notice_doi: str = "",
    retraction_date: date | None = None,
    user: AbstractBaseUser | None = None,
) -> Study:
    """Record a retraction, expression of concern or correction; a newly retracted study flags the
    claims relying on it and sends them back for re-review."""
    was_retracted = study.is_retracted
    study.retraction_status = status
    study.retraction_note = note or study.retraction_note
    study.retraction_doi = notice_doi or study.retraction_doi
    study.retraction_date = retraction_date or study.retraction_date
    study._change_reason = f"retraction status set to {status}"
    study.full_clean()
    study.save(
        update_fields=["retraction_status", "retraction_note", "retraction_doi", "retraction_date", "updated_at"]
    )
    _after_study_change(study, was_retracted=was_retracted)
    return study


# --- Articles and claims ----------------------------------------------------------------------------


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; return the names of the fields changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


@transaction.atomic
def article_revise(
    *, article: Article, text: str, headings: list[str], user: AbstractBaseUser | None = None, note: str = ""
) -> list[Claim]:
    """Replace an article's text, keeping the old version, and re-anchor its claims.

    Returns the claims whose quote is no longer in the text; they keep their old anchor and are sent
    back for re-review.
    """
    number = (article.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    ArticleRevision.objects.create(
        article=article, number=number, text=article.text, headings=article.headings, created_by=user, note=note
    )
    article.text = text
    article.headings = headings
    article.save(update_fields=["text", "headings", "updated_at"])
    lost = []
    for claim in article.claims.all():
        anchor = anchoring.relocate(text, claim.quote, claim.prefix, claim.suffix, claim.start)
        if anchor is None:
            claim.status = Claim.Status.NEEDS_REREVIEW
            claim._change_reason = f"quote not found in revision {number + 1} of the text"
            claim.save(update_fields=["status", "updated_at"])
            lost.append(claim)
            continue
        values = {
            "start": anchor.start,
            "end": anchor.end,
            "prefix": anchor.prefix,
            "suffix": anchor.suffix,
            "section": anchoring.section_at(text, headings, anchor.start),
        }
        changed = _apply(claim, values)
        if changed:
            claim._change_reason = "re-anchored to the revised text"
            claim.save(update_fields=[*changed, "updated_at"])
    return lost


def article_import(
    *, bundle: ArticleBundle, user: AbstractBaseUser | None = None, dry_run: bool = False, update: bool = False
) -> ImportReport:
    """Load an article file: its bibliography, the article, its claims and their citations.

    One transaction: either everything is written or nothing is. Claims are matched by key, citations
    by claim and study; what already matches is left untouched, so importing the same file twice
    changes nothing. With ``dry_run`` the work is done and then rolled back, so the report is exact.
    """
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        _article_import(bundle, user, update, report)
        if report.of("rejected"):
            raise ArticleImportRejected(report)
        if dry_run:
            transaction.set_rollback(True)
    return report


class ArticleImportRejected(Exception):
    """Something in the file could not be imported; the transaction was rolled back."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__("; ".join(f"{line.label}: {line.detail}" for line in report.of("rejected")))


def _article_import(bundle: ArticleBundle, user: AbstractBaseUser | None, update: bool, report: ImportReport) -> None:
    studies_by_key: dict[str, Study] = {}
    if bundle.bibliography is not None:
        for rejection in bundle.bibliography.rejected:
            report.add("rejected", "study", rejection.source, rejection.reason)
        for record in bundle.bibliography.records:
            study = study_upsert(record=record, report=report, user=user, update=update)
            if study is not None and record.citation_key:
                studies_by_key[record.citation_key] = study

    article = Article.objects.filter(slug=bundle.slug).first()
    meta = {
        "title": bundle.title,
        "author": bundle.author,
        "publisher": bundle.publisher,
        "url": bundle.url,
        "published_on": bundle.published_on,
    }
    if article is None:
        article = Article(slug=bundle.slug, text=bundle.text, headings=bundle.headings, **meta)
        try:
            article.full_clean()
        except ValidationError as exc:
            report.add("rejected", "article", bundle.slug, _messages(exc))
            return
        article.save()
        report.add("created", "article", bundle.slug)
    else:
        if article.text != bundle.text or article.headings != bundle.headings:
            article_revise(
                article=article, text=bundle.text, headings=bundle.headings, user=user, note="imported revision"
            )
            report.add("updated", "article", bundle.slug, "new revision of the text")
        changed = _apply(article, meta)
        if changed:
            article.save(update_fields=[*changed, "updated_at"])
            report.add("updated", "article", bundle.slug, ", ".join(changed))
        elif not report.of("updated", "article"):
            report.add("unchanged", "article", bundle.slug)

    existing = {claim.key: claim for claim in article.claims.exclude(key="")}
    for spec in bundle.claims:
        values = {
            "quote": spec.quote,
            "start": spec.anchor.start,
            "end": spec.anchor.end,
            "prefix": spec.anchor.prefix,
            "suffix": spec.anchor.suffix,
            "section": spec.section,
            "kind": spec.kind,
            "substance": spec.substance,
            "claim_type": spec.claim_type,
            "secondary_types": spec.secondary_types,
            "evidence_note": spec.evidence_note,
            "attributed_to": spec.attributed_to,
            "attribution_status": spec.attribution_status,
            "attribution_note": spec.attribution_note,
        }
        claim = existing.get(spec.key) if spec.key else None
        label = f"{bundle.slug}/{spec.key or spec.anchor.start}"
        if claim is None:
            claim = Claim(article=article, key=spec.key, **values)
            claim.save()
            report.add("created", "claim", label)
        else:
            changed = _apply(claim, values)
            if changed:
                claim._change_reason = "updated by article import"
                claim.save(update_fields=[*changed, "updated_at"])
                report.add("updated", "claim", label, ", ".join(changed))
            else:
                report.add("unchanged", "claim", label)
        _import_citations(claim, spec, studies_by_key, user, report, label)

    from reviews.services import claims_flag_retracted_reliance

    for flag in claims_flag_retracted_reliance(claims=article.claims.all()):
        report.add("created", "flag", f"{bundle.slug}/{flag.claim.key or flag.claim_id}", flag.note)


def _import_citations(claim, spec, studies_by_key, user, report, label) -> None:
    current = {citation.study_id: citation for citation in claim.citations.all()}
    for link in spec.citations:
        study = studies_by_key.get(link.study_key)
        if study is None:
            study = Study.objects.filter(citation_key=link.study_key).first()
        if study is None:
            report.add("rejected", "citation", f"{label} → {link.study_key}", "no study with this key")
            continue
        values = {"relation": link.relation, "note": link.note, "directness": link.directness}
        citation = current.get(study.pk)
        if citation is None:
            Citation.objects.create(claim=claim, study=study, added_by=user, **values)
            report.add("created", "citation", f"{label} → {link.study_key}")
            continue
        changed = _apply(citation, values)
        if changed:
            citation._change_reason = "updated by article import"
            citation.save(update_fields=[*changed, "updated_at"])
            report.add("updated", "citation", f"{label} → {link.study_key}", ", ".join(changed))
        else:
            report.add("unchanged", "citation", f"{label} → {link.study_key}")
