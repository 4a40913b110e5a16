"""python manage.py send_digests [--dry-run]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reviews.models import Notification
from reviews.services.notifications import digests_send


class Command(BaseCommand):
    help = (
        "Email each person their daily digest: one email with every notification they chose to receive in the "
        "digest (and any that could not be sent at once) since the last one. The scheduler runs it daily at "
        "07:00 (reviews/tasks.py); running it twice sends nothing the second time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say how many digests would go, send nothing")

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        if dry_run:
            people = Notification.objects.filter(sent_at__isnull=True).values("user").distinct().count()
            if verbosity:
                self.stdout.write(f"{people} digest{'s' if people != 1 else ''} would be sent (dry run).")
            return
        sent = digests_send()
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"{sent} digest{'s' if sent != 1 else ''} sent."))
