"""Articles: adding and editing one, revisions of its text, and article files with claims and citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence import anchoring, signals
from evidence.importers.article import ArticleBundle
from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.services.claims import anchor_fields
from evidence.services.common import apply_values, error_messages, save_edits
from evidence.services.reports import ImportReport, ReportLine
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
def article_update(
    *, article: Article, values: dict[str, Any], user: AbstractBaseUser | None = None, note: str = ""
) -> list[Claim]:
    """Change some of an article's fields; saves only what changed. A new ``text`` or ``headings`` goes
    through article_revise: the old text is kept as a revision (with ``note``) and the claims are re-anchored.

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
    return article_revise(article=article, text=text, headings=headings, user=user, note=note)


@transaction.atomic
def article_delete(*, article: Article, user: AbstractBaseUser | None = None) -> None:
    """Remove an article with its revisions and claims (and, by cascade, their citations, reviews, consensus
    and flags); the history keeps every version."""
    article._change_reason = "deleted"
    if user is not None:
        article._history_user = user
    article.delete()


@dataclass
class Revised:
    """What a revision of an article's text did to its claims (article_revise): ``number`` is the revision
    that keeps the old text; ``moved`` the claims re-anchored elsewhere in the new text (orphans found
    again among them); ``lost`` the claims the new text no longer holds, orphans now; ``still_lost`` the
    orphans it does not hold either (their suggestion is the new text's)."""

    number: int
    moved: list[Claim] = field(default_factory=list)
    lost: list[Claim] = field(default_factory=list)
    still_lost: list[Claim] = field(default_factory=list)
    consequences: list[ReportLine] = field(default_factory=list)  # what the review workflow did about it


@transaction.atomic
def article_revise(
    *, article: Article, text: str, headings: list[str], user: AbstractBaseUser | None = None, note: str = ""
) -> list[Claim]:
    """Replace an article's text, keeping the old version, and re-anchor its claims.

    Returns the claims whose quote the new text no longer holds: they become orphans (see revise_text)
    and are sent back for re-review (the anchors_lost signal).
    """
    return revise_text(article=article, text=text, headings=headings, user=user, note=note).lost


@transaction.atomic
def revise_text(
    *, article: Article, text: str, headings: list[str], user: AbstractBaseUser | None = None, note: str = ""
) -> Revised:
    """article_revise, saying what happened to every claim (the article import reports it line by line).

    The old text is kept as ArticleRevision ``number``; the new one is text version ``number + 1``. Each
    claim is found again with anchoring.reanchor: the exact quote where it occurs once, else the
    occurrence whose context matches best. A claim found is re-anchored (an orphan found again is anchored
    again); a claim not found becomes an orphan: its offsets stay those of revision ``number``, where it
    was last found, and a passage of the new text alike enough is stored as a suggestion for an editor,
    never applied. An orphan still not found keeps its revision and offsets, and gets the new text's
    suggestion. One query for the claims, one write per claim that changed, and the signal.
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
    revised = Revised(number=number)
    current = number + 1
    for claim in article.claims.all():
        found = anchoring.reanchor(text, claim.quote, claim.prefix, claim.suffix, claim.start)
        if found.anchor is not None:
            values = anchor_fields(article, found.anchor)
            how = "its quote" if found.how == "exact" else "its quote and the words around it"
            reason = (
                f"found again in revision {current} of the text by {how}"
                if claim.is_orphaned
                else f"re-anchored to revision {current} of the text by {how}"
            )
            if _save_anchor(claim, values, reason, user):
                revised.moved.append(claim)
            continue
        suggestion = found.suggestion.as_json() if found.suggestion is not None else None
        offer = "; a similar passage is suggested" if suggestion else "; nothing similar was found"
        if claim.is_orphaned:
            reason = f"still not found in revision {current} of the text{offer}"
            _save_anchor(claim, {"anchor_suggestion": suggestion}, reason, user)
            revised.still_lost.append(claim)
            continue
        values = {
            "anchor_state": Claim.AnchorState.ORPHANED,
            "anchor_revision": number,
            "anchor_suggestion": suggestion,
        }
        reason = f"orphaned: its quote is not in revision {current} of the text; last found in revision {number}{offer}"
        _save_anchor(claim, values, reason, user)
        revised.lost.append(claim)
    if revised.lost:
        # the review workflow sends them back for re-review (reviews.receivers)
        revised.consequences = signals.consequences(signals.anchors_lost, sender=Claim, claims=revised.lost, user=user)
    return revised


def _save_anchor(claim: Claim, values: dict[str, Any], reason: str, user: AbstractBaseUser | None) -> list[str]:
    changed = apply_values(claim, values)
    if changed:
        claim._change_reason = reason
        if user is not None:
            claim._history_user = user
        claim.save(update_fields=[*changed, "updated_at"])
    return changed


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
    revised: Revised | None = None
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
            revised = revise_text(
                article=article, text=bundle.text, headings=bundle.headings, user=user, note="imported revision"
            )
            report.add(
                "updated",
                "article",
                bundle.slug,
                f"new revision of the text (the old one is revision {revised.number})",
            )
        changed = apply_values(article, meta)
        if changed:
            article.save(update_fields=[*changed, "updated_at"])
            report.add("updated", "article", bundle.slug, ", ".join(changed))
        elif not report.of("updated", "article"):
            report.add("unchanged", "article", bundle.slug)

    # what the revision did to each claim, reported with the claim's line (or after, for claims not in the file)
    anchor_lines = _revision_lines(revised) if revised is not None else {}
    existing = {claim.key: claim for claim in article.claims.exclude(key="")}
    for spec in bundle.claims:
        values: dict[str, Any] = {
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
        label = f"{bundle.slug}/{spec.label}"
        if claim is not None and spec.quote == claim.quote:
            # a stored quote keeps the anchor the revision gave it: moved, or an orphan (never refused)
            del values["section"]
        elif spec.anchor is None:
            # a new claim, or a new quote for a stored one, must stand once in the text
            report.add("rejected", "claim", label, spec.unplaced)
            continue
        else:
            values = {**values, "quote": spec.quote, **anchor_fields(article, spec.anchor)}
        if claim is None:
            claim = Claim(article=article, key=spec.key, **values)
            claim.save()
            report.add("created", "claim", label)
        else:
            was_orphan = claim.is_orphaned
            changed = apply_values(claim, values)
            line = anchor_lines.pop(claim.pk, None)
            if was_orphan and not claim.is_orphaned:
                line = ("updated", "re-anchored: the file quotes it again in the current text")
            if line is not None:
                report.add(line[0], "claim", label, line[1])
            if changed:
                claim._change_reason = "updated by article import"
                if user is not None:
                    claim._history_user = user
                claim.save(update_fields=[*changed, "updated_at"])
                report.add("updated", "claim", label, ", ".join(changed))
            elif line is None:
                report.add("unchanged", "claim", label)
        _import_citations(claim, spec, studies_by_key, user, report, label)
    # the claims the file does not list, which the revision moved or lost
    for claim in Claim.objects.filter(pk__in=list(anchor_lines)).order_by("start", "pk"):
        action, detail = anchor_lines[claim.pk]
        report.add(action, "claim", f"{bundle.slug}/{claim.key or claim.pk}", detail)
    if revised is not None:
        report.lines += revised.consequences

    # a claim of the file may now rely on a retracted study (reviews flags it)
    report.lines += signals.consequences(
        signals.citations_changed, sender=Citation, claims=article.claims.all(), user=user
    )


def _revision_lines(revised: Revised) -> dict[int, tuple[str, str]]:
    """Each claim the revision re-anchored or lost → its report line's action and detail."""
    lines = {claim.pk: ("updated", "re-anchored: it moved in the revised text") for claim in revised.moved}
    for claim in revised.lost:
        offer = "a similar passage is suggested" if claim.anchor_suggestion else "nothing similar was found"
        lines[claim.pk] = (
            "orphaned",
            f"its quote is not in the revised text; kept where it was last found (revision {revised.number}); "
            f"{offer} for an editor",
        )
    for claim in revised.still_lost:
        lines[claim.pk] = ("orphaned", "its quote is still not in the text; it waits for an editor")
    return lines


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
