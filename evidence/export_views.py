"""Downloads for reference managers and spreadsheets: the library or a filtered study list, the studies an
article cites (BibTeX, RIS, CSL-JSON), and the claims with their verdicts (CSV). Thin views: the filters
are the pages' own (evidence.filters), the files are evidence.exporters'."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from evidence.exporters import CONTENT_TYPES, EXPORTERS, EXTENSIONS, claims_csv, claims_for_csv
from evidence.filters import ClaimFilter, StudyFilter
from evidence.models import Article, Study
from reviews.claims import for_readers

# The extension in the URL (studies/export.bib) → the exporter.
URL_FORMATS = {"bib": "bibtex", "ris": "ris", "json": "csljson"}


def _format(fmt: str) -> str:
    if fmt not in URL_FORMATS:
        raise Http404(f"no export as .{fmt}; use .bib, .ris or .json")
    return URL_FORMATS[fmt]


def _download(text: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _studies_file(studies: QuerySet[Study], name: str, fmt: str) -> HttpResponse:
    exporter = _format(fmt)
    text = EXPORTERS[exporter](studies.iterator(chunk_size=2000))
    return _download(text, f"{name}.{EXTENSIONS[exporter]}", CONTENT_TYPES[exporter])


@require_GET
def study_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The study list as a file, with the list page's filters (?design=rct&retracted=no …) applied.
    One query."""
    filtered = StudyFilter(request.GET, queryset=Study.objects.all())
    return _studies_file(filtered.qs, "studies", fmt)


@require_GET
def article_studies_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The studies the article's claims cite. Two queries: the article, its studies."""
    article = get_object_or_404(Article, slug=slug)
    # a study cited by several claims joins once per citation; distinct() keeps one row each
    studies = Study.objects.filter(citations__claim__article=article).distinct().order_by("citation_key", "pk")
    return _studies_file(studies, f"{article.slug}-studies", fmt)


@require_GET
def claim_export(request: HttpRequest) -> HttpResponse:
    """The claims, with the claim list's filters applied, as CSV: published verdict and certainty (blank
    until an editor publishes) and the DOIs of the studies each cites. Two queries."""
    filtered = ClaimFilter(request.GET, queryset=for_readers())
    text = claims_csv(claims_for_csv(filtered.qs))
    return _download(text, "claims.csv", "text/csv; charset=utf-8")
