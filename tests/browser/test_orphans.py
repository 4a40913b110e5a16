"""Orphaned anchors in a real browser (issue 19): the seed article revised so that one claim is reworded
slightly (an orphan with a suggestion) and one is removed (an orphan without, whose verdict readers had).
A reader sees both listed below the text, never marked in it, their verdicts struck through; an editor
accepts the suggestion in one click."""

from __future__ import annotations

import re

import pytest

from evidence.models import Claim
from evidence.services import article_revise
from tests.browser.conftest import ARTIFACTS, DESKTOP, axe_violations, screenshot
from tests.browser.test_review_workflow import sign_in
from tests.builders import publish

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def view(page, name: str) -> None:
    """The viewport only, as a reader sees it at this scroll position (screenshot() takes the whole page)."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


REWORDED = "Moreover, Ketamine therapy can lead to long-lasting change."


@pytest.fixture
def revised(live_seed):
    """K10 reworded slightly, M16 removed (its verdict "Supported" published before)."""
    k10, m16 = (Claim.objects.get(article=live_seed, key=key) for key in ("K10", "M16"))
    publish(m16, verdict="supported", certainty="moderate")
    text = live_seed.text.replace(k10.quote, REWORDED).replace(m16.quote + " ", "")
    assert m16.quote not in text
    article_revise(article=live_seed, text=text, headings=live_seed.headings, note="The author's update.")
    return live_seed, Claim.objects.get(pk=k10.pk), Claim.objects.get(pk=m16.pk)


def test_a_reader_sees_orphans_listed_not_marked_with_their_verdict_struck_through(new_page, revised):
    article, reworded, removed = revised
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE_390)):
        page = new_page(viewport=viewport)
        page.goto(article.get_absolute_url())
        # not drawn into the text: 36 marks of 38 claims, none of them an orphan
        assert page.locator("a.claim").count() == 36
        for orphan in (reworded, removed):
            assert page.locator(f"a.claim#claim-{orphan.pk}").count() == 0
        section = page.locator("section.orphans")
        assert section.get_by_role("heading", name="Claims no longer found in the current text").is_visible()
        item = section.locator(f"#claim-{removed.pk}")
        assert removed.quote in item.inner_text()
        badge = item.locator(".struck-verdict .status-badge")
        assert "Supported" in badge.inner_text()
        assert "line-through" in badge.evaluate("e => getComputedStyle(e).textDecorationLine")
        assert "Not found since the revision of" in item.inner_text()
        assert axe_violations(page) == []
        screenshot(page, f"orphans-article-{name}")
        # what a person looks at: the header, a claim relying on a retracted study, the list of orphans
        view(page, f"orphans-header-{name}")
        page.locator("a.claim.claim--retracted").first.scroll_into_view_if_needed()
        view(page, f"retracted-mark-{name}")
        section.scroll_into_view_if_needed()
        view(page, f"orphans-list-{name}")

        # the header says the article was revised, and shows what changed
        page.get_by_role("link", name=re.compile("Revised on")).click()
        page.wait_for_url(re.compile(rf"/articles/{article.slug}/revisions/2/$"))
        assert any(removed.quote in text for text in page.locator(".revision-text del").all_inner_texts())
        assert any("long-lasting" in text for text in page.locator(".revision-text ins").all_inner_texts())
        assert axe_violations(page) == []
        screenshot(page, f"orphans-revision-{name}")
        page.locator(".revision-text ins").first.scroll_into_view_if_needed()
        view(page, f"orphans-revision-view-{name}")

        # the orphan's own page says so, instead of cutting the current text at stale offsets
        page.goto(removed.get_absolute_url())
        assert "no longer found in the current text" in page.locator(".notice-orphan").inner_text()
        assert axe_violations(page) == []
        screenshot(page, f"orphans-claim-{name}")
        view(page, f"orphans-claim-view-{name}")


def test_an_editor_accepts_a_suggested_passage(new_page, revised, make_user):
    article, reworded, removed = revised
    make_user("Editors", username="edna")
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE_390)):
        page = new_page(viewport=viewport)
        sign_in(page, "edna")
        queue = page.locator("#queue-anchors-lost")
        assert queue.get_by_role("link", name=re.compile(re.escape(removed.quote[:40]))).is_visible()
        if name == "phone":
            queue.scroll_into_view_if_needed()
            view(page, "orphans-desk-view-phone")
            break
        screenshot(page, "orphans-desk")
        queue.scroll_into_view_if_needed()
        view(page, "orphans-desk-view-desktop")
        queue.get_by_role("link", name=re.compile(re.escape(reworded.quote[:40]))).click()
        page.wait_for_url(re.compile(rf"/editor/claims/{reworded.pk}/$"))
        panel = page.locator(".panel-anchor")
        assert "long-lasting change" in panel.locator("blockquote mark").inner_text()
        assert axe_violations(page) == []
        screenshot(page, "orphans-editor-claim-desktop")
        view(page, "orphans-editor-claim-view-desktop")
        phone = new_page(viewport=PHONE_390)
        sign_in(phone, "edna")
        phone.goto(f"/editor/claims/{reworded.pk}/")
        screenshot(phone, "orphans-editor-claim-phone")
        phone.locator(".panel-anchor").scroll_into_view_if_needed()
        view(phone, "orphans-editor-claim-view-phone")

        panel.get_by_role("button", name="Accept this passage").click()
        assert "anchored again" in page.locator(".messages").inner_text()
        assert page.locator(".panel-anchor").count() == 0
    claim = Claim.objects.get(pk=reworded.pk)
    assert claim.anchor_state == Claim.AnchorState.ANCHORED and claim.quote == REWORDED
    assert claim.history.latest().history_user.username == "edna"

    # readers see it marked again, at its new words
    page = new_page(viewport=DESKTOP)
    page.goto(article.get_absolute_url())
    assert page.locator(f"a.claim#claim-{claim.pk}").inner_text().startswith(REWORDED)
    assert page.locator("a.claim").count() == 37
