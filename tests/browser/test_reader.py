"""A reader in a real Chromium: the marked article, the claim summary, the lists, without JavaScript too."""

from __future__ import annotations

import re

import pytest

from evidence.models import Claim
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, screenshot
from tests.builders import ReviewFactory, publish

pytestmark = pytest.mark.browser


def test_reader_opens_a_claim_by_keyboard_and_follows_it_to_a_study(page, live_seed):
    page.goto(live_seed.get_absolute_url())
    highlights = page.locator("a.claim")
    assert highlights.count() == 38
    first = Claim.objects.filter(article=live_seed).order_by("start").first()

    # Tab from the top of the page to the first highlight, then activate it with the keyboard.
    page.locator(f"#claim-{first.pk}").focus()
    page.keyboard.press("Enter")
    panel = page.locator("#claim-panel")
    panel.wait_for(state="visible")
    assert first.quote in panel.inner_text()
    assert "Supporting studies" in panel.inner_text()
    assert page.locator(f"#claim-{first.pk}").get_attribute("aria-expanded") == "true"

    # Escape closes the summary and gives focus back to the highlight.
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert page.evaluate("document.activeElement.id") == f"claim-{first.pk}"

    page.keyboard.press("Enter")
    panel.get_by_role("link", name="Sources and verdict").click()
    page.wait_for_url(re.compile(rf"/claims/{first.pk}/$"))
    assert page.locator("h1").inner_text().strip("“”") == first.quote
    study_link = page.locator(".study-title a").first
    title = study_link.inner_text()
    study_link.click()
    page.wait_for_url(re.compile(r"/studies/\d+/$"))
    assert page.locator("h1").inner_text() == title


def test_article_page_works_without_javascript(new_page, live_seed):
    page = new_page(java_script_enabled=False)
    page.goto(live_seed.get_absolute_url())
    claim = Claim.objects.get(article=live_seed, key="K6")
    page.locator(f"#claim-{claim.pk}").click()
    page.wait_for_url(re.compile(rf"/claims/{claim.pk}/$"))
    assert "The studies" in page.locator("main").inner_text()


def test_claim_list_filters_and_paginates(page, live_seed):
    page.goto("/claims/")
    assert "38 claims" in page.locator("#results-heading").inner_text()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "page 2 of 2" in page.locator("#results-heading").inner_text()

    page.goto("/claims/")
    page.locator("summary", has_text="Filters and sorting").click()
    page.get_by_label("Substance").select_option("MDMA")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"substance=MDMA"))
    assert "17 claims" in page.locator("#results-heading").inner_text()

    page.get_by_label("Search claims").fill("serotonin")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=serotonin"))
    assert "substance=MDMA" in page.url  # the search keeps the filter
    cards = page.locator(".claim-card")
    assert cards.count() >= 1
    for i in range(cards.count()):
        assert "serotonin" in cards.nth(i).inner_text().lower()


@pytest.mark.parametrize("path_of", ["article", "claim_list", "claim", "study"])
def test_no_serious_accessibility_violations(page, live_seed, make_user, path_of):
    claim = Claim.objects.get(article=live_seed, key="M10")
    ReviewFactory(claim=claim, reviewer=make_user("Reviewers"))
    publish(claim, verdict="partly_supported", certainty="low")
    paths = {
        "article": live_seed.get_absolute_url(),
        "claim_list": "/claims/",
        "claim": claim.get_absolute_url(),
        "study": claim.citations.first().study.get_absolute_url(),
    }
    page.goto(paths[path_of])
    assert axe_violations(page) == []


def test_screenshots_at_desktop_and_phone_widths(new_page, live_seed, make_user):
    """Saved under tests/browser/artifacts/ for a person to look at; asserts the layout fits the phone."""
    claim = Claim.objects.get(article=live_seed, key="K5")
    ReviewFactory(claim=claim, reviewer=make_user("Reviewers"))
    publish(claim, verdict="supported", certainty="moderate")
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(viewport=viewport)
        for name, path in (("article", live_seed.get_absolute_url()), ("claim", claim.get_absolute_url())):
            page.goto(path)
            screenshot(page, f"reader-{name}-{label}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} at {label} width scrolls sideways by {overflow}px"
