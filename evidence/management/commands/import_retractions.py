"""python manage.py import_retractions PATH [--dry-run]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evidence.importers.retractions import RetractionFileError, read
from evidence.services import retractions_import


class Command(BaseCommand):
    help = (
        "Apply the Retraction Watch data set (the CSV Crossref distributes) to the study library: studies are "
        "matched by DOI, then PubMed ID, and their retraction, expression of concern or correction is recorded "
        "with its date, notice DOI and reasons. A newly retracted study flags the claims relying on it. The file "
        "is streamed; one transaction for the whole file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the Retraction Watch CSV")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")

    def handle(self, *args: Any, path: str, dry_run: bool, verbosity: int, **options: Any) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with file.open(encoding="utf-8-sig", newline="") as handle:
                rows = tqdm(handle, unit=" lines", file=sys.stderr, disable=verbosity < 1, leave=False)
                report = retractions_import(notices=read(rows), dry_run=dry_run)
        except RetractionFileError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text (is it the CSV?); nothing was imported.") from None
        for line in report.lines:
            if line.kind == "notice" and verbosity < 2:
                continue  # rows that name no paper are common in the data set; listed only with -v 2
            if line.action in {"conflict", "updated", "created"} or verbosity >= 2:
                self.stdout.write(f"  {line.action:9} {line.kind:6} {line.label}  {line.detail}".rstrip())
        prefix = "Dry run, nothing written. " if dry_run else ""
        counts = report.counts("study")
        flags = report.counts("flag")["created"]
        skipped = report.counts("notice")["rejected"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}studies: {counts['updated']} updated, {counts['unchanged']} already up to date, "
                f"{counts['conflict']} reported for review; {flags} claim flag(s) raised; "
                f"{skipped} row(s) naming no paper skipped"
            )
        )
