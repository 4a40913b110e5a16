"""python manage.py import_bibliography PATH [--format bibtex|ris|csljson] [--dry-run] [--update] [--strict]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evidence.importers.detect import FORMATS, size_limit_error
from evidence.importers.records import BibliographyError
from evidence.services import BibliographyRejected, ImportReport, bibliography_import

# Below this many records the import is over before a progress bar would be worth drawing.
PROGRESS_THRESHOLD = 1000


class Command(BaseCommand):
    help = (
        "Import studies from a BibTeX, RIS or CSL-JSON file (Zotero, EndNote, Mendeley, PubMed exports). "
        "The format is read from the content unless --format is given. Studies are matched by DOI, then "
        "PMID, then title with year; a match gains the fields it lacks and keeps the ones it has (reported "
        "as conflicts) unless --update is given. One transaction for the whole file; a file that is not a "
        "bibliography, is truncated, binary, empty or larger than EVIDENCE_IMPORT_MAX_BYTES is refused and "
        "nothing is written. Entries that cannot be imported are listed and the rest imported (exit 0; the last "
        "line counts them), unless --strict is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the bibliography file")
        parser.add_argument("--format", choices=FORMATS, help="skip format detection")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        parser.add_argument(
            "--update",
            action="store_true",
            help="replace stored study fields that differ from the file (the history records it)",
        )
        parser.add_argument(
            "--strict", action="store_true", help="write nothing and exit non-zero if any entry is rejected"
        )

    def handle(
        self,
        *args: Any,
        path: str,
        format: str | None,
        dry_run: bool,
        update: bool,
        strict: bool,
        verbosity: int,
        **options: Any,
    ) -> None:
        data = self._read(Path(path))
        bar: tqdm | None = None

        def progress(step: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                disable = verbosity < 1 or total < PROGRESS_THRESHOLD
                # updates come once per batch of records, so each is drawn (mininterval=0, miniters=1)
                bar = tqdm(
                    total=total, unit="record", file=sys.stderr, disable=disable, leave=False, mininterval=0, miniters=1
                )
            bar.update(step)

        try:
            report = bibliography_import(
                data=data,
                filename=Path(path).name,
                format=format,
                dry_run=dry_run,
                update=update,
                strict=strict,
                progress=progress,
            )
        except BibliographyError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported.") from None
        except BibliographyRejected as exc:
            self._write_lines(exc.report, verbosity, only={"rejected"})
            raise CommandError(f"{path}: {exc}.") from None
        finally:
            if bar is not None:
                bar.close()
        self._write_lines(report, verbosity)
        prefix = "Dry run, nothing written. " if report.dry_run else ""
        summary = f"{prefix}{report.format}: {report.summary('study')}"
        flags = report.counts("flag")["created"]
        if flags:
            summary += f"; {flags} claim(s) flagged for relying on a retracted study"
        style = self.style.WARNING if report.of("rejected") else self.style.SUCCESS
        self.stdout.write(style(summary))

    def _read(self, path: Path) -> bytes:
        try:
            # refused before it is read: the import holds the whole file in memory
            refused = size_limit_error(path.stat().st_size)
            if refused:
                raise CommandError(f"{path}: {refused}; nothing was imported.")
            return path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"{path}: is a directory, not a file") from None
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror})") from None

    def _write_lines(self, report: ImportReport, verbosity: int, only: set[str] | None = None) -> None:
        """Rejections and conflicts always (rejections on stderr); every line at verbosity 2."""
        for line in report.lines:
            if only and line.action not in only:
                continue
            if line.action in {"rejected", "conflict"} or verbosity >= 2:
                out = self.stderr if line.action == "rejected" else self.stdout
                hint = " (use --update to replace)" if line.action == "conflict" else ""
                out.write(f"  {line.action:9} {line.label}  {line.detail}{hint}".rstrip())
                if verbosity >= 2:
                    for difference in line.differences:
                        out.write(f"    {difference.field}: stored {difference.stored!r}, file {difference.incoming!r}")
