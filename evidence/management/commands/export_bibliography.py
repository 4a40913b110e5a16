"""python manage.py export_bibliography --format bibtex|ris|csljson [--article SLUG] [--output PATH]"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.exporters import EXPORTERS
from evidence.models import Article, Study


class Command(BaseCommand):
    help = (
        "Export the study library, or the studies cited by one article, as BibTeX, RIS or CSL-JSON for a "
        "reference manager. The project's own fields (design, sample size, retraction, verification) go "
        "along as extras, so importing the file again reproduces the same studies. The curators' internal "
        "notes go only with --internal-notes (as the file's note field, which importers read back as one)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", required=True, choices=sorted(EXPORTERS))
        parser.add_argument("--article", metavar="SLUG", help="only the studies cited by this article's claims")
        parser.add_argument("--output", metavar="PATH", help="write to this file (default: standard output)")
        parser.add_argument(
            "--internal-notes",
            action="store_true",
            help="include the curators' internal notes (not for readers: keep such a file within the team)",
        )

    def handle(
        self, *args: Any, format: str, article: str | None, output: str | None, internal_notes: bool, **options: Any
    ) -> None:
        studies = Study.objects.all()
        if article:
            found = Article.objects.filter(slug=article).first()
            if found is None:
                raise CommandError(f"no article with the slug {article!r}")
            # a study cited by several claims joins once per citation; distinct() keeps one row each
            studies = studies.filter(citations__claim__article=found).distinct()
        studies = studies.order_by("citation_key", "pk")
        text = EXPORTERS[format](studies, internal_notes=internal_notes)
        n = studies.count()
        if not output:
            sys.stdout.write(text)
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory")
        # write beside the target and rename, so an interrupted export never leaves half a file
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"{n} studies written to {target} ({format})"))
