"""Completing a study from Crossref and PubMed (evidence.lookup): empty fields are filled, a curator's
value is never replaced (a difference is reported as a conflict), and a record whose identifier, title
and first author the source confirms is marked verified, with the source and the date in verified_from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from evidence.lookup import Found, LookupFailed, crossref_work, medline_pages, pubmed_summary
from evidence.models import Study
from evidence.services.common import error_messages
from evidence.services.studies import EMPTY_VALUES, REPLACEABLE_DEFAULTS, normalize_title, study_identifier_clean

# what a lookup may fill; the rest of a study (design, sample size, notes, retraction) is the curators'
LOOKUP_FIELDS = (
    "doi",
    "pmid",
    "title",
    "authors",
    "container_title",
    "publisher",
    "year",
    "month",
    "day",
    "volume",
    "issue",
    "pages",
)


@dataclass(frozen=True)
class Conflict:
    field: str
    stored: Any
    found: Any
    source: str

    def __str__(self) -> str:
        return f"kept the stored {self.field} {_show(self.stored)}; {self.source} says {_show(self.found)}"


def _show(value: Any) -> str:
    if isinstance(value, list):  # authors
        value = "; ".join(a.get("family") or a.get("literal", "") for a in value)
    text = str(value)
    return repr(text if len(text) <= 80 else text[:79] + "…")


@dataclass
class LookupOutcome:
    """What a lookup found and did to one study."""

    study: Study
    answered: list[str] = field(default_factory=list)  # the sources that answered
    filled: list[str] = field(default_factory=list)
    confirmed_by: list[str] = field(default_factory=list)  # sources that confirmed identifier, title, author
    conflicts: list[Conflict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.filled or self.confirmed_by)

    def summary(self) -> str:
        parts = []
        if self.filled:
            parts.append(f"filled {', '.join(self.filled)}")
        if self.confirmed_by:
            parts.append(f"verified from {' and '.join(self.confirmed_by)}")
        parts += [str(conflict) for conflict in self.conflicts]
        parts += self.failures
        return "; ".join(parts) or "nothing to change"


def study_lookup_fetch(study: Study) -> tuple[list[Found], list[str]]:
    """Ask Crossref about the study's DOI and PubMed about its PMID. Returns the answers and, for each
    source that gave none, why. Raises LookupDisabled when lookups are switched off."""
    found, failures = [], []
    for identifier, ask in ((study.doi, crossref_work), (study.pmid, pubmed_summary)):
        if not identifier:
            continue
        try:
            found.append(ask(identifier))
        except LookupFailed as exc:
            failures.append(str(exc))
    return found, failures


def _same(name: str, stored: Any, value: Any) -> bool:
    if name in ("title", "container_title", "publisher"):
        return normalize_title(str(stored)) == normalize_title(str(value))
    if name == "authors":
        return _families(stored) == _families(value)
    if name == "pages":
        return medline_pages(str(stored)) == medline_pages(str(value))
    return str(stored).lower() == str(value).lower()


def _families(authors: list[dict[str, str]]) -> list[str]:
    return [normalize_title(a.get("family") or a.get("literal") or "") for a in authors]


def _empty(study: Study, name: str) -> bool:
    value = getattr(study, name)
    return value in EMPTY_VALUES or (name in REPLACEABLE_DEFAULTS and value == REPLACEABLE_DEFAULTS[name])


def study_lookup_apply(
    *,
    study: Study,
    user: AbstractBaseUser | None = None,
    dry_run: bool = False,
    found: list[Found] | None = None,
    failures: list[str] | None = None,
) -> LookupOutcome:
    """Fill the study's empty fields from what Crossref (by DOI) and PubMed (by PMID) say, Crossref
    first; report every stored value a source contradicts without changing it; mark the study verified
    from a source that confirms its identifier, title and first author ("Crossref on 2026-12-07").

    The sources are asked before the transaction opens (``found``/``failures`` skip asking: the command
    and the tasks pass what they fetched). A source that fails or times out changes nothing and its
    message is in the outcome. Raises LookupDisabled when lookups are switched off.
    """
    if found is None:
        found, failures = study_lookup_fetch(study)
    outcome = LookupOutcome(study=study, failures=list(failures or []), dry_run=dry_run)
    today = timezone.localdate().isoformat()
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        outcome.study = study
        changed: set[str] = set()
        for answer in found:
            outcome.answered.append(answer.source)
            for name, value in answer.values.items():
                if name not in LOOKUP_FIELDS or value in EMPTY_VALUES:
                    continue
                stored = getattr(study, name)
                if name in ("month", "day") and study.year not in (None, answer.values.get("year")):
                    continue  # a month of another year's date is no fill
                if _empty(study, name):
                    if name in ("doi", "pmid"):
                        try:
                            value = study_identifier_clean(name, value, exclude_pk=study.pk)
                        except ValidationError as exc:
                            outcome.failures.append(f"{answer.source}: {exc.messages[0]}")
                            continue
                    setattr(study, name, value)
                    changed.add(name)
                    outcome.filled.append(name)
                elif not _same(name, stored, value) and name not in ("month", "day"):
                    outcome.conflicts.append(Conflict(name, stored, value, answer.source))
            identifier = "doi" if answer.source == "Crossref" else "pmid"
            confirms = (
                getattr(study, identifier)
                and answer.values.get(identifier, "").lower() == getattr(study, identifier).lower()
                and study.title
                and _same("title", study.title, answer.values.get("title", ""))
                and study.authors
                and answer.values.get("authors")
                and _families(study.authors)[:1] == _families(answer.values["authors"])[:1]
            )
            if confirms:
                entry = f"{answer.url} ({answer.source} on {today}: {identifier.upper()}, title and first author)"
                if entry not in study.verified_from:
                    study.verified_from = [*study.verified_from, entry]
                    changed.add("verified_from")
                    outcome.confirmed_by.append(answer.source)
                if not study.verified:
                    study.verified = True
                    changed.add("verified")
        if not changed or dry_run:
            if dry_run:
                transaction.set_rollback(True)
            return outcome
        try:
            study.full_clean(exclude=study.get_deferred_fields())
        except ValidationError as exc:
            transaction.set_rollback(True)
            outcome.failures.append(f"not saved: {error_messages(exc)}")
            outcome.filled, outcome.confirmed_by = [], []
            return outcome
        sources = " and ".join(dict.fromkeys(outcome.answered))
        study._change_reason = f"looked up in {sources} on {today}: {outcome.summary()}"[:1000]
        if user is not None:
            study._history_user = user
        study.save(update_fields=[*sorted(changed), "updated_at"])
    return outcome
