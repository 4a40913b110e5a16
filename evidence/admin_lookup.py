"""The study form's "Look up in Crossref and PubMed" button: fills the study's empty fields from its DOI
and PMID (evidence.services.lookup.study_lookup_apply) and says what it filled, kept and could not ask."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from evidence.lookup import LookupDisabled
from evidence.models import Study
from evidence.services.lookup import study_lookup_apply


def lookup_view(request: HttpRequest, model_admin: admin.ModelAdmin, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    if not model_admin.has_change_permission(request, study):
        raise PermissionDenied
    change = reverse("admin:evidence_study_change", args=[study.pk])
    if not (study.doi or study.pmid):
        messages.error(request, "This study has no DOI or PMID to look up.")
        return HttpResponseRedirect(change)
    try:
        outcome = study_lookup_apply(study=study, user=request.user)
    except LookupDisabled as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(change)
    level = messages.WARNING if outcome.failures or outcome.conflicts else messages.SUCCESS
    messages.add_message(request, level, f"Looked up: {outcome.summary()}.")
    return HttpResponseRedirect(change)


def study_lookup_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view(require_POST(lambda request, pk: lookup_view(request, model_admin, pk)))
    return [path("<int:pk>/lookup/", view, name="evidence_study_lookup")]
