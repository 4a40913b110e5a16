"""The curators' bibliography upload in the admin: upload → preview (a dry run) → confirm → a job.

The confirmed import runs as a background job (evidence.tasks.run_import_job, an ImportJob row): the
curator lands on the job's page, which shows its state and counts and refreshes itself until it has
finished (a small script polls its status without reloading; without JavaScript the page reloads).

Reached from the study list ("Import bibliography"); needs the evidence.add_study permission, which
Curators have. Between the preview and the confirmation the file's text waits in the user's session
(never on disk), under a random token that the confirmation must send back, so a stale or second tab
cannot import a different file than the one previewed. The session holds at most MAX_UPLOAD_BYTES, and
no upload may be larger than the import limit (EVIDENCE_IMPORT_MAX_BYTES) either.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from evidence.importers.detect import FORMATS, size_limit_error
from evidence.importers.records import BibliographyError
from evidence.jobs import enqueue, runs_in_process
from evidence.models import ImportJob
from evidence.services import ImportReport, ReportLine, bibliography_import
from evidence.services.jobs import import_job_create, import_job_progress
from evidence.tasks import run_import_job

# Kept in the session between preview and confirmation: a few thousand records.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SESSION_KEY = "evidence.bibliography_upload"
TEMPLATE = "admin/evidence/study/import_bibliography.html"
JOB_TEMPLATE = "admin/evidence/study/import_job.html"
# seconds between two looks at a running job, by the page's script or, without it, by a reload
POLL_SECONDS = 2
RECENT_JOBS = 10


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


def _context(request: HttpRequest, model_admin: admin.ModelAdmin, **extra: Any) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import bibliography"),
        **extra,
    }


def _lines(report: ImportReport) -> dict[str, list]:
    order = ["rejected", "conflict", "created", "updated", "merged", "unchanged"]
    return {action: report.of(action, "study") for action in order if report.of(action, "study")}


def import_view(request: HttpRequest, model_admin: admin.ModelAdmin) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    changelist = reverse(f"admin:{model_admin.model._meta.app_label}_study_changelist")

    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, model_admin, changelist)

    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        chosen = form.cleaned_data["format"] or None
        update = form.cleaned_data["update"]
        lookup = form.cleaned_data["lookup"]
        try:
            report = bibliography_import(
                data=data, filename=upload.name, format=chosen, user=request.user, dry_run=True, update=update
            )
        except BibliographyError as exc:
            form.add_error("file", str(exc))
        else:
            token = secrets.token_urlsafe(24)
            # the dry run decoded it, so the bytes are UTF-8 text
            request.session[SESSION_KEY] = {
                "token": token,
                "name": upload.name,
                "text": data.decode("utf-8-sig"),
                "format": report.format,
                "update": update,
                "lookup": lookup,
            }
            context = _context(
                request,
                model_admin,
                report=report,
                lines=_lines(report),
                summary=report.summary("study"),
                filename=upload.name,
                update=update,
                confirm_form=ConfirmForm(initial={"token": token}),
                changelist_url=changelist,
            )
            return render(request, TEMPLATE, context)
    # the last imports, so a curator who left a job's page finds it again (one query)
    recent = ImportJob.objects.select_related("user").defer("text", "lines").order_by("-created_at")[:RECENT_JOBS]
    context = _context(request, model_admin, form=form, changelist_url=changelist, recent_jobs=recent)
    return render(request, TEMPLATE, context)


def _confirm(request: HttpRequest, model_admin: admin.ModelAdmin, changelist: str) -> HttpResponse:
    form = ConfirmForm(request.POST)
    pending = request.session.get(SESSION_KEY)
    if not form.is_valid() or not pending or not secrets.compare_digest(form.cleaned_data["token"], pending["token"]):
        messages.error(request, _("That preview has expired or was replaced; upload the file again."))
        return HttpResponseRedirect(reverse("admin:evidence_study_import"))
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
    return HttpResponseRedirect(reverse("admin:evidence_study_import_job", args=[job.pk]))


def _job_for(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> ImportJob:
    """A job, for a curator (anyone who may import studies) to follow."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    return get_object_or_404(ImportJob.objects.select_related("user"), pk=pk)


def _job_status(job: ImportJob) -> dict[str, Any]:
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


def job_view(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> HttpResponse:
    job = _job_for(request, model_admin, pk)
    report = ImportReport(lines=[ReportLine(**line) for line in job.lines])
    lookups = [line for line in report.lines if line.kind == "lookup"]
    context = _context(
        request,
        model_admin,
        title=_("Import of %(name)s") % {"name": job.filename},
        job=job,
        status=_job_status(job),
        lines=_lines(report),
        lookups=lookups,
        poll_seconds=POLL_SECONDS,
        in_process=runs_in_process(),
        changelist_url=reverse(f"admin:{model_admin.model._meta.app_label}_study_changelist"),
    )
    return render(request, JOB_TEMPLATE, context)


def job_status_view(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> JsonResponse:
    """The job's state and counts, for the page's script."""
    return JsonResponse(_job_status(_job_for(request, model_admin, pk)))


def study_import_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    """The upload page's URL, for StudyAdmin.get_urls; admin_view adds the login and staff checks."""
    site = model_admin.admin_site
    view = site.admin_view(lambda request: import_view(request, model_admin))
    job = site.admin_view(lambda request, pk: job_view(request, model_admin, pk))
    status = site.admin_view(lambda request, pk: job_status_view(request, model_admin, pk))
    return [
        path("import/", view, name="evidence_study_import"),
        path("import/jobs/<int:pk>/", job, name="evidence_study_import_job"),
        path("import/jobs/<int:pk>/status/", status, name="evidence_study_import_job_status"),
    ]
