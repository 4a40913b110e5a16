"""How we judge and who we are: /methodology/ (a lay explanation of every term the claim pages use, each with
an anchor the claim page links to) and /about/ (the site's own words, kept by editors in the site with their
history, the corrections policy and the address readers write to)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from evidence.caching import public_page
from evidence.forms import SitePageForm
from evidence.models import Claim, ClaimType, SitePage
from evidence.services import site_page_update
from evidence.status import LEGEND
from reviews.access import role_required
from reviews.models import DOWNGRADE_REASONS, Certainty

# The worked example on /methodology/: a claim of the seed article (fixtures/ketamine-mdma), by its key.
EXAMPLE_ARTICLE, EXAMPLE_KEY = "ketamine-vs-mdma-in-psychotherapy", "M14"
# The pages /about/ shows, in order; editors edit each in the site.
ABOUT_PAGES = ("about", "corrections")
EDIT_PERMISSION = "evidence.change_sitepage"


@public_page
def methodology(request: HttpRequest) -> HttpResponse:
    """The methodology. One query: the worked example's claim, to link to it when the seed is loaded."""
    example = Claim.objects.filter(article__slug=EXAMPLE_ARTICLE, key=EXAMPLE_KEY).only("pk").first()
    context = {
        "claim_types": ClaimType.choices,
        "certainties": Certainty.choices,
        "downgrades": [
            (field.removeprefix("downgrade_").replace("_", "-"), label) for field, label in DOWNGRADE_REASONS.items()
        ],
        "verdicts": LEGEND,
        "example": example,
    }
    return render(request, "evidence/methodology.html", context)


@public_page
def about(request: HttpRequest) -> HttpResponse:
    """Who we are and the corrections policy, as editors last wrote them, and the contact address. One query."""
    pages = {page.slug: page for page in SitePage.objects.filter(slug__in=ABOUT_PAGES)}
    context = {
        "pages": [pages[slug] for slug in ABOUT_PAGES if slug in pages],
        "contact_email": settings.CONTACT_EMAIL,
        "can_edit": request.user.has_perm(EDIT_PERMISSION),
    }
    return render(request, "evidence/about.html", context)


@require_http_methods(["GET", "POST"])
@role_required(EDIT_PERMISSION)
def site_page_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """An editor changes one of the about page's texts; the earlier versions are listed below the form."""
    page = get_object_or_404(SitePage, slug=slug)
    form = SitePageForm(
        request.POST or None, instance=SitePage(pk=page.pk, slug=page.slug, title=page.title, body=page.body)
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = site_page_update(
                page=page, title=form.cleaned_data["title"], body=form.cleaned_data["body"], user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"“{page.title}” saved." if changed else "Nothing changed.")
            return redirect("evidence:about")
    versions = page.history.select_related("history_user").order_by("-history_date", "-history_id")[:20]
    return render(request, "evidence/site_page_edit.html", {"page": page, "form": form, "versions": versions})
