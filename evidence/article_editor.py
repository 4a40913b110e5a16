"""An editor's article pages: add an article, mark its claims by selecting passages, revise its text.

/editor/articles/new/ adds an article from its text, pasted or uploaded (evidence.importers.documents).
/editor/articles/<slug>/ shows the text; an editor selects a passage and chooses "Mark as claim", the
way Hypothesis annotates: static/js/marking.js fills the form beside the text with the selection's W3C
TextQuoteSelector and TextPositionSelector, and the server places it with anchoring.locate, the code the
article import uses (claim_mark), refusing a passage that is not in the text or that the text repeats
with the same words around it. Without JavaScript the editor pastes the quote into the same form.
/editor/articles/<slug>/text/ revises the text: article_update keeps the old one as a revision and
re-anchors the claims, as an import of a new version does.

Editors hold the permissions these need (reviews/migrations/0003_roles.py): evidence.add_article,
evidence.change_article, evidence.add_claim. Identifiers travel in the URL; every POST that succeeds
redirects (POST-redirect-GET); a refused one shows the form again with its errors and status 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import Truncator, slugify
from django.views.decorators.http import require_http_methods, require_POST

from evidence.anchoring import infer_headings
from evidence.article_text import blocks
from evidence.forms import ArticleTextForm, MarkClaimForm, NewArticleForm, service_errors
from evidence.models import Article, Claim
from evidence.services import article_create, article_update, claim_mark
from reviews.access import role_required

ADD_ARTICLE = "evidence.add_article"
CHANGE_ARTICLE = "evidence.change_article"
MARK_CLAIM = "evidence.add_claim"
SLUG_LENGTH = 200  # Article.slug's max_length


@require_http_methods(["GET", "POST"])
@role_required(ADD_ARTICLE)
def article_new(request: HttpRequest) -> HttpResponse:
    """The new-article form; on success, the new article's marking page."""
    form = NewArticleForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = {
            "slug": slugify(data["title"])[:SLUG_LENGTH].strip("-"),
            "title": data["title"],
            "author": data["author"],
            "publisher": data["publisher"],
            "url": data["url"],
            "published_on": data["published_on"],
            "text": data["text"],
            # as the article import does for a file that names none
            "headings": infer_headings(data["text"]),
        }
        if not values["slug"]:
            form.add_error("title", "The title needs a letter or digit to make the article's address from.")
        elif Article.objects.filter(slug=values["slug"]).exists():
            form.add_error("title", f"An article with the address “{values['slug']}” exists already; change the title.")
        else:
            try:
                article = article_create(values=values, user=request.user)
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                messages.success(request, f"“{article.title}” added. Select a passage of its text to mark a claim.")
                return redirect("evidence:article-marking", slug=article.slug)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "evidence/article_new.html", {"form": form}, status=status)


def _marking_page(request: HttpRequest, article: Article, form: MarkClaimForm, status: int = 200) -> HttpResponse:
    """The text with its claims highlighted (two queries: the claims, none per claim) and the form."""
    claims = list(Claim.objects.filter(article=article).order_by("start", "pk"))
    for claim in claims:
        claim.article = article
    anchored = [claim for claim in claims if not claim.is_orphaned]
    context = {
        "article": article,
        "blocks": blocks(article.text, article.headings, anchored, title=article.title),
        "claims": anchored,
        "orphans": [claim for claim in claims if claim.is_orphaned],
        "form": form,
    }
    return render(request, "evidence/article_marking.html", context, status=status)


@require_http_methods(["GET"])
@role_required(MARK_CLAIM)
def article_marking(request: HttpRequest, slug: str) -> HttpResponse:
    """The article's text to mark claims in."""
    article = get_object_or_404(Article, slug=slug)
    return _marking_page(request, article, MarkClaimForm(article=article))


@require_POST
@role_required(MARK_CLAIM)
def claim_mark_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Place the marked passage (claim_mark) and go back to the text; a refusal shows the form again."""
    article = get_object_or_404(Article, slug=slug)
    form = MarkClaimForm(request.POST, article=article)
    if form.is_valid():
        data = form.cleaned_data
        try:
            claim = claim_mark(
                article=article,
                quote=data["quote"],
                prefix=data["prefix"],
                suffix=data["suffix"],
                section=data["section"],
                values={"claim_type": data["claim_type"], "kind": data["kind"], "substance": data["substance"]},
                user=request.user,
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Marked as a claim: “{Truncator(claim.quote).chars(80)}”.")
            return redirect("evidence:article-marking", slug=article.slug)
    return _marking_page(request, article, form, status=400)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE_ARTICLE)
def article_text_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A new version of the text (article_update: a revision, the claims re-anchored)."""
    article = get_object_or_404(Article, slug=slug)
    initial = {"text": article.text, "headings": "\n".join(article.headings)}
    form = ArticleTextForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lost = article_update(
                article=article,
                values={"text": data["text"], "headings": data["headings"]},
                user=request.user,
                note=data["note"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            if data["text"] == article.text and data["headings"] == article.headings:
                messages.info(request, "The text is unchanged; no revision was made.")
            elif lost:
                messages.warning(
                    request,
                    f"Saved as a new revision. {len(lost)} claim{'s' if len(lost) != 1 else ''} no longer "
                    "found in the text: listed below the text, they wait for an editor.",
                )
            else:
                messages.success(request, "Saved as a new revision; every claim was found again in the text.")
            return redirect("evidence:article-marking", slug=article.slug)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "evidence/article_text_edit.html", {"article": article, "form": form}, status=status)
