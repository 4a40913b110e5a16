"""The review workflow in a real browser: a reviewer signs in and reviews a claim; a second reviewer
disagrees; an editor flags the claim, adjudicates the dispute and publishes; readers see the verdict."""

from __future__ import annotations

import re

import pytest

from evidence.models import Claim
from reviews.models import Consensus, Flag, Review
from tests.browser.conftest import PHONE, axe_violations, screenshot
from tests.builders import rate

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"  # what tests/conftest.py's make_user gives every user


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_review_flag_adjudicate_publish(page, new_page, live_seed, make_user):
    make_user("Reviewers", username="rita")
    sam = make_user("Reviewers", username="sam")
    make_user("Editors", username="edna")
    claim = live_seed.claims.get(key="K1")

    # A reviewer signs in and lands on their queue.
    page.goto("/accounts/login/")
    assert axe_violations(page) == []
    sign_in(page, "rita")
    assert page.url.endswith("/review/")
    assert page.locator("h1").inner_text() == "Review queue"
    assert axe_violations(page) == []
    screenshot(page, "review-queue")
    page.locator("#waiting").get_by_role("link", name=re.compile(re.escape(claim.quote[:60]))).click()
    assert page.url.endswith(f"/review/claims/{claim.pk}/")
    # the claim, its studies and the rubric are on the same screen as the form
    assert "GRADE, in short" in page.locator("main").inner_text()
    assert page.locator(".study-item").count() == claim.citations.count()
    assert axe_violations(page) == []
    screenshot(page, "review-form")

    page.get_by_role("radio", name="Randomised trials (start high)").check()
    page.get_by_role("group", name="Imprecision").get_by_role("radio", name="Serious (−1)").check()
    page.get_by_role("radio", name="Supported", exact=True).check()  # the certainty follows: moderate
    page.get_by_label("Rationale").fill("One small placebo-controlled trial and a review; PTSD part is weaker.")
    page.get_by_role("group", name="Conflict of interest").get_by_role("radio", name="None").check()
    page.get_by_role("button", name="Submit my review").click()
    assert "Your review was submitted." in page.locator(".messages").inner_text()
    assert "Nobody else has reviewed this claim yet." in page.locator("main").inner_text()
    review = Review.objects.get(claim=claim, reviewer__username="rita")
    assert (review.certainty, review.verdict, review.imprecision) == ("moderate", "supported", "serious")

    # A second reviewer disagrees, two levels apart with another verdict.
    rate(claim, sam, "very_low", "unsupported", rationale="The PTSD evidence contradicts the claim as worded.")
    assert Consensus.objects.get(claim=claim).disputed

    # The editor signs in on another browser and finds the claim among the disputed ones.
    desk = new_page()
    sign_in(desk, "edna")
    assert desk.url.endswith("/editor/")
    assert axe_violations(desk) == []
    screenshot(desk, "editor-desk")
    desk.locator("#queue-disputed").get_by_role("link", name=re.compile(re.escape(claim.quote[:60]))).click()
    assert desk.url.endswith(f"/editor/claims/{claim.pk}/")
    assert "The PTSD evidence contradicts" in desk.locator("main").inner_text()  # editors see every review

    desk.get_by_label("Reason").select_option("overstated")
    desk.locator("#id_raise-note").fill("Says ketamine treats PTSD; the trials are mixed.")
    desk.get_by_role("button", name="Raise flag").click()
    assert "Flagged as “Overstated”." in desk.locator(".messages").inner_text()
    assert Flag.objects.filter(claim=claim, reason="overstated", status="open").exists()

    adjudication = desk.locator("form[action$='/adjudicate/']")
    adjudication.get_by_role("radio", name="Low", exact=True).check()
    adjudication.get_by_role("radio", name="Partly supported", exact=True).check()
    adjudication.get_by_label("Rationale").fill("Depression: supported; PTSD: mixed. Partly supported, low certainty.")
    adjudication.get_by_role("button", name="Record adjudication").click()
    assert "Your adjudication was recorded" in desk.locator(".messages").inner_text()
    assert axe_violations(desk) == []

    desk.get_by_label("Summary for readers").fill("Ketamine helps depression quickly; its effect on PTSD is unclear.")
    # the flag raised above is still open: publishing asks for confirmation, naming it
    desk.get_by_role("checkbox", name="Publish although 1 flag is open: “Overstated”").check()
    desk.get_by_role("button", name="Publish this verdict").click()
    assert "Published: Partly supported, low certainty." in desk.locator(".messages").inner_text()
    screenshot(desk, "editor-claim-published")
    row = Consensus.objects.get(claim=claim)
    assert (row.published_verdict, row.published_certainty, row.published_by.username) == (
        "partly_supported",
        "low",
        "edna",
    )
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PUBLISHED

    # A reader, signed out and on a phone, sees the new verdict on the public claim page.
    reader = new_page(viewport=PHONE)
    reader.goto(f"/claims/{claim.pk}/")
    verdict = reader.locator("#verdict-heading").locator("..").inner_text()
    assert "Partly supported" in verdict and "Low certainty" in verdict
    assert "its effect on PTSD is unclear" in verdict
    # how it was reached, as it happened (the page once said "decided by an editor after the reviewers
    # disagreed" whoever had done what)
    assert (
        "Two reviewers disagreed (certainties 2 levels apart, verdicts split); "
        "an editor decided: Partly supported, low certainty." in verdict
    )
    screenshot(reader, "public-claim-published")


def test_an_editor_who_reviewed_the_claim_is_offered_neither_action(new_page, live_seed, make_user):
    """Separation of duties on the editor's page, on a phone: the reason takes the place of the forms."""
    both = make_user("Reviewers", "Editors", username="both")
    claim = live_seed.claims.get(key="K1")
    rate(claim, both, "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    page = new_page(viewport=PHONE)
    sign_in(page, "both")
    page.goto(f"/editor/claims/{claim.pk}/")
    actions = page.locator(".editor-actions").inner_text()
    assert "nobody adjudicates a claim they reviewed" in actions and "nobody publishes a claim they reviewed" in actions
    assert page.locator("form[action$='/adjudicate/'], form[action$='/publish/']").count() == 0
    assert axe_violations(page) == []
    screenshot(page, "editor-claim-reviewed-by-you")


def test_review_form_works_without_javascript(new_page, live_seed, make_user):
    make_user("Reviewers", username="nojs")
    claim = live_seed.claims.get(key="M1")
    page = new_page(java_script_enabled=False)
    sign_in(page, "nojs")
    page.goto(f"/review/claims/{claim.pk}/")
    page.get_by_role("radio", name="Observational studies (start low)").check()
    page.get_by_role("radio", name="Low", exact=True).check()
    page.get_by_role("radio", name="Contradicted", exact=True).check()
    page.get_by_role("group", name="Conflict of interest").get_by_role("radio", name="None").check()
    page.get_by_label("Rationale").fill("The cited trial found no difference.")
    page.get_by_role("button", name="Submit my review").click()
    assert "Your review was submitted." in page.locator(".messages").inner_text()
    assert Review.objects.get(claim=claim).verdict == "contradicted"
