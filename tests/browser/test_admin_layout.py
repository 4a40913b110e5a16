"""The Django admin in Chromium at 1280 px: every column of its lists on screen, and no request that fails.

Issue 17: the study list cut off DOI, PMID, Retraction status and Verified at 1280 px, and every admin page
made the browser ask for /favicon.ico, a 404.
"""

from __future__ import annotations

import pytest

from reviews.services import flag_raise
from tests.browser.test_csp import sign_in
from tests.builders import rate

pytestmark = pytest.mark.browser

LISTS = [
    "/admin/evidence/study/",
    "/admin/evidence/claim/",
    "/admin/evidence/citation/",
    "/admin/evidence/article/",
    "/admin/reviews/review/",
    "/admin/reviews/consensus/",
    "/admin/reviews/flag/",
]


@pytest.fixture
def admin_page(page, live_seed, make_user):
    """The seed with a review and a flag (so every list has rows), and a superuser signed in."""
    claim = live_seed.claims.order_by("start").first()
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    flag_raise(claim=claim, reason="overstated", note="Says within hours; the trials measured at 24 h.")
    make_user(username="ada", superuser=True)
    sign_in(page, "ada")
    return page


def test_every_column_of_the_admin_lists_is_on_screen_at_1280px(admin_page):
    page = admin_page
    assert page.viewport_size["width"] == 1280
    for path in LISTS:
        page.goto(path)
        results = page.locator(".results")
        # the list scrolls sideways when its table is wider than the room beside the filter
        hidden = results.evaluate("element => element.scrollWidth - element.clientWidth")
        right = results.bounding_box()["x"] + results.bounding_box()["width"]
        headings = {
            " ".join(th.inner_text().split()): th.bounding_box()["x"] + th.bounding_box()["width"]
            for th in page.locator("#result_list thead th").all()
        }
        off_screen = [name for name, edge in headings.items() if edge > min(right, 1280) + 1]
        assert (hidden, off_screen) == (0, []), path
    page.goto("/admin/evidence/study/")
    names = page.locator("#result_list thead th").all_inner_texts()
    assert {"DOI", "PMID", "RETRACTION STATUS", "VERIFIED"} <= {" ".join(name.split()).upper() for name in names}


def test_admin_pages_ask_for_nothing_that_is_missing(admin_page, live_seed):
    """Without an icon of its own an admin page makes the browser ask for /favicon.ico, which is not there."""
    page = admin_page
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
    claim = live_seed.claims.order_by("start").first()
    for path in ["/admin/", "/admin/evidence/study/", f"/admin/evidence/claim/{claim.pk}/change/"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert failed == []
    icon = page.locator('link[rel="icon"]')
    assert icon.count() == 1 and page.request.get(icon.get_attribute("href")).status == 200
