"""The Content Security Policy in a real browser: the readers' pages, the review pages and the Django admin
work under it, with no violation reported (a violation means a blocked script or style: a broken page)."""

from __future__ import annotations

import pytest

from evidence.models import Claim, Study
from tests.builders import publish

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"  # what tests/conftest.py's make_user gives every user

# Runs before any of the page's own scripts, in every document: records what the CSP blocked.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
                              `at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


class Watch:
    """Console errors and CSP violations of a page, across navigations."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.violations: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.console.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        self.page.wait_for_load_state("load")
        self.violations += [f"{path}: {v}" for v in self.page.evaluate("window.__cspViolations")]

    def assert_clean(self) -> None:
        csp_console = [text for text in self.console if "Content Security Policy" in text]
        assert self.violations == [] and csp_console == [], (self.violations, csp_console)
        # and no script failed (a blocked script's callers would); the browser's own /favicon.ico
        # request on admin pages is a console error too, so other console errors are not counted
        assert self.errors == []


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def test_readers_pages_run_under_the_policy(page, live_seed):
    claim = live_seed.claims.order_by("start").first()
    publish(claim)  # so the claim page carries its ClaimReview JSON-LD
    watch = Watch(page)
    for path in [
        "/",
        live_seed.get_absolute_url(),
        f"/articles/{live_seed.slug}/map/",
        "/map/",
        "/claims/?q=ketamine&sort=strongest",
        claim.get_absolute_url(),
        "/studies/",
        claim.citations.first().study.get_absolute_url(),
        "/accounts/login/",
    ]:
        watch.visit(path)
    # the article page's script (static/js/article.js) still runs: a claim opens in the side panel
    watch.visit(live_seed.get_absolute_url())
    page.locator("a.claim").first.click()
    assert page.locator("#claim-panel").is_visible()
    assert page.locator('script[type="application/ld+json"]').count() == 0  # only on claim pages
    watch.assert_clean()


def test_the_api_docs_run_under_the_policy(page, live_seed):
    """Swagger UI (drf-spectacular's split view: the page and its start-up script are separate files)."""
    watch = Watch(page)
    watch.visit("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # the schema loaded and was drawn
    assert page.locator(".swagger-ui .opblock").count() > 5
    watch.assert_clean()


def test_the_admin_runs_under_the_policy(page, live_seed, make_user):
    make_user(username="ada", superuser=True)
    claim = Claim.objects.filter(article=live_seed).order_by("start").first()
    study = Study.objects.order_by("pk").first()
    watch = Watch(page)
    sign_in(page, "ada")
    for path in [
        "/admin/",
        "/admin/evidence/claim/",
        "/admin/evidence/claim/?status__exact=awaiting_review&q=ketamine",
        f"/admin/evidence/claim/{claim.pk}/change/",
        "/admin/evidence/study/",
        f"/admin/evidence/study/{study.pk}/change/",
        f"/admin/evidence/article/{live_seed.pk}/change/",
        "/admin/evidence/article/add/",
        "/admin/evidence/study/import/",
        "/admin/reviews/flag/",
        "/admin/auth/user/",
        f"/admin/evidence/claim/{claim.pk}/history/",  # django-simple-history's page (see settings)
    ]:
        watch.visit(path)
    # the admin's own scripts work: the action bar's "select all" ticks every row of the changelist
    watch.visit("/admin/evidence/claim/")
    page.locator("#action-toggle").check()
    assert page.locator("input.action-select:checked").count() == page.locator("input.action-select").count() > 0
    # and the prepopulated slug field follows the title on the add form
    watch.visit("/admin/evidence/article/add/")
    page.locator("#id_title").press_sequentially("A new article about psilocybin")
    assert page.locator("#id_slug").input_value() == "a-new-article-about-psilocybin"
    watch.assert_clean()
