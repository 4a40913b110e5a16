"""Background work's records: bibliography imports run as jobs, and the retraction check's runs and
what they changed (evidence/tasks.py, docs/operations.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.models.choices import RetractionStatus, choices_check
from evidence.models.library import Study

# --- Background jobs and the outside world (evidence/tasks.py, docs/operations.md) -----------------------


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """A bibliography file uploaded on the web, imported by a worker (evidence.tasks.run_import_job).

    The row is the job's whole state: the page polls it, and the task reads the file from it, so any
    worker can run it and running it twice does nothing more (a finished job is not run again; an
    import is one transaction, so a failed attempt wrote nothing). The file's text is dropped when the
    job finishes.
    """

    State = JobState

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=16, blank=True)
    update = models.BooleanField(default=False, help_text=_("Replace stored values that differ."))
    lookup = models.BooleanField(default=False, help_text=_("Fill empty fields from Crossref and PubMed."))
    text = models.TextField(blank=True, help_text=_("The file, until the job has finished."))
    state = models.CharField(max_length=12, choices=JobState, default=JobState.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text=_("Entries read from the file."))
    done = models.PositiveIntegerField(default=0, help_text=_("Entries handled so far."))
    attempts = models.PositiveSmallIntegerField(default=0)
    summary = models.CharField(max_length=500, blank=True)
    lines = models.JSONField(default=list, blank=True, help_text=_("The import's report, line by line."))
    error = models.TextField(blank=True, help_text=_("Why the job failed, or why the last attempt did."))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_check("state", JobState, "evidence_importjob_state_valid"),
        ]

    def __str__(self) -> str:
        return f"import of {self.filename} ({self.get_state_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class RetractionCheck(models.Model):
    """One run of the retraction check against Crossref and PubMed (evidence.services.monitoring); the
    editor's desk shows what the last one changed."""

    State = JobState

    state = models.CharField(max_length=12, choices=JobState, default=JobState.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0, help_text=_("Cited studies looked up."))
    failed = models.PositiveIntegerField(default=0, help_text=_("Look-ups that got no answer."))
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [choices_check("state", JobState, "evidence_retractioncheck_state_valid")]

    def __str__(self) -> str:
        return f"retraction check of {self.started_at:%Y-%m-%d %H:%M}"


class RetractionChange(models.Model):
    """A notice a retraction check found and applied: the study's status before and after, and where."""

    check_run = models.ForeignKey(RetractionCheck, on_delete=models.CASCADE, related_name="changes")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="retraction_changes")
    status_before = models.CharField(max_length=24, choices=RetractionStatus)
    status_after = models.CharField(max_length=24, choices=RetractionStatus)
    source = models.CharField(max_length=40, help_text=_("Crossref or PubMed, and what it said."))
    notice = models.TextField(blank=True)

    class Meta:
        ordering = ["check_run", "pk"]
        constraints = [
            choices_check("status_before", RetractionStatus, "evidence_retractionchange_before_valid"),
            choices_check("status_after", RetractionStatus, "evidence_retractionchange_after_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.study}: {self.status_before} → {self.status_after} ({self.source})"
