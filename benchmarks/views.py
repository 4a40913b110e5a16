"""The references every page is compared with: what Django itself costs on this machine, in this run.

Both read the benchmark's own narrow table (benchmarks/reference: the five columns shown, nothing else; no
abstract, no search vector, no join), so they are the floor a page's ratio is measured from, not a
flattering one. R_list renders 50 rows with one query; R_detail renders one row with one query. Both are
as small as a Django view gets (no base template, no context beyond the rows), so a page's ratio to them is
the price of everything the page does beyond "query a table and render it".
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from benchmarks.reference.models import ReferenceRow

REFERENCE_ROWS = 50


def reference_list(request: HttpRequest) -> HttpResponse:
    """R_list: one query (the first 50 rows by primary key), rendered as a table."""
    rows = list(ReferenceRow.objects.order_by("pk")[:REFERENCE_ROWS])
    return render(request, "benchmarks/reference_list.html", {"rows": rows})


def reference_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """R_detail: one query (a row by primary key), rendered as a page."""
    row = get_object_or_404(ReferenceRow, pk=pk)
    return render(request, "benchmarks/reference_detail.html", {"row": row})
