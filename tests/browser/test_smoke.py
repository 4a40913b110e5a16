"""The browser harness itself: Chromium starts offline and renders the home page."""

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_home_page_lists_the_seed_article(page, live_seed):
    page.goto("/")
    assert page.locator("h1").inner_text() == "Articles under review"
    assert live_seed.title in page.locator("main").inner_text()
    assert axe_violations(page) == []
