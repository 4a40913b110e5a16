"""The curators' bibliography upload in the admin: upload → preview (a dry run) → confirm → import.

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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from evidence.importers.detect import FORMATS, size_limit_error
from evidence.importers.records import BibliographyError
from evidence.services import ImportReport, bibliography_import

# Kept in the session between preview and confirmation: a few thousand records.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SESSION_KEY = "evidence.bibliography_upload"
TEMPLATE = "admin/evidence/study/import_bibliography.html"


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
    return render(request, TEMPLATE, _context(request, model_admin, form=form, changelist_url=changelist))


def _confirm(request: HttpRequest, model_admin: admin.ModelAdmin, changelist: str) -> HttpResponse:
    form = ConfirmForm(request.POST)
    pending = request.session.get(SESSION_KEY)
    if not form.is_valid() or not pending or not secrets.compare_digest(form.cleaned_data["token"], pending["token"]):
        messages.error(request, _("That preview has expired or was replaced; upload the file again."))
        return HttpResponseRedirect(reverse("admin:evidence_study_import"))
    del request.session[SESSION_KEY]
    try:
        report = bibliography_import(
            data=pending["text"],
            filename=pending["name"],
            format=pending["format"],
            user=request.user,
            update=pending["update"],
        )
    except BibliographyError as exc:  # the file was checked at preview; only a code change gets here
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:evidence_study_import"))
    level = messages.WARNING if report.of("rejected") else messages.SUCCESS
    messages.add_message(
        request,
        level,
        _("Imported %(name)s: %(summary)s.") % {"name": pending["name"], "summary": report.summary("study")},
    )
    return HttpResponseRedirect(changelist)


def study_import_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    """The upload page's URL, for StudyAdmin.get_urls; admin_view adds the login and staff checks."""
    view = model_admin.admin_site.admin_view(lambda request: import_view(request, model_admin))
    return [path("import/", view, name="evidence_study_import")]
