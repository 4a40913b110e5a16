"""Forms and pages in a real Chromium: what a keyboard, a phone and a browser without JavaScript meet."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_review_workflow import sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def active_element(page) -> dict:
    return page.evaluate(
        "({id: document.activeElement.id, cls: document.activeElement.className,"
        " tag: document.activeElement.tagName, text: document.activeElement.innerText.slice(0, 80)})"
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_refused_review_moves_focus_to_the_error_summary_whose_links_reach_the_fields(
    new_page, live_seed, make_user, javascript
):
    make_user("Reviewers", username="rhea")
    claim = live_seed.claims.get(key="K2")
    page = new_page(java_script_enabled=javascript)
    sign_in(page, "rhea")
    page.goto(f"/review/claims/{claim.pk}/")
    page.get_by_role("radio", name="Supported", exact=True).check()
    page.get_by_role("button", name="Submit my review").click()
    page.wait_for_load_state("load")

    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert active_element(page)["cls"] == "error-summary"  # focus moved to it, with or without script
    assert summary.bounding_box()["y"] < 400  # at the top, not 1,800 px down
    assert summary.get_by_role("link").all_inner_texts() == [
        "Choose the design of the evidence: randomised trials or observational studies.",
        "Say why: a rationale is required.",
        "Declare any conflict of interest: none, or declared with what it is.",
    ]
    if javascript:
        assert axe_violations(page) == []
        screenshot(page, "review-form-refused")
    summary.get_by_role("link", name="Say why: a rationale is required.").click()
    assert active_element(page)["id"] == "id_rationale"


# --- Copy buttons on a study's page (static/js/copy.js) ---------------------------------------------------

NO_CLIPBOARD = "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"


def test_copy_buttons_are_hidden_without_javascript(new_page, live_seed):
    study = live_seed.claims.get(key="K1").citations.first().study
    page = new_page(java_script_enabled=False)
    page.goto(study.get_absolute_url())
    buttons = page.locator("button.copy-button")
    assert buttons.count() >= 1
    assert [buttons.nth(i).is_visible() for i in range(buttons.count())] == [False] * buttons.count()
    assert page.locator(".cite-text").first.is_visible()  # the reference is there to select by hand


def test_copy_falls_back_to_selecting_the_text_without_the_clipboard_api(new_page, live_seed):
    """On plain HTTP (not localhost) browsers offer no navigator.clipboard: the button selects the
    reference, so that Ctrl+C copies it, and says what it did."""
    study = live_seed.claims.get(key="K1").citations.first().study
    page = new_page()
    page.add_init_script(NO_CLIPBOARD)
    page.goto(study.get_absolute_url())
    assert page.evaluate("navigator.clipboard") is None
    button = page.locator("button.copy-button").first
    assert button.is_visible()
    reference = page.locator(".cite-text").first.inner_text()
    button.click()
    assert page.evaluate("window.getSelection().toString()").strip() == reference.strip()
    assert page.locator(".copy-status").first.inner_text() != ""


def test_copy_puts_the_reference_on_the_clipboard(browser, live_server, live_seed):
    study = live_seed.claims.get(key="K1").citations.first().study
    context = browser.new_context(base_url=live_server.url, permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(study.get_absolute_url())
        button = page.locator("button.copy-button").first
        expected = button.get_attribute("data-copy")
        button.click()
        page.wait_for_function("document.querySelector('.copy-status').textContent !== ''")
        assert page.evaluate("navigator.clipboard.readText()") == expected
        screenshot(page, "study-copied")
    finally:
        context.close()


# --- The claim panel on the article page (static/js/article.js) ---------------------------------------------


def test_keyboard_focus_goes_on_to_the_next_claim_after_the_claim_panel(page, live_seed):
    first, second = live_seed.claims.order_by("start")[:2]
    page.goto(live_seed.get_absolute_url())
    page.locator(f"#claim-{first.pk}").focus()
    page.keyboard.press("Enter")
    panel = page.locator("#claim-panel")
    panel.wait_for(state="visible")
    page.keyboard.press("Tab")
    assert active_element(page)["cls"] == "claim-panel-close"
    page.keyboard.press("Tab")
    assert active_element(page)["text"].startswith("Sources and verdict")
    page.keyboard.press("Tab")  # past the panel's last link: on to the claim after the one opened
    assert active_element(page)["id"] == f"claim-{second.pk}"
    assert panel.is_hidden()
    assert page.locator(f"#claim-{first.pk}").get_attribute("aria-expanded") == "false"

    # and back: Shift+Tab from the top of the panel returns to the claim that opened it
    page.keyboard.press("Enter")
    panel.wait_for(state="visible")
    page.keyboard.press("Shift+Tab")
    assert active_element(page)["id"] == f"claim-{second.pk}"
    assert panel.is_visible()


def test_the_last_claim_hands_focus_back_to_itself(page, live_seed):
    last = live_seed.claims.order_by("-start").first()
    page.goto(live_seed.get_absolute_url())
    page.locator(f"#claim-{last.pk}").focus()
    page.keyboard.press("Enter")
    page.locator("#claim-panel").wait_for(state="visible")
    for _ in range(3):
        page.keyboard.press("Tab")
    assert active_element(page)["tag"] != "BODY"
    assert active_element(page)["text"] != "Skip to content"


# --- The editor's claim page on a phone ------------------------------------------------------------------


def top(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


def test_the_editors_claim_page_puts_the_actions_first_on_a_phone(new_page, live_seed, make_user):
    """At 390 px the page was one column in document order: the claim, its studies, the reviews and the
    whole history, then (some 5,200 px down) publish, adjudicate and flag."""
    from reviews.models import Flag
    from tests.builders import rate

    claim = live_seed.claims.get(key="K1")
    rita, sam = make_user("Reviewers", username="rita"), make_user("Reviewers", username="sam")
    for round_ in range(4):  # a long history: every save of a review is an entry
        rate(claim, rita, "moderate", "supported", rationale=f"Round {round_}: two trials agree.")
        rate(claim, sam, "very_low", "unsupported", rationale=f"Round {round_}: the PTSD part is unsupported.")
    Flag.objects.create(claim=claim, reason=Flag.Reason.OVERSTATED, note="Too strong.")
    make_user("Editors", username="edna")
    page = new_page(viewport=PHONE_390)
    sign_in(page, "edna")
    page.goto(f"/editor/claims/{claim.pk}/")

    actions = [top(page, f"#{heading}") for heading in ("decision-heading", "adjudicate-heading", "flags-heading")]
    record = [top(page, f"#{heading}") for heading in ("context-heading", "reviews-heading", "history-heading")]
    assert max(actions) < min(record), (actions, record)
    assert top(page, "#decision-heading") < 900  # within the first screenful or so, under the claim
    history = page.locator("details.history-details")
    assert history.count() == 1 and history.get_attribute("open") is None  # collapsed
    assert page.locator(".history").first.is_hidden()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"scrolls sideways by {overflow}px"
    assert axe_violations(page) == []
    screenshot(page, "editor-claim-phone")
    history.locator("summary").click()
    assert page.locator(".history").first.is_visible()
