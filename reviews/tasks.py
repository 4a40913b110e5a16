"""The review workflow's scheduled Celery tasks (evidence/celery.py finds them here; the schedule is
CELERY_BEAT_SCHEDULE in evidence/settings.py). Each is idempotent: a reminder goes once per due date, a
notification is sent once."""

from __future__ import annotations

from celery import shared_task

from reviews.services.assignments import assignments_remind_due
from reviews.services.notifications import digests_send


@shared_task
def remind_due_assignments() -> int:
    """The "due soon" reminders (`manage.py remind_due_assignments`); returns how many."""
    return assignments_remind_due()


@shared_task
def send_notification_digests() -> int:
    """The daily digests (`manage.py send_digests`); returns how many emails went out."""
    return digests_send()
