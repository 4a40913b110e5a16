"""Verdicts on other sites: the claim card publishers show in an iframe (/claims/<id>/embed/) and the oEmbed
endpoint that hands out its snippet (/oembed/?url=<claim page>).

The card is a page of its own: no script, no form, no cookie, and a policy of its own. Every other page
refuses to be framed (frame-ancestors 'none', X-Frame-Options DENY, evidence/settings.py); the card may be
framed by our own pages and by the origins in settings.EMBED_ORIGINS, and nothing else: its
Content-Security-Policy names them in frame-ancestors and allows no script and no form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.clickjacking import xframe_options_exempt

from evidence.caching import claim_scope, public_page
from evidence.models import Claim
from reviews.claims import with_verdict

# The card's size in the snippet, in CSS pixels; a consumer's maxwidth/maxheight may shrink it.
CARD_WIDTH = 480
CARD_HEIGHT = 260
# the smallest card that still shows the quote, the verdict and the link
MIN_WIDTH, MIN_HEIGHT = 240, 160
PROVIDER_NAME = "Evidence review"


def embed_policy() -> dict[str, list[str]]:
    """The card's CSP directives that differ from the site's: read per request, so the origins follow the
    settings."""
    return {
        "frame-ancestors": ["'self'", *settings.EMBED_ORIGINS],
        "script-src": ["'none'"],
        "form-action": ["'none'"],
    }


def embeddable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view whose page other sites may frame: no X-Frame-Options, and embed_policy() in its CSP."""
    exempt = xframe_options_exempt(view)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return csp_replace(embed_policy())(exempt)(request, *args, **kwargs)

    return wrapper


@embeddable
@public_page(scopes=lambda pk, **_: [claim_scope(pk)])
def claim_embed(request: HttpRequest, pk: int) -> HttpResponse:
    """The claim card: its quote, its published verdict and certainty, and a link back. An orphan's verdict
    is not shown: it was on words the article no longer says. One query."""
    claim = get_object_or_404(with_verdict(Claim.objects.all()).select_related("article"), pk=pk)
    return render(request, "evidence/claim_embed.html", {"claim": claim, "status": claim.evidence_status})


class OEmbedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _claim_of(request: HttpRequest, url: str) -> Claim:
    """The claim a page address on this site names (its page or its card); OEmbedError 404 otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or parts.netloc != request.get_host():
        raise OEmbedError(404, "url is not a claim page of this site")
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise OEmbedError(404, "url is not a claim page of this site") from None
    if match.view_name not in {"evidence:claim-detail", "evidence:claim-embed"}:
        raise OEmbedError(404, "url is not a claim page of this site")
    claim = Claim.objects.select_related("article").filter(pk=match.kwargs["pk"]).first()
    if claim is None:
        raise OEmbedError(404, "no such claim")
    return claim


def _size(request: HttpRequest, name: str, default: int, least: int) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise OEmbedError(400, f"{name} must be a whole number of pixels")
    if int(raw) < least:
        # oEmbed: a provider that cannot fit the maximum answers 404 (no representation that small)
        raise OEmbedError(404, f"the card needs at least {least} pixels of {name.removeprefix('max')}")
    return min(default, int(raw))


@public_page
def oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed 1.0 for a claim's page (https://oembed.com): a "rich" answer whose html is an iframe of the
    claim's card. Missing or foreign url 404, a format other than json 501 (as the spec says), a bad
    maxwidth/maxheight 400; each with a JSON error body."""
    try:
        if request.GET.get("format", "json") != "json":
            raise OEmbedError(501, "only format=json is offered")
        url = request.GET.get("url", "").strip()
        if not url:
            raise OEmbedError(404, "url is required: the address of a claim's page")
        claim = _claim_of(request, url)
        width = _size(request, "maxwidth", CARD_WIDTH, MIN_WIDTH)
        height = _size(request, "maxheight", CARD_HEIGHT, MIN_HEIGHT)
    except OEmbedError as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    src = request.build_absolute_uri(reverse("evidence:claim-embed", args=[claim.pk]))
    title = f"Evidence review of a claim in “{claim.article.title}”"
    html = render_to_string(
        "evidence/includes/embed_iframe.html", {"src": src, "width": width, "height": height, "title": title}
    )
    answer = {
        "version": "1.0",
        "type": "rich",
        "provider_name": PROVIDER_NAME,
        "provider_url": request.build_absolute_uri(reverse("evidence:home")),
        "title": title,
        "html": html.strip(),
        "width": width,
        "height": height,
        "cache_age": 3600,
    }
    response = JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # a publisher's own script may ask too
    return response
