"""The review form's GRADE ratings and declaration filled in with the keyboard alone on a 390 px phone."""

from __future__ import annotations

import pytest

from reviews.models import Review
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_review_workflow import sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def test_a_reviewer_rates_grade_and_declares_by_keyboard_on_a_phone(new_page, live_seed, make_user):
    make_user("Reviewers", username="kim")
    claim = live_seed.claims.get(key="K1")
    page = new_page(viewport=PHONE_390)
    sign_in(page, "kim")
    page.goto(f"/review/claims/{claim.pk}/")
    # nothing wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    assert axe_violations(page) == []

    page.locator("#id_evidence_design_0").focus()  # the first field; from here on, only keys
    keys = page.keyboard
    keys.press("Space")  # randomised trials: start high
    keys.press("Tab")  # risk of bias, at "not serious"
    keys.press("ArrowRight")  # serious (−1)
    keys.press("Tab")  # inconsistency
    keys.press("Tab")  # indirectness
    keys.press("Tab")  # imprecision
    keys.press("ArrowRight")  # serious (−1)
    keys.press("Tab")  # publication bias
    keys.press("Tab")  # large effect
    keys.press("Tab")  # dose-response
    keys.press("Tab")  # opposing plausible confounding
    keys.press("Tab")  # certainty: left unchosen, so it follows from the ratings
    keys.press("Tab")  # why another certainty
    keys.press("Tab")  # verdict
    assert page.evaluate("document.activeElement.id") == "id_verdict_0"
    keys.press("ArrowRight")  # partly supported
    keys.press("Tab")  # read the full text
    keys.press("Space")
    keys.press("Tab")  # rationale
    keys.type("Open-label trials with few participants.")
    keys.press("Tab")  # conflict of interest
    keys.press("ArrowRight")  # declared
    keys.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_conflict_statement"
    keys.type("I consulted for a ketamine clinic in 2023.")
    keys.press("Tab")
    keys.press("Enter")  # submit

    page.wait_for_load_state("load")
    assert "Your review was submitted." in page.locator(".messages").inner_text()
    review = Review.objects.get(claim=claim, reviewer__username="kim")
    assert (review.evidence_design, review.risk_of_bias, review.imprecision, review.inconsistency) == (
        "randomised",
        "serious",
        "serious",
        "not_serious",
    )
    assert (review.certainty, review.verdict, review.read_full_text) == ("low", "partly_supported", True)
    assert (review.conflict_of_interest, review.conflict_statement) == (
        "declared",
        "I consulted for a ketamine clinic in 2023.",
    )
    assert "Your saved ratings give low certainty." in page.locator(".computed-certainty").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    screenshot(page, "review-form-grade-phone")
