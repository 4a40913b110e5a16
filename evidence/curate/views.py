"""The curator's workspace (/curate/): HTTP only. The upload is evidence/bibliography_upload.py, shared
with the admin; the lists are named rules of Study.objects (todo.py) and the duplicate scan
(duplicates.py); a link is saved by evidence.services.citation_create."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from evidence import bibliography_upload as upload
from evidence import designs
from evidence.curate import CURATE, LINK_STUDY
from evidence.curate.duplicates import Cursor, possible_duplicates
from evidence.curate.forms import LINK_FIELDS, DesignForm, LinkStudyForm
from evidence.curate.todo import STUDY_LISTS, counts
from evidence.filters import StudyFilter
from evidence.jobs import runs_in_process
from evidence.models import Citation, Claim, ImportJob, Study
from evidence.services import citation_create, study_update
from reviews.access import role_required

PER_PAGE = 25
RESULTS = 20  # search results offered when linking a study
RECENT_ON_WORKSPACE = 5


@role_required(*CURATE)
def workspace(request: HttpRequest) -> HttpResponse:
    """The lists with their sizes, and the last imports. Five queries: a count per list, the imports."""
    sizes = counts()
    lists = [(todo, sizes[slug]) for slug, todo in STUDY_LISTS.items()]
    jobs = list(upload.recent_jobs()[:RECENT_ON_WORKSPACE])
    return render(request, "evidence/curate/workspace.html", {"lists": lists, "jobs": jobs})


# --- Importing a bibliography ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*CURATE)
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload → preview (nothing written) → confirm → the job's page."""
    if request.method == "POST" and "token" in request.POST:
        job = upload.confirm(request)
        if job is None:
            messages.error(request, upload.EXPIRED)
            return redirect("curate:import")
        return redirect("curate:job", pk=job.pk)
    posted = request.method == "POST"
    form = upload.UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        preview = upload.preview(request, form)
        if preview is not None:
            return render(request, "evidence/curate/import_preview.html", {"preview": preview})
    return render(request, "evidence/curate/import.html", {"form": form, "jobs": upload.recent_jobs()})


def _job(pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("user"), pk=pk)


@role_required(*CURATE)
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's state and counts while it runs (the page polls its status), then its report."""
    job = _job(pk)
    lines, lookups, action_counts = upload.job_report(job)
    context = {
        "job": job,
        "status": upload.job_status(job),
        "lines": lines,
        "lookups": lookups,
        "counts": action_counts,
        "poll_seconds": upload.POLL_SECONDS,
        "in_process": runs_in_process(),
    }
    return render(request, "evidence/curate/import_job.html", context)


@role_required(*CURATE)
def import_job_status(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(upload.job_status(_job(pk)))


# --- The library's to-do lists -----------------------------------------------------------------------------


@role_required(*CURATE)
def todo_list(request: HttpRequest, slug: str) -> HttpResponse:
    """One list, a page at a time. Two queries (the count, the page); the retracted list adds one for the
    claims relying on the page's studies."""
    todo = STUDY_LISTS.get(slug)
    if todo is None:
        raise Http404
    studies = todo.rule(Study.objects.all()).order_by("-created_at", "pk")
    if slug == "retracted-relied-on":
        relying = Citation.objects.reliance_on_retracted().select_related("claim__article").order_by("claim_id")
        studies = studies.prefetch_related(Prefetch("citations", queryset=relying, to_attr="relied_on_by"))
    page = Paginator(studies, PER_PAGE).get_page(request.GET.get("page"))
    if slug == "unclassified":
        for study in page.object_list:
            study.suggestion = designs.suggest(study.title, study.work_type)
    context = {"todo": todo, "page": page, "lists": STUDY_LISTS, "designs": DesignForm.base_fields["design"].choices}
    return render(request, "evidence/curate/todo.html", context)


@require_POST
@role_required(*CURATE, "evidence.change_study")
def study_classify(request: HttpRequest, study_id: int) -> HttpResponse:
    """Set a study's design from the "not yet classified" list (study_update), and go back to the list."""
    study = get_object_or_404(Study, pk=study_id)
    form = DesignForm(request.POST)
    if form.is_valid():
        study_update(study=study, values={"design": form.cleaned_data["design"]}, user=request.user)
        messages.success(request, f"{study.display_title[:80]}: {study.Design(form.cleaned_data['design']).label}.")
    else:
        messages.error(request, "Choose one of the designs.")
    page = request.POST.get("page", "")
    back = reverse("curate:todo", args=["unclassified"])
    return redirect(f"{back}?page={page}" if page.isdigit() else back)


def _cursor(request: HttpRequest) -> Cursor | None:
    """The ?after_key=&after_id= a previous page of the scan handed out; anything malformed starts over."""
    key, pk = request.GET.get("after_key", ""), request.GET.get("after_id", "")
    if not key or not pk.isdigit() or len(key) > 200 or "\x00" in key:
        return None
    return Cursor(key=key, pk=int(pk))


@role_required(*CURATE)
def duplicates(request: HttpRequest) -> HttpResponse:
    """Possible duplicates by title, a bounded stretch of the library per page (duplicates.py)."""
    scan = possible_duplicates(_cursor(request))
    return render(request, "evidence/curate/duplicates.html", {"scan": scan, "lists": STUDY_LISTS})


# --- Linking a study to a claim ----------------------------------------------------------------------------


def _claim(claim_id: int) -> Claim:
    return get_object_or_404(Claim.objects.select_related("article").defer("article__text"), pk=claim_id)


def _search(request: HttpRequest, claim: Claim) -> tuple[StudyFilter, list[Study], set[int]]:
    """The studies matching ?q= (title, author, DOI or PMID: the study list's FilterSet and its search),
    at most RESULTS, and which of them the claim cites already. Three queries with a search, one without."""
    found = StudyFilter({"q": request.GET.get("q", "")}, queryset=Study.objects.all(), request=request)
    results: list[Study] = []
    if found.is_valid() and found.form.cleaned_data.get("q"):
        results = list(found.qs[:RESULTS])
    cited = set(claim.citations.filter(study__in=[s.pk for s in results]).values_list("study_id", flat=True))
    return found, results, cited


@role_required(*LINK_STUDY)
def link_study(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Find the study to link: a plain GET search form; static/js/study-search.js fetches link_study_results
    as the curator types and puts them in place."""
    claim = _claim(claim_id)
    found, results, cited = _search(request, claim)
    context = {"claim": claim, "filter": found, "results": results, "cited": cited, "q": found.form["q"].value()}
    return render(request, "evidence/curate/link_study.html", context)


@role_required(*LINK_STUDY)
def link_study_results(request: HttpRequest, claim_id: int) -> HttpResponse:
    """The results part of link_study, for the search-as-you-type script."""
    claim = _claim(claim_id)
    found, results, cited = _search(request, claim)
    context = {"claim": claim, "filter": found, "results": results, "cited": cited, "q": found.form["q"].value()}
    return render(request, "evidence/curate/includes/study_results.html", context)


@require_http_methods(["GET", "POST"])
@role_required(*LINK_STUDY)
def link_study_form(request: HttpRequest, claim_id: int, study_id: int) -> HttpResponse:
    """Say what the chosen study does for the claim, and save the link (citation_create)."""
    claim = _claim(claim_id)
    study = get_object_or_404(Study, pk=study_id)
    form = LinkStudyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in LINK_FIELDS}
        try:
            citation_create(claim=claim, study=study, values=values, user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Linked: {study}.")
            return HttpResponseRedirect(f"{claim.get_absolute_url()}#evidence-heading")
    already = claim.citations.filter(study=study).exists()
    q = request.GET.get("q", "")
    back = reverse("curate:link-study", args=[claim.pk]) + (f"?{urlencode({'q': q})}" if q else "")
    context = {"claim": claim, "study": study, "form": form, "already": already, "back": back}
    return render(request, "evidence/curate/link_study_form.html", context)
