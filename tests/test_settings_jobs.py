"""Settings for background jobs and lookups (evidence/settings.py), read in a fresh process each
(tests/test_settings.py explains why)."""

from __future__ import annotations

import json

import pytest

from tests.test_settings import PRODUCTION, start

PROBE = """
import json
import django
from django.conf import settings
django.setup()
from evidence.celery import app
print(json.dumps({
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url or "",
    "lookups": settings.EVIDENCE_LOOKUP_ENABLED,
    "timeout": settings.EVIDENCE_LOOKUP_TIMEOUT,
    "beat": {name: entry["task"] for name, entry in app.conf.beat_schedule.items()},
    "registered": (app.loader.import_default_modules(), sorted(app.tasks))[1],
}))
"""


def probe(**env: str) -> dict:
    result = start("-c", PROBE, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_broker_tasks_run_in_process():
    assert probe()["eager"] is True


def test_with_a_broker_tasks_go_to_it():
    found = probe(CELERY_BROKER_URL="redis://127.0.0.1:6379/1")
    assert found["eager"] is False and found["broker"] == "redis://127.0.0.1:6379/1"


def test_the_scheduler_runs_the_retraction_check_requeues_waiting_jobs_and_sends_the_emails():
    found = probe()
    assert set(found["beat"].values()) == {
        "evidence.tasks.check_retractions",
        "evidence.tasks.requeue_waiting_jobs",
        # reviews/tasks.py: the "due soon" reminders and the daily digest of notifications
        "reviews.tasks.remind_due_assignments",
        "reviews.tasks.send_notification_digests",
    }
    # every scheduled task is one the worker knows (found by autodiscover_tasks in each app)
    assert set(found["beat"].values()) <= set(found["registered"])


def test_lookups_are_off_unless_asked_for():
    assert probe()["lookups"] is False
    assert probe(EVIDENCE_LOOKUP_ENABLED="1")["lookups"] is True


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EVIDENCE_LOOKUP_ENABLED": "maybe"}, "EVIDENCE_LOOKUP_ENABLED"),
        ({"EVIDENCE_LOOKUP_TIMEOUT": "0"}, "EVIDENCE_LOOKUP_TIMEOUT"),
        ({"EVIDENCE_LOOKUP_TIMEOUT": "soon"}, "EVIDENCE_LOOKUP_TIMEOUT"),
        ({"EVIDENCE_LOOKUP_CACHE_SECONDS": "-1"}, "EVIDENCE_LOOKUP_CACHE_SECONDS"),
        ({"EVIDENCE_RETRACTION_CHECK_HOURS": "0"}, "EVIDENCE_RETRACTION_CHECK_HOURS"),
        ({"EVIDENCE_SITE_URL": "evidence.example"}, "EVIDENCE_SITE_URL"),
        ({"EVIDENCE_DUE_SOON_DAYS": "-1"}, "EVIDENCE_DUE_SOON_DAYS"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(env: dict[str, str], named: str):
    result = start("-c", PROBE, **PRODUCTION, **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]
