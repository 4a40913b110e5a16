"""Articles: adding and editing one, revisions of its text, and article files with claims and citations."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence import anchoring, signals
from evidence.importers.article import ArticleBundle
from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.services.common import apply_values, error_messages, save_edits
from evidence.services.reports import ImportReport
from evidence.services.studies import study_upsert

# An article's own fields; its text and headings change through article_revise, which keeps the old text.
ARTICLE_FIELDS = ("slug", "title", "author", "publisher", "url", "published_on")


@transaction.atomic
def article_create(*, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Article:
    """Add an article from field values (ARTICLE_FIELDS, ``text`` and ``headings``); its claims are added
    with claim_create. Raises ValidationError naming the fields."""
    article = Article(**values)
    article.full_clean()
    article._change_reason = "created"
    if user is not None:
        article._history_user = user
    try:
        # a savepoint: a concurrent write may have taken the slug since full_clean looked
        with transaction.atomic():
            article.save()
    except IntegrityError:
        raise ValidationError({"slug": "Another article was saved with this slug at the same time."}) from None
    return article


@transaction.atomic
def article_update(*, article: Article, values: dict[str, Any], user: AbstractBaseUser | None = None) -> list[Claim]:
    """Change some of an article's fields; saves only what changed. A new ``text`` or ``headings`` goes
    through article_revise: the old text is kept as a revision and the claims are re-anchored.

    Returns the claims the revised text no longer holds (article_revise); empty when the text is unchanged.
    Raises ValidationError naming the fields.
    """
    article = Article.objects.select_for_update().get(pk=article.pk)
    values = dict(values)
    text = values.pop("text", article.text)
    headings = values.pop("headings", article.headings)
    unknown = sorted(set(values) - set(ARTICLE_FIELDS))
    if unknown:
        raise ValidationError(f"Not an article field: {', '.join(unknown)}.")
    save_edits(article, values, user)
    if (text, headings) == (article.text, article.headings):
        return []
    return article_revise(article=article, text=text, headings=headings, user=user)


@transaction.atomic
def article_delete(*, article: Article, user: AbstractBaseUser | None = None) -> None:
    """Remove an article with its revisions and claims (and, by cascade, their citations, reviews, consensus
    and flags); the history keeps every version."""
    article._change_reason = "deleted"
    if user is not None:
        article._history_user = user
    article.delete()


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
    article._change_reason = f"text revised; the previous text is kept as revision {number}"
    if user is not None:
        article._history_user = user
    article.save(update_fields=["text", "headings", "updated_at"])
    lost = []
    for claim in article.claims.all():
        anchor = anchoring.relocate(text, claim.quote, claim.prefix, claim.suffix, claim.start)
        if anchor is None:
            claim.status = Claim.Status.NEEDS_REREVIEW
            claim._change_reason = f"quote not found in revision {number + 1} of the text"
            claim.save(update_fields=["status", "updated_at"])
            Claim.objects.filter(pk=claim.pk).mark_evidence_changed()
            lost.append(claim)
            continue
        values = {
            "start": anchor.start,
            "end": anchor.end,
            "prefix": anchor.prefix,
            "suffix": anchor.suffix,
            "section": anchoring.section_at(text, headings, anchor.start),
        }
        changed = apply_values(claim, values)
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
            report.add("rejected", "article", bundle.slug, error_messages(exc))
            return
        article.save()
        report.add("created", "article", bundle.slug)
    else:
        if article.text != bundle.text or article.headings != bundle.headings:
            article_revise(
                article=article, text=bundle.text, headings=bundle.headings, user=user, note="imported revision"
            )
            report.add("updated", "article", bundle.slug, "new revision of the text")
        changed = apply_values(article, meta)
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
            changed = apply_values(claim, values)
            if changed:
                claim._change_reason = "updated by article import"
                claim.save(update_fields=[*changed, "updated_at"])
                report.add("updated", "claim", label, ", ".join(changed))
            else:
                report.add("unchanged", "claim", label)
        _import_citations(claim, spec, studies_by_key, user, report, label)

    # a claim of the file may now rely on a retracted study (reviews flags it)
    report.lines += signals.consequences(
        signals.citations_changed, sender=Citation, claims=article.claims.all(), user=user
    )


def _import_citations(claim, spec, studies_by_key, user, report, label) -> None:
    current = {citation.study_id: citation for citation in claim.citations.all()}
    touched = False
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
            touched = True
            continue
        changed = apply_values(citation, values)
        if changed:
            citation._change_reason = "updated by article import"
            citation.save(update_fields=[*changed, "updated_at"])
            report.add("updated", "citation", f"{label} → {link.study_key}", ", ".join(changed))
            touched = True
        else:
            report.add("unchanged", "citation", f"{label} → {link.study_key}")
    if touched:
        Claim.objects.filter(pk=claim.pk).mark_evidence_changed()
