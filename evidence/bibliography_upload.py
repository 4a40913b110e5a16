"""The bibliography upload, one path for the admin's page (evidence/admin_import.py) and the curator's
workspace (evidence/curate/views.py): upload → preview (a dry run) → confirm → a background job.

Between the preview and the confirmation the file's text waits in the user's session (never on disk),
under a random token that the confirmation must send back, so a stale or second tab cannot import a
different file than the one previewed. The session holds at most MAX_UPLOAD_BYTES, and no upload may be
larger than the import limit (EVIDENCE_IMPORT_MAX_BYTES) either. The confirmed import runs as a job
(evidence.tasks.run_import_job, an ImportJob row) whose page shows its state and counts; a small script
(static/js/import-job.js) polls job_status() without reloading, and without JavaScript the page reloads.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from evidence.importers.detect import FORMATS, size_limit_error
from evidence.importers.records import BibliographyError
from evidence.jobs import enqueue
from evidence.models import ImportJob
from evidence.services import ImportReport, ReportLine, bibliography_import
from evidence.services.jobs import import_job_create, import_job_progress
from evidence.tasks import run_import_job

# Kept in the session between preview and confirmation: a few thousand records.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SESSION_KEY = "evidence.bibliography_upload"
# seconds between two looks at a running job, by the page's script or, without it, by a reload
POLL_SECONDS = 2
RECENT_JOBS = 10
# the report's sections, in the order a curator reads them: what went wrong first
REPORT_ORDER = ("rejected", "conflict", "created", "updated", "merged", "unchanged")


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Bibliography file"),
        help_text=_("BibTeX (.bib), RIS (.ris) or CSL-JSON (.json), as Zotero, EndNote, Mendeley or PubMed export it."),
    )
    format = forms.ChoiceField(choices=[("", _("Detect from the content")), *[(f, f) for f in FORMATS]], required=False)
    update = forms.BooleanField(
        required=False,
        label=_("Replace stored values"),
        help_text=_("Off: a matched study only gains the fields it lacks; differences are listed as conflicts."),
    )
    lookup = forms.BooleanField(
        required=False,
        label=_("Look up in Crossref and PubMed"),
        help_text=_(
            "After the import, fill the empty fields of the file's studies from their DOI or PMID "
            "(only when lookups are switched on: EVIDENCE_LOOKUP_ENABLED)."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        refused = size_limit_error(upload.size)
        if refused:
            raise forms.ValidationError(refused[:1].upper() + refused[1:] + ".")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; import it with manage.py import_bibliography.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class ConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


@dataclass
class Preview:
    """What a file would do, for the preview page; nothing has been written."""

    report: ImportReport
    filename: str
    update: bool
    confirm_form: ConfirmForm

    @property
    def lines(self) -> dict[str, list[ReportLine]]:
        return report_sections(self.report)

    @property
    def summary(self) -> str:
        return self.report.summary("study")


def report_sections(report: ImportReport) -> dict[str, list[ReportLine]]:
    """The report's study lines by action, in REPORT_ORDER, leaving out the empty ones."""
    return {action: report.of(action, "study") for action in REPORT_ORDER if report.of(action, "study")}


def preview(request: HttpRequest, form: UploadForm) -> Preview | None:
    """Dry-run the valid form's file and keep it in the session for the confirmation. None, with the
    importer's reason on the form's file field, when the file is refused."""
    upload = form.cleaned_data["file"]
    data = upload.read()
    update = form.cleaned_data["update"]
    try:
        report = bibliography_import(
            data=data,
            filename=upload.name,
            format=form.cleaned_data["format"] or None,
            user=request.user,
            dry_run=True,
            update=update,
        )
    except BibliographyError as exc:
        form.add_error("file", str(exc))
        return None
    token = secrets.token_urlsafe(24)
    # the dry run decoded it, so the bytes are UTF-8 text
    request.session[SESSION_KEY] = {
        "token": token,
        "name": upload.name,
        "text": data.decode("utf-8-sig"),
        "format": report.format,
        "update": update,
        "lookup": form.cleaned_data["lookup"],
    }
    return Preview(report, upload.name, update, ConfirmForm(initial={"token": token}))


def confirm(request: HttpRequest) -> ImportJob | None:
    """Start the previewed import as a job; None when the token does not match the preview in the
    session (expired, replaced by another upload, or already confirmed)."""
    form = ConfirmForm(request.POST)
    pending = request.session.get(SESSION_KEY)
    if not form.is_valid() or not pending or not secrets.compare_digest(form.cleaned_data["token"], pending["token"]):
        return None
    del request.session[SESSION_KEY]
    job = import_job_create(
        text=pending["text"],
        filename=pending["name"],
        format=pending["format"],
        update=pending["update"],
        lookup=pending.get("lookup", False),
        user=request.user,
    )
    # import_job_create has committed the row, so a worker finds it (in-process, the job runs here and now);
    # if the queue is unreachable the job waits and the page says so
    enqueue(run_import_job, job.pk)
    return job


EXPIRED = _("That preview has expired or was replaced; upload the file again.")


def recent_jobs() -> QuerySet[ImportJob]:
    """The last imports, so a curator who left a job's page finds it again (one query, without the files)."""
    return ImportJob.objects.select_related("user").defer("text", "lines").order_by("-created_at")[:RECENT_JOBS]


def job_status(job: ImportJob) -> dict[str, Any]:
    """The job's state and counts: the job page's first drawing, and the JSON its script polls."""
    done, total = import_job_progress(job)
    return {
        "state": job.state,
        "state_display": job.get_state_display(),
        "finished": job.finished,
        "done": done,
        "total": total,
        "summary": job.summary,
        "error": job.error,
    }


def job_report(job: ImportJob) -> tuple[dict[str, list[ReportLine]], list[ReportLine], dict[str, int]]:
    """A finished job's report: its study lines by action, its lookup lines, and the count of each action."""
    report = ImportReport(lines=[ReportLine(**line) for line in job.lines])
    lookups = [line for line in report.lines if line.kind == "lookup"]
    counts = report.counts("study")
    return report_sections(report), lookups, {action: counts[action] for action in REPORT_ORDER}
