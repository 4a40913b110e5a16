"""python manage.py lookup_studies [--doi DOI] [--pmid PMID] [--missing] [--dry-run]"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet
from tqdm import tqdm

from evidence import lookup
from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.models import Study
from evidence.services.lookup import study_lookup_apply


class Command(BaseCommand):
    help = (
        "Fill studies' empty fields from Crossref (by DOI) and PubMed (by PMID), and mark those a source "
        "confirms as verified from it, with the date. A stored value is never replaced: differences are "
        "listed. Needs EVIDENCE_LOOKUP_ENABLED=1. Exits non-zero when a lookup fails (the study is unchanged)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--doi", help="look up the study with this DOI")
        parser.add_argument("--pmid", help="look up the study with this PubMed ID")
        parser.add_argument(
            "--missing", action="store_true", help="only the studies not yet verified or with empty fields"
        )
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")

    def handle(
        self,
        *args: Any,
        doi: str | None,
        pmid: str | None,
        missing: bool,
        dry_run: bool,
        verbosity: int,
        **options: Any,
    ) -> None:
        if not lookup.enabled():
            raise CommandError(str(lookup.LookupDisabled()) + " Nothing was changed.")
        studies = list(self._studies(doi, pmid, missing))
        filled = verified = conflicts = failed = 0
        for study in tqdm(studies, unit=" studies", file=sys.stderr, disable=verbosity < 1 or len(studies) < 2):
            outcome = study_lookup_apply(study=study, dry_run=dry_run)
            filled += bool(outcome.filled)
            verified += bool(outcome.confirmed_by)
            conflicts += len(outcome.conflicts)
            failed += bool(outcome.failures)
            if verbosity >= 1 and (outcome.changed or outcome.conflicts or outcome.failures or verbosity >= 2):
                label = study.citation_key or study.doi or study.pmid
                self.stdout.write(f"  {label}: {outcome.summary()}")
        prefix = "Dry run, nothing written. " if dry_run else ""
        summary = (
            f"{prefix}{len(studies)} looked up: {filled} filled, {verified} verified, "
            f"{conflicts} conflict(s) kept, {failed} failed"
        )
        if failed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

    def _studies(self, doi: str | None, pmid: str | None, missing: bool) -> QuerySet[Study]:
        try:
            doi, pmid = normalize_doi(doi), normalize_pmid(pmid)
        except IdentifierError as exc:
            raise CommandError(str(exc)) from None
        studies = Study.objects.exclude(doi="", pmid="").order_by("pk")
        if doi or pmid:
            chosen = studies.filter(**({"doi": doi} if doi else {"pmid": pmid}))
            if not chosen.exists():
                raise CommandError(f"No study has {'DOI ' + doi if doi else 'PMID ' + pmid}.")
            return chosen
        if missing:
            empty = Q(verified=False)
            for name in ("title", "container_title", "volume", "pages"):
                empty |= Q(**{name: ""})
            studies = studies.filter(empty | Q(authors=[]) | Q(year__isnull=True))
        return studies
