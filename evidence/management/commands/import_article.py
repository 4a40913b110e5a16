"""python manage.py import_article PATH [--dry-run] [--update]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.importers.article import ArticleFileError, load
from evidence.services import ArticleImportRejected, ImportReport, article_import


class Command(BaseCommand):
    help = (
        "Import an article with its claims, the studies they cite and the links between them from an "
        "article file (format: docs/article-format.md). Quotes are located in the text; for a new article or "
        "claim, a quote that is missing or occurs more than once is refused and nothing is written. A revised "
        "text of a stored article re-anchors its claims; one whose quote is gone becomes an orphan, reported "
        "line by line. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the article file (JSON)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        parser.add_argument(
            "--update",
            action="store_true",
            help="replace stored study fields that differ from the file (default: keep them, report a conflict)",
        )

    def handle(self, *args, path: str, dry_run: bool, update: bool, verbosity: int, **options) -> None:
        try:
            bundle = load(path)
        except ArticleFileError as exc:
            raise CommandError(self._refusal(path, exc.problems)) from None
        try:
            report = article_import(bundle=bundle, dry_run=dry_run, update=update)
        except ArticleImportRejected as exc:
            rejected = [f"{line.kind} {line.label}: {line.detail}" for line in exc.report.of("rejected")]
            raise CommandError(self._refusal(path, rejected)) from None
        self._write_lines(report, verbosity)
        self._summary(report)

    @staticmethod
    def _refusal(path: str, problems: list[str]) -> str:
        """The error names every problem (the quote and the reason, for a quote), not only their number,
        so a caller of call_command sees them as well as a person at the terminal."""
        listed = "".join(f"\n  - {problem}" for problem in problems)
        return f"{path}: nothing was imported; {len(problems)} problem(s):{listed}"

    def _write_lines(self, report: ImportReport, verbosity: int, only: set[str] | None = None) -> None:
        for line in report.lines:
            if only and line.action not in only:
                continue
            # an orphan needs an editor: said whatever the verbosity, like a refusal or a conflict
            if line.action in {"rejected", "conflict", "orphaned"} or verbosity >= 2:
                out = self.stderr if line.action == "rejected" else self.stdout
                out.write(f"  {line.action:9} {line.kind:8} {line.label}  {line.detail}".rstrip())

    def _summary(self, report: ImportReport) -> None:
        parts = []
        for kind in ("study", "article", "claim", "citation", "flag"):
            counts = report.counts(kind)
            if counts:
                detail = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
                parts.append(f"{kind}: {detail}")
        prefix = "Dry run, nothing written. " if report.dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + ("; ".join(parts) or "nothing to import")))
