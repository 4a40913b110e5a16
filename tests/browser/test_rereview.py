"""A claim under re-review in a real browser (issue 19 §2): its published verdict stays shown under a
banner saying since when and why, with the figures of the publication; the new round's reviews are not
on the page; the earlier verdict has its own page. At 1280 and 390 px, without accessibility violations."""

from __future__ import annotations

import re

import pytest

from evidence.models import Claim
from reviews.services import claims_send_back, verdict_publish
from tests.browser.conftest import DESKTOP, axe_violations, screenshot
from tests.builders import rate

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
ROUND_2 = "Second round reasoning nobody may read yet, string b7x."


@pytest.fixture
def under_rereview(live_seed, make_user):
    """K1 published from two reviews, then sent back; one reviewer has re-reviewed in round 2."""
    k1 = Claim.objects.get(article=live_seed, key="K1")
    a, b, editor = make_user("Reviewers"), make_user("Reviewers"), make_user("Editors")
    rate(k1, a, "moderate", "supported", rationale="Round one, first reviewer.")
    rate(k1, b, "moderate", "supported", rationale="Round one, second reviewer.")
    verdict_publish(claim=k1, published_by=editor, rationale="Two trials agree.")
    claims_send_back(claims=[k1], reason="a cited trial was corrected", user=editor)
    rate(k1, a, "very_low", "contradicted", rationale=ROUND_2)
    return k1


def test_a_reader_sees_the_published_verdict_under_a_re_review_banner(new_page, under_rereview):
    claim = under_rereview
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE_390)):
        page = new_page(viewport=viewport)
        page.goto(claim.get_absolute_url())
        banner = page.locator("#rereview-banner")
        assert banner.is_visible()
        assert re.search(r"Under re-review since \d{1,2} \w+ \d{4}: a cited trial was corrected", banner.inner_text())
        verdict = page.locator(".verdict-box")
        # the published verdict, with the figures of its publication (two reviewers), not the round's one
        assert "Supported" in verdict.locator(".status-badge").first.inner_text()
        assert "2 reviewers, same certainty" in verdict.inner_text()
        # the round-1 reviews are public, the round-2 one is not on the page at all
        assert "Round one, first reviewer." in page.content()
        assert ROUND_2 not in page.content()
        # the banner fits the screen
        box = banner.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        assert axe_violations(page) == []
        screenshot(page, f"rereview-claim-{name}")
        # the verdict's permalink, reached by keyboard
        link = verdict.get_by_role("link", name="Verdict 1")
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/claims/{claim.pk}/verdicts/1/$"))
        assert "Two trials agree." in page.locator(".verdict-box").inner_text()
        assert ROUND_2 not in page.content()
        assert axe_violations(page) == []
        screenshot(page, f"rereview-verdict-{name}")
        page.close()
