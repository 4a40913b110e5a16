"""The interactive API docs in a real browser: Swagger UI loads from our own static files, renders the
schema and runs a request, under the site's Content-Security-Policy with no violation."""

from __future__ import annotations

import pytest

from tests.browser.test_csp import Watch

pytestmark = pytest.mark.browser


def test_api_docs_render_and_call_the_api_under_the_policy(page, live_seed):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    watch = Watch(page)
    watch.visit("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Evidence review API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() >= 27  # every operation of the schema
    # try one: list the articles
    operation = page.locator("#operations-articles-articles_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    watch.violations += [f"/api/docs/: {v}" for v in page.evaluate("window.__cspViolations")]
    watch.assert_clean()
    # nothing from anywhere but our own server: no CDN
    base = page.url.split("/api/docs/")[0]
    assert requests and all(url.startswith(base) or url.startswith("data:") for url in requests), requests
