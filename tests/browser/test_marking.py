"""An editor adds an article and marks its claims by selecting text, in Chromium (issue 21, item 1): by
mouse, by keyboard (Shift and the arrow keys), an ambiguous selection refused with a visible message, the
pages without JavaScript, axe on each new page, and screenshots at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest

from evidence import anchoring
from evidence.models import Article, Claim
from evidence.services import article_create
from tests.browser.conftest import DESKTOP, axe_violations, screenshot
from tests.browser.test_csp import Watch
from tests.browser.test_review_workflow import sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
DISCLAIMER = (
    "This article is not medical advice, and readers should always ask your doctor before they change "
    "any medicine, dose or therapy they take."
)
TEXT = (
    "Ketamine and MDMA in therapy\n"
    "Background\n"
    "Ketamine lifts mood within hours in people with treatment-resistant depression, a small trial found.\n"
    f"{DISCLAIMER}\n"
    "Risks\n"
    "Both drugs raise blood pressure for a few hours after a dose.\n"
    f"{DISCLAIMER}\n"
)


@pytest.fixture
def live_article(transactional_db) -> Article:
    return article_create(
        values={
            "slug": "ketamine-and-mdma-in-therapy",
            "title": "Ketamine and MDMA in therapy",
            "text": TEXT,
            "headings": anchoring.infer_headings(TEXT),
        }
    )


def select_with_mouse(page, quote: str, occurrence: int = 0) -> None:
    """Drag the mouse over the ``occurrence``-th ``quote`` in the marking page's text."""
    box = page.evaluate(
        """([quote, occurrence]) => {
            const blocks = [...document.querySelectorAll("#marking-text [data-start]")]
                .filter(block => block.textContent.includes(quote));
            const block = blocks[occurrence];
            block.scrollIntoView({block: "center"});
            const node = [...block.childNodes].find(n => n.nodeType === 3 && n.data.includes(quote));
            const at = node.data.indexOf(quote);
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + 1);
            const first = range.getClientRects()[0];
            range.setStart(node, at + quote.length - 1); range.setEnd(node, at + quote.length);
            const rects = range.getClientRects(), last = rects[rects.length - 1];
            return {x1: first.left + 1, y1: first.top + first.height / 2,
                    x2: last.right - 1, y2: last.top + last.height / 2};
        }""",
        [quote, occurrence],
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=8)
    page.mouse.up()


def test_an_editor_adds_an_article_and_marks_a_claim_with_the_mouse(page, new_page, transactional_db, make_user):
    make_user("Editors", username="edna")
    sign_in(page, "edna")
    page.get_by_role("link", name="New article").first.click()
    page.wait_for_url(re.compile(r"/editor/articles/new/$"))
    assert axe_violations(page) == []
    screenshot(page, "marking-new-article-desktop")
    page.get_by_label("Title").fill("Ketamine and MDMA in therapy")
    page.get_by_label("Publisher").fill("Example News")
    page.locator("#id_text").fill(TEXT)
    page.get_by_role("button", name="Add the article").click()
    page.wait_for_url(re.compile(r"/editor/articles/ketamine-and-mdma-in-therapy/$"))
    article = Article.objects.get()
    assert article.headings == ["Background", "Risks"] and article.publisher == "Example News"

    quote = "Ketamine lifts mood within hours"
    select_with_mouse(page, quote)
    page.get_by_role("button", name="Mark as claim").click()
    assert page.locator("#id_quote").input_value() == quote
    assert "Selected “Ketamine lifts mood within hours”" in page.locator("#mark-status").inner_text()
    assert page.evaluate("document.activeElement.id") == "id_claim_type"
    page.locator("#id_claim_type").select_option("onset")
    page.get_by_label("Substance").fill("ketamine")
    screenshot(page, "marking-selected-desktop")
    page.get_by_role("button", name="Save the claim").click()
    page.locator(".message-success").wait_for()
    claim = Claim.objects.get()
    assert (claim.quote, claim.claim_type, claim.substance, claim.section) == (quote, "onset", "ketamine", "Background")
    assert (claim.start, claim.end) == (TEXT.index(quote), TEXT.index(quote) + len(quote))
    assert page.locator("mark.marked-claim").inner_text() == quote
    assert axe_violations(page) == []
    screenshot(page, "marking-page-desktop")

    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "edna")
    for path, name in (
        ("/editor/articles/new/", "new-article"),
        (f"/editor/articles/{article.slug}/", "page"),
        (f"/editor/articles/{article.slug}/text/", "text"),
    ):
        phone.goto(path)
        assert axe_violations(phone) == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} scrolls sideways"
        screenshot(phone, f"marking-{name}-phone")
    page.goto(f"/editor/articles/{article.slug}/text/")
    assert axe_violations(page) == []
    screenshot(page, "marking-text-desktop")


def test_an_editor_marks_a_claim_by_keyboard(page, live_article, make_user):
    make_user("Editors", username="edna")
    sign_in(page, "edna")
    watch = Watch(page)  # the page's script runs under the Content Security Policy, without an error
    watch.visit(f"/editor/articles/{live_article.slug}/")
    page.get_by_role("button", name="Mark as claim").click()
    assert page.locator("#mark-status").inner_text() == "Select a passage of the article's text first."
    # Tab into the text: a caret at its start. Down a line to the heading, down again to the first paragraph;
    # Shift+Ctrl+ArrowRight selects word by word, Shift+ArrowRight letter by letter
    page.get_by_role("link", name="See it as readers do").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "marking-text"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    for _ in range(4):
        page.keyboard.press("Shift+Control+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")
    assert page.evaluate("getSelection().toString()") == "Ketamine lifts mood within"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Mark as claim"
    page.keyboard.press("Enter")
    assert page.locator("#id_quote").input_value() == "Ketamine lifts mood within"
    page.keyboard.press("ArrowDown")  # the focused type list: its first type
    page.locator("#id_claim_type").press("Enter")
    page.get_by_role("button", name="Save the claim").focus()
    page.keyboard.press("Enter")
    page.locator(".message-success").wait_for()
    claim = Claim.objects.get()
    quote = "Ketamine lifts mood within"
    assert (claim.quote, claim.start, claim.section) == (quote, TEXT.index(quote), "Background")
    watch.assert_clean()


def test_an_ambiguous_selection_is_refused_with_a_visible_message(page, live_article, make_user):
    make_user("Editors", username="edna")
    sign_in(page, "edna")
    page.goto(f"/editor/articles/{live_article.slug}/")
    # "ask your doctor" stands in two paragraphs with the same 32 characters either side
    select_with_mouse(page, "ask your doctor", occurrence=1)
    page.get_by_role("button", name="Mark as claim").click()
    page.locator("#id_claim_type").select_option("safety")
    page.get_by_role("button", name="Save the claim").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "occurs 2 times in the article text with the same words around it" in summary.inner_text()
    assert page.locator("#id_quote").input_value() == "ask your doctor"  # kept, for the editor to widen
    assert Claim.objects.count() == 0
    assert axe_violations(page) == []
    screenshot(page, "marking-refused-desktop")

    # a longer quote, from the paragraph before, occurs once: accepted
    page.locator("#id_quote").fill("a dose.\nThis article is not medical advice")
    page.get_by_role("button", name="Save the claim").click()
    page.locator(".message-success").wait_for()
    assert Claim.objects.get().section == "Risks"


def test_without_javascript_the_editor_pastes_the_quote(new_page, live_article, make_user):
    make_user("Editors", username="edna")
    page = new_page(viewport=DESKTOP, java_script_enabled=False)
    sign_in(page, "edna")
    page.goto(f"/editor/articles/{live_article.slug}/")
    assert page.get_by_role("button", name="Mark as claim").is_hidden()
    page.get_by_label("Quote").fill("ask your doctor")
    page.get_by_text("Words around it").click()
    # the same sentence stands twice; only the first is followed by the heading "Risks"
    page.get_by_label("Words just after it").fill("before they change any medicine, dose or therapy they take.\nRisks")
    page.locator("#id_claim_type").select_option("other")
    page.get_by_role("button", name="Save the claim").click()
    page.locator(".message-success").wait_for()
    claim = Claim.objects.get()
    assert claim.start == TEXT.index("ask your doctor") and claim.section == "Background"
    screenshot(page, "marking-no-js-desktop")
