"""python manage.py check_retractions [--dry-run]"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evidence import lookup
from evidence.services.monitoring import retraction_check_run, studies_to_check


class Command(BaseCommand):
    help = (
        "Ask Crossref (the DOI's retraction, expression of concern and correction notices, with the Retraction "
        "Watch data) and PubMed (publication types) about every cited study, and record what is new through the "
        "retraction service: a newly retracted study flags the claims relying on it. The scheduler runs the same "
        "check daily. Needs EVIDENCE_LOOKUP_ENABLED=1. The Retraction Watch CSV import (import_retractions) "
        "stays for offline use. Exits non-zero when a lookup failed (what the others found is recorded)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        if not lookup.enabled():
            raise CommandError(f"{lookup.LookupDisabled()} Nothing was checked.")
        total = studies_to_check().count()
        with tqdm(total=total, unit=" studies", file=sys.stderr, disable=verbosity < 1, leave=False) as bar:
            outcome = retraction_check_run(dry_run=dry_run, progress=bar.update)
        for change in outcome.changes:
            study = change.study
            label = study.citation_key or study.doi or study.pmid
            before, after = change.get_status_before_display(), change.get_status_after_display()
            self.stdout.write(f"  {label}: {before} → {after}  {change.notice}")
        if verbosity >= 2 or outcome.failures:
            for failure in outcome.failures:
                self.stderr.write(f"  lookup failed  {failure}")
        prefix = "Dry run, nothing written. " if dry_run else ""
        summary = (
            f"{prefix}{outcome.checked} cited studies checked: {len(outcome.changes)} changed, "
            f"{len(outcome.failures)} lookup(s) failed"
        )
        if outcome.failures:
            raise CommandError(summary)  # what was found is recorded; the failed studies wait for the next run
        self.stdout.write(self.style.SUCCESS(summary))
