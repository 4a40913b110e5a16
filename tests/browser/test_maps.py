"""The evidence maps in Chromium: screenshots at desktop and phone widths, and accessibility."""

from __future__ import annotations

import pytest

from evidence.models import Claim
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, screenshot
from tests.builders import publish

pytestmark = pytest.mark.browser


@pytest.fixture
def published(live_seed):
    for key, verdict, certainty in (
        ("K1", "supported", "high"),
        ("M10", "contradicted", "low"),
        ("Q1", "unsupported", "very_low"),
    ):
        publish(Claim.objects.get(article=live_seed, key=key), verdict=verdict, certainty=certainty)
    return live_seed


@pytest.mark.parametrize("path", ["article_map", "gap_map"])
def test_maps_have_no_serious_accessibility_violations(page, published, path):
    page.goto(f"/articles/{published.slug}/map/" if path == "article_map" else "/map/")
    assert axe_violations(page) == []


def test_map_screenshots_and_phone_layout(new_page, published):
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(viewport=viewport)
        page.goto(f"/articles/{published.slug}/map/")
        screenshot(page, f"map-article-{label}")
        # the page itself never scrolls sideways; the table scrolls inside its own region
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        assert page.locator("table.evidence-map tbody th[scope=row]").count() == 38
        page.goto("/map/")
        screenshot(page, f"map-gap-{label}")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_map_is_printable(new_page, published):
    page = new_page(viewport=DESKTOP)
    page.goto(f"/articles/{published.slug}/map/")
    page.emulate_media(media="print")
    assert page.locator(".map-controls").is_hidden()
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
