"""Sending work to the Celery worker, and what happens when there is none.

Without CELERY_BROKER_URL, Celery runs a task in-process when it is sent (task_always_eager): the log says
so once per process. With a broker that cannot be reached (Redis down), sending fails after a few quick
retries (CELERY_BROKER_TRANSPORT_OPTIONS); the job's row stays waiting and the scheduler's
requeue_waiting_jobs sends it again once Redis is back, so pages keep working and jobs wait.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.conf import settings
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger("evidence.jobs")
_said_in_process = False


def runs_in_process() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def enqueue(task: Task, *args: Any) -> bool:
    """Send ``task`` to the worker (or run it here when no broker is configured). Returns False, and
    logs why, when the broker could not take it: the caller leaves its job waiting."""
    global _said_in_process
    if runs_in_process() and not _said_in_process:
        logger.info("CELERY_BROKER_URL is not set: background jobs run in-process (task_always_eager).")
        _said_in_process = True
    try:
        task.delay(*args)
    except BrokerError as exc:
        logger.warning("The job queue is unreachable (%s); %s%s waits for requeue_waiting_jobs.", exc, task.name, args)
        return False
    return True
