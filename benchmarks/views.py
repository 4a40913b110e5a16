"""The references every page is compared with: what Django itself costs on this machine, in this run.

R_list renders 50 rows of one table with one query; R_detail renders one row with one query. Both are
as small as a Django view gets (no base template, no context beyond the rows), so a page's ratio to
them is the price of everything the page does beyond "query a table and render it".
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from evidence.models import Study

REFERENCE_ROWS = 50


def reference_list(request: HttpRequest) -> HttpResponse:
    """R_list: one query (the first 50 studies by primary key), rendered as a table."""
    studies = list(Study.objects.order_by("pk")[:REFERENCE_ROWS])
    return render(request, "benchmarks/reference_list.html", {"studies": studies})


def reference_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """R_detail: one query (a study by primary key), rendered as a page."""
    study = get_object_or_404(Study, pk=pk)
    return render(request, "benchmarks/reference_detail.html", {"study": study})
