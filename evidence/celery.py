"""The Celery app, laid out as Celery's "First steps with Django" guide has it: configured from Django's
settings (the ``CELERY_`` names in evidence/settings.py), tasks found in each app's ``tasks`` module.

Start a worker with its scheduler (beat) with ``make worker``; production runs them as two services
(docs/operations.md). Without CELERY_BROKER_URL every task runs in-process when it is sent
(task_always_eager), so ``make run`` needs nothing else running.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidence.settings")

app = Celery("evidence")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
