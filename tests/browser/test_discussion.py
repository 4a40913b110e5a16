"""A claim's discussion in a real browser (issue 21 §5): hidden from a reviewer until they submit their review,
then open to them; an editor's mention tells them by email only once they may read it; the public claim
page offers each role its way in (§3)."""

from __future__ import annotations

import re

import pytest

from reviews.models import Comment
from tests.browser.conftest import ARTIFACTS, axe_violations, screenshot
from tests.browser.test_review_workflow import sign_in
from tests.builders import rate

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
EDITOR_WORDS = "Is the 2018 trial large enough to carry this claim?"


def test_the_discussion_opens_to_a_reviewer_once_they_submit(page, new_page, live_seed, make_user, mailoutbox):
    make_user("Editors", username="edna")
    make_user("Reviewers", username="rita")
    sam = make_user("Reviewers", username="sam")
    claim = live_seed.claims.get(key="K1")
    rate(claim, sam, "low", "partly_supported", rationale="One small trial; the effect is real but modest.")

    # The editor opens the claim from its public page and starts the discussion, mentioning both reviewers.
    sign_in(page, "edna")
    page.goto(claim.get_absolute_url())
    assert page.get_by_role("link", name="Review this claim").count() == 0
    page.get_by_role("link", name="Open in the editor's desk").click()
    assert page.url.endswith(f"/editor/claims/{claim.pk}/")
    page.get_by_label("Your comment").fill(f"@rita @sam {EDITOR_WORDS}")
    page.get_by_role("button", name="Post comment").click()
    assert "Told by email: @sam." in page.locator(".messages").inner_text()  # rita has not reviewed: not told
    assert [mail.to for mail in mailoutbox] == [[sam.email]]
    thread = page.locator("#discussion")
    assert EDITOR_WORDS in thread.inner_text() and "Discussion (1)" in thread.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "discussion-editor")

    # A reviewer who has not submitted sees no thread, no count, no trace of the editor's words.
    rita = new_page()
    sign_in(rita, "rita")
    rita.goto(claim.get_absolute_url())
    rita.get_by_role("link", name="Review this claim").click()
    assert rita.url.endswith(f"/review/claims/{claim.pk}/")
    assert EDITOR_WORDS not in rita.content()
    assert rita.locator("#discussion .comment, #discussion form").count() == 0
    assert "Once you have submitted your review in this round" in rita.locator("#discussion").inner_text()
    assert axe_violations(rita) == []
    screenshot(rita, "discussion-hidden-before-submitting")

    # She submits her review; the discussion opens to her, and she answers.
    rita.get_by_role("radio", name="Randomised trials (start high)").check()
    rita.get_by_role("group", name="Imprecision").get_by_role("radio", name="Serious (−1)").check()
    rita.get_by_role("radio", name="Supported", exact=True).check()
    rita.get_by_label("Rationale").fill("A placebo-controlled trial; small, but consistent with the review.")
    rita.get_by_role("group", name="Conflict of interest").get_by_role("radio", name="None").check()
    rita.get_by_role("button", name="Submit my review").click()
    assert "Your review was submitted." in rita.locator(".messages").inner_text()
    thread = rita.locator("#discussion")
    assert EDITOR_WORDS in thread.inner_text() and "Discussion (1)" in thread.inner_text()
    rita.get_by_label("Your comment").fill("Small, yes: 40 people. @edna, see my rationale.")
    rita.get_by_role("button", name="Post comment").click()
    assert "Told by email: @edna." in rita.locator(".messages").inner_text()
    assert "Discussion (2)" in rita.locator("#discussion").inner_text()
    assert axe_violations(rita) == []
    screenshot(rita, "discussion-reviewer")
    thread.screenshot(path=str(ARTIFACTS / "discussion-thread.png"))

    # She corrects her comment; the thread says it was edited.
    rita.locator("#discussion").get_by_role("link", name=re.compile("Edit or delete")).click()
    assert axe_violations(rita) == []
    screenshot(rita, "discussion-edit")
    rita.locator("main").screenshot(path=str(ARTIFACTS / "discussion-edit-main.png"))
    rita.get_by_label("Your comment").fill("Small, yes: 40 people in each arm. @edna, see my rationale.")
    rita.get_by_role("button", name="Save my comment").click()
    own = rita.locator(".comment--own")
    assert "40 people in each arm" in own.inner_text() and "edited" in own.inner_text()
    assert Comment.objects.get(author__username="rita").history.count() == 2

    # At phone width the thread and its form fit the screen.
    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "rita")
    phone.goto(f"/review/claims/{claim.pk}/#discussion")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    assert axe_violations(phone) == []
    screenshot(phone, "discussion-reviewer-phone")
    # the thread alone, to look at closely (the full page runs to thousands of pixels at this width)
    phone.locator("#discussion").screenshot(path=str(ARTIFACTS / "discussion-thread-phone.png"))
    phone.goto(claim.get_absolute_url())
    assert phone.get_by_role("link", name="Review this claim").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    screenshot(phone, "claim-page-reviewer-links-phone")
    phone.locator(".claim-header").screenshot(path=str(ARTIFACTS / "claim-page-links-phone.png"))

    page.goto(claim.get_absolute_url())
    assert axe_violations(page) == []
    screenshot(page, "claim-page-editor-links")
