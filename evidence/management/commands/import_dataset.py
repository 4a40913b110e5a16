"""python manage.py import_dataset DIR [--dry-run]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.opendata import DatasetError, dataset_import


class Command(BaseCommand):
    help = (
        "Load a folder written by export_dataset into an empty database, keeping every id, so a mirror's URLs "
        "are the original's. All or nothing: a record that does not validate stops the import, naming it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR")
        parser.add_argument("--dry-run", action="store_true", help="check and count, then roll back")

    def handle(self, *args: Any, directory: str, dry_run: bool, **options: Any) -> None:
        folder = Path(directory)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a directory")
        verbosity = options["verbosity"]

        def progress(name: str, n: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {name}: {n}")

        try:
            report = dataset_import(directory=folder, dry_run=dry_run, progress=progress)
        except DatasetError as exc:
            raise CommandError(f"Nothing imported: {exc}") from None
        if verbosity >= 1:
            counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
            prefix = "Dry run, nothing written: would import" if dry_run else "Imported"
            self.stdout.write(self.style.SUCCESS(f"{prefix} {counts}."))
