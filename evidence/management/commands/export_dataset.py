"""python manage.py export_dataset --output DIR [--force] [--site-url URL] [--internal-notes] [--dry-run]"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.opendata import dataset_export, dataset_rows


class Command(BaseCommand):
    help = (
        "Write the open dataset into DIR: everything readers can see (articles with their texts, claims with "
        "their anchors, studies, citations, published verdicts) as JSON and CSV, with a README and the licence "
        "(CC BY 4.0 for our reviews and verdicts). import_dataset loads it into an empty database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, metavar="DIR", help="the folder to write (created if needed)")
        parser.add_argument(
            "--site-url", default="", metavar="URL", help="the site the data comes from, named in the README"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would be written; write nothing")
        parser.add_argument(
            "--internal-notes",
            action="store_true",
            help="include the studies' internal notes (the curators' research log): for a copy of the site, not "
            "for publication",
        )
        parser.add_argument(
            "--force", action="store_true", help="write into DIR even when it already holds files (replacing ours)"
        )

    def handle(self, *args: Any, output: str, site_url: str, dry_run: bool, force: bool, **options: Any) -> None:
        if not output.strip():
            # Path("") is the current directory: an export there once replaced the project's README.md
            raise CommandError("--output is empty: name the folder to write the dataset into")
        target = Path(output)
        if dry_run:
            counts = ", ".join(f"{len(rows)} {name}" for name, rows in dataset_rows().items())
            self.stdout.write(self.style.SUCCESS(f"Dry run, nothing written: would write {counts} to {target}."))
            return
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} exists and is not a directory")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory")
        if target.is_dir() and any(target.iterdir()) and not force:
            raise CommandError(
                f"{target} already holds files; choose an empty folder, or add --force to write over ours"
            )
        # write beside the target, then move the finished files in: an interrupted export leaves the
        # previous files whole rather than half-written ones
        try:
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        except OSError as exc:
            raise CommandError(f"cannot write in {target.parent}: {exc.strerror or exc}") from None
        try:
            report = dataset_export(directory=staging, site_url=site_url, internal_notes=options["internal_notes"])
            target.mkdir(exist_ok=True)
            for name in report.files:
                os.replace(staging / name, target / name)
        except OSError as exc:
            raise CommandError(f"cannot write the dataset to {target}: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if options["verbosity"] >= 1:
            counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
            self.stdout.write(self.style.SUCCESS(f"Dataset written to {target}: {counts}."))
