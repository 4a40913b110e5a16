"""python manage.py format_references [--cited] [--dry-run]"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from evidence.citations import reference_source, references_store
from evidence.models import Citation, Study

BATCH = 500


class Command(BaseCommand):
    help = (
        "Format and store the APA and Vancouver references of the studies whose stored ones are missing or "
        "stale (evidence.citations), so that no reader waits for citeproc: after a bulk import, which leaves "
        "them to the first reader, or an upgrade of the citation code. Idempotent: current ones are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cited", action="store_true", help="only the studies some claim cites")
        parser.add_argument("--dry-run", action="store_true", help="count the stale ones, write nothing")

    def handle(self, *args: Any, cited: bool, dry_run: bool, verbosity: int, **options: Any) -> None:
        studies = Study.objects.order_by("pk")
        if cited:
            studies = studies.filter(pk__in=Citation.objects.values("study_id"))
        ids = list(studies.values_list("pk", flat=True))
        formatted = 0
        progress = tqdm(total=len(ids), unit=" studies", file=sys.stderr, disable=verbosity < 1 or len(ids) < 2)
        for start in range(0, len(ids), BATCH):
            batch = list(Study.objects.with_references().filter(pk__in=ids[start : start + BATCH]).order_by("pk"))
            if dry_run:
                formatted += sum((s.references or {}).get("source") != reference_source(s) for s in batch)
            else:
                with transaction.atomic():  # a batch at a time: an interrupted run keeps what it did
                    formatted += references_store(batch)
            progress.update(len(batch))
        progress.close()
        prefix = "Dry run, nothing written. " if dry_run else ""
        verb = "to format" if dry_run else "formatted"
        self.stdout.write(self.style.SUCCESS(f"{prefix}{len(ids)} studies: {formatted} {verb}, the rest current"))
