"""Public pages for readers. Thin: each view reads through a QuerySet method and renders a template."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from evidence.models import Article

ARTICLES_PER_PAGE = 20


def home(request: HttpRequest) -> HttpResponse:
    """The articles under review, newest first. Two queries (count and page) whatever their number."""
    articles = Article.objects.annotate(n_claims=Count("claims")).order_by("-published_on", "-created_at", "pk")
    page = Paginator(articles, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "evidence/home.html", {"page": page})
