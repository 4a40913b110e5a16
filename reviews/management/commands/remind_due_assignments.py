"""python manage.py remind_due_assignments [--dry-run]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reviews.services.assignments import assignments_remind_due, reminders_due


class Command(BaseCommand):
    help = (
        "Tell each reviewer whose assignment is due within EVIDENCE_DUE_SOON_DAYS days (default 2) and not yet "
        "submitted that it is due soon, once per due date, as each chose (at once, in the digest, or not). "
        "The scheduler runs it daily (reviews/tasks.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say how many would be reminded, send nothing")

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        if dry_run:
            count = reminders_due().count()
            if verbosity:
                self.stdout.write(f"{count} assignment{'s' if count != 1 else ''} would be reminded (dry run).")
            return
        count = assignments_remind_due()
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"{count} reviewer reminder{'s' if count != 1 else ''} made."))
