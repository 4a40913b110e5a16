"""Bibliography imports from the web run as background jobs (evidence.tasks, evidence.services.jobs).

No broker in tests: tasks run in-process (task_always_eager), through the same Celery task a worker
runs. The broker-down case is tests/test_jobs_broker.py."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import respx
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evidence import jobs
from evidence.bibliography_upload import SESSION_KEY
from evidence.models import ImportJob, JobState, Study
from evidence.services.jobs import import_job_create, import_job_run, progress_key
from evidence.tasks import MAX_RETRIES, requeue_waiting_jobs, run_import_job
from tests.conftest import SAMPLES
from tests.recorded import replay

JOB_URL = "admin:evidence_study_import_job"


@pytest.fixture
def curator_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("Curators"))
    return client


def confirm_upload(client: Client, name: str) -> ImportJob:
    client.post(
        reverse("admin:evidence_study_import"), {"file": SimpleUploadedFile(name, (SAMPLES / name).read_bytes())}
    )
    response = client.post(reverse("admin:evidence_study_import"), {"token": client.session[SESSION_KEY]["token"]})
    assert response.status_code == 302
    return ImportJob.objects.get()


@pytest.mark.django_db
def test_an_upload_runs_as_a_job_whose_page_shows_its_report(curator_client, caplog, monkeypatch):
    monkeypatch.setattr(jobs, "_said_in_process", False)  # said once per process
    with caplog.at_level("INFO", logger="evidence.jobs"):
        job = confirm_upload(curator_client, "zotero-export.json")
    assert "CELERY_BROKER_URL is not set: background jobs run in-process" in caplog.text
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1
    assert job.summary == "3 created, 1 merged, 1 rejected" and job.total == job.done == 5
    assert job.text == ""  # the file is not kept once imported
    assert Study.objects.count() == 3

    page = curator_client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert "Done" in page and "3 created, 1 merged, 1 rejected" in page and "is not a DOI" in page
    assert 'http-equiv="refresh"' not in page  # a finished job's page stops reloading
    status = curator_client.get(reverse("admin:evidence_study_import_job_status", args=[job.pk])).json()
    assert status["finished"] and status["done"] == status["total"] == 5
    # the upload page lists it among the recent imports, for a curator who left its page
    upload = curator_client.get(reverse("admin:evidence_study_import")).content.decode()
    assert reverse(JOB_URL, args=[job.pk]) in upload and "3 created, 1 merged, 1 rejected" in upload


@pytest.mark.django_db
def test_a_waiting_job_page_refreshes_without_javascript_and_polls_with_it(curator_client, make_user):
    job = import_job_create(text="@article{a, title={T}, doi={10.5555/job.1}}", filename="a.bib", user=None)
    page = curator_client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert "Waiting" in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "js/import-job.js" in page and reverse("admin:evidence_study_import_job_status", args=[job.pk]) in page
    assert (
        curator_client.get(reverse("admin:evidence_study_import_job_status", args=[job.pk])).json()["state"] == "queued"
    )


@pytest.mark.django_db
def test_a_refused_file_fails_the_job_with_the_reason_and_writes_nothing():
    job = import_job_create(text="this is not a bibliography\n", filename="notes.bib")
    run_import_job.delay(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.finished_at is not None
    assert "Nothing was imported" in job.error and "bibliography" in job.error.lower()
    assert Study.objects.count() == 0


@pytest.mark.django_db
def test_a_job_runs_once_however_often_it_is_sent():
    job = import_job_create(text=(SAMPLES / "pubmed-export.ris").read_text(), filename="pubmed-export.ris")
    run_import_job.delay(job.pk)
    job.refresh_from_db()
    studies, history = Study.objects.count(), Study.history.count()
    run_import_job.delay(job.pk)  # a second delivery (a worker died before acknowledging it, say)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1
    assert (Study.objects.count(), Study.history.count()) == (studies, history)


@pytest.mark.django_db
def test_job_pages_need_the_import_permission(make_user):
    job = import_job_create(text="x", filename="a.bib")
    client = Client()
    client.force_login(make_user("Reviewers"))
    assert client.get(reverse(JOB_URL, args=[job.pk])).status_code == 403
    assert client.get(reverse("admin:evidence_study_import_job_status", args=[job.pk])).status_code == 403
    assert Client().get(reverse(JOB_URL, args=[job.pk])).status_code == 302  # to the sign-in page


@pytest.mark.django_db(transaction=True)
def test_a_locked_table_is_retried_with_back_off_then_fails_the_job_writing_nothing():
    """A real passing fault: another session holds the study table, and our lock_timeout runs out. Each
    attempt rolls back; in-process Celery retries at once (a worker waits backoff() seconds)."""
    job = import_job_create(text=(SAMPLES / "pubmed-export.ris").read_text(), filename="pubmed-export.ris")
    locked, release = threading.Event(), threading.Event()

    def hold_the_table() -> None:
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute("LOCK TABLE evidence_study IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(60)
        finally:
            connections["default"].close()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '50ms'")
        try:
            run_import_job.delay(job.pk)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        holder.join()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == MAX_RETRIES + 1
    assert "database was unavailable" in job.error and "lock timeout" in job.error
    assert f"Gave up after {MAX_RETRIES + 1} attempts" in job.error
    assert Study.objects.count() == 0


@pytest.mark.django_db
def test_the_import_option_completes_the_files_studies_from_crossref(curator_client, settings):
    settings.EVIDENCE_LOOKUP_ENABLED = True
    settings.EVIDENCE_LOOKUP_MAILTO = ""
    bib = b"@article{berman2000, doi={10.1016/S0006-3223(99)00230-9}, volume={48}}\n"
    curator_client.post(
        reverse("admin:evidence_study_import"), {"file": SimpleUploadedFile("one.bib", bib), "lookup": "on"}
    )
    with respx.mock() as network:
        replay(network, "crossref/berman2000")
        curator_client.post(
            reverse("admin:evidence_study_import"), {"token": curator_client.session[SESSION_KEY]["token"]}
        )
    job = ImportJob.objects.get()
    assert job.state == JobState.SUCCEEDED
    assert job.summary == "1 created; looked up 1: 1 completed, 0 failed"
    study = Study.objects.get()
    assert study.title == "Antidepressant effects of ketamine in depressed patients" and study.verified
    assert study.volume == "48"  # the file's value stands; the difference is on the job's page
    page = curator_client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert "Looked up in Crossref and PubMed" in page and "kept the stored volume &#x27;48&#x27;; Crossref says" in page


@pytest.mark.django_db
def test_the_import_option_with_lookups_switched_off_says_so():
    job = import_job_create(text="@article{a, title={T}, doi={10.5555/job.1}}", filename="a.bib", lookup=True)
    run_import_job.delay(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and Study.objects.count() == 1
    assert any(line["kind"] == "lookup" and "switched off" in line["detail"] for line in job.lines)


@pytest.mark.django_db
def test_a_running_jobs_page_shows_its_progress(curator_client):
    """The rows being imported are not visible before the commit, so progress travels by the cache."""
    job = import_job_create(text="x", filename="big.bib")
    ImportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING)
    cache.set(progress_key(job.pk), (1000, 3000))
    page = curator_client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert "Running" in page and 'max="3000" value="1000"' in page and "1000 / 3000" in page
    status = curator_client.get(reverse("admin:evidence_study_import_job_status", args=[job.pk])).json()
    assert (status["done"], status["total"], status["finished"]) == (1000, 3000, False)


@pytest.mark.django_db
def test_a_job_whose_message_was_lost_is_sent_again():
    """Sent while Redis was down, a job waits; the scheduler's requeue_waiting_jobs sends it again."""
    waiting = import_job_create(text=(SAMPLES / "pubmed-export.ris").read_text(), filename="pubmed-export.ris")
    fresh = import_job_create(text="@article{a, title={T}, doi={10.5555/job.2}}", filename="a.bib")
    ImportJob.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert requeue_waiting_jobs.delay().get() == 1
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert waiting.state == JobState.SUCCEEDED and fresh.state == JobState.QUEUED  # too recent to be lost


@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_leaves_at_once_while_a_worker_holds_the_job():
    job = import_job_create(text=(SAMPLES / "pubmed-export.ris").read_text(), filename="pubmed-export.ris")
    locked, release = threading.Event(), threading.Event()

    def a_worker_importing() -> None:
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().get(pk=job.pk)
                locked.set()
                release.wait(60)
        finally:
            connections["default"].close()

    holder = threading.Thread(target=a_worker_importing)
    holder.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")  # waiting for the lock would fail the test, not hang it
        try:
            assert import_job_run(job_id=job.pk) is None
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        holder.join()
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0 and Study.objects.count() == 0
