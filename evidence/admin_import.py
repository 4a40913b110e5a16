"""The curators' bibliography upload in the admin: upload → preview (a dry run) → confirm → a job.

Reached from the study list ("Import bibliography"); needs the evidence.add_study permission, which
Curators have. The upload, preview, confirmation and job status are evidence/bibliography_upload.py,
shared with the curator's workspace (/curate/import/): this module only draws them in the admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from evidence import bibliography_upload as upload
from evidence.jobs import runs_in_process
from evidence.models import ImportJob

TEMPLATE = "admin/evidence/study/import_bibliography.html"
JOB_TEMPLATE = "admin/evidence/study/import_job.html"


def _context(request: HttpRequest, model_admin: admin.ModelAdmin, **extra: Any) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import bibliography"),
        **extra,
    }


def import_view(request: HttpRequest, model_admin: admin.ModelAdmin) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    changelist = reverse(f"admin:{model_admin.model._meta.app_label}_study_changelist")

    if request.method == "POST" and "token" in request.POST:
        job = upload.confirm(request)
        if job is None:
            messages.error(request, upload.EXPIRED)
            return HttpResponseRedirect(reverse("admin:evidence_study_import"))
        return HttpResponseRedirect(reverse("admin:evidence_study_import_job", args=[job.pk]))

    form = upload.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        preview = upload.preview(request, form)
        if preview is not None:
            context = _context(
                request,
                model_admin,
                report=preview.report,
                lines=preview.lines,
                summary=preview.summary,
                filename=preview.filename,
                update=preview.update,
                confirm_form=preview.confirm_form,
                changelist_url=changelist,
            )
            return render(request, TEMPLATE, context)
    context = _context(request, model_admin, form=form, changelist_url=changelist, recent_jobs=upload.recent_jobs())
    return render(request, TEMPLATE, context)


def _job_for(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> ImportJob:
    """A job, for a curator (anyone who may import studies) to follow."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    return get_object_or_404(ImportJob.objects.select_related("user"), pk=pk)


def job_view(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> HttpResponse:
    job = _job_for(request, model_admin, pk)
    lines, lookups, _counts = upload.job_report(job)
    context = _context(
        request,
        model_admin,
        title=_("Import of %(name)s") % {"name": job.filename},
        job=job,
        status=upload.job_status(job),
        lines=lines,
        lookups=lookups,
        poll_seconds=upload.POLL_SECONDS,
        in_process=runs_in_process(),
        changelist_url=reverse(f"admin:{model_admin.model._meta.app_label}_study_changelist"),
    )
    return render(request, JOB_TEMPLATE, context)


def job_status_view(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> JsonResponse:
    """The job's state and counts, for the page's script."""
    return JsonResponse(upload.job_status(_job_for(request, model_admin, pk)))


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
