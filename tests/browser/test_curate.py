"""The curator's workspace in Chromium: signing in lands on it, a bibliography goes through preview,
confirmation and report, and a study is linked to a claim from the claim's page by searching as one types."""

from __future__ import annotations

import pytest

from evidence.models import Citation, ImportJob, Study
from tests import builders
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_review_workflow import sign_in
from tests.conftest import SAMPLES

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def _no_serious_violations(page, name: str) -> None:
    assert axe_violations(page) == [], name


def _uncited_study(claim) -> Study:
    """A seed study with a DOI the claim does not cite yet."""
    return Study.objects.exclude(citations__claim=claim).exclude(doi="").order_by("pk").first()


def test_a_curator_links_a_study_from_the_claim_page_as_they_type(page, new_page, live_seed, make_user):
    make_user("Curators", username="cora")
    claim = live_seed.claims.get(key="K1")
    study = _uncited_study(claim)

    sign_in(page, "cora")
    page.wait_for_url("**/curate/")  # a curator lands on the workspace
    _no_serious_violations(page, "workspace")
    screenshot(page, "curate-workspace-1280")

    page.goto(claim.get_absolute_url())
    page.get_by_role("link", name="Link a study").click()
    page.wait_for_url(f"**/curate/claims/{claim.pk}/link/")
    search = page.get_by_label("Search title, author, DOI or PMID")
    search.press_sequentially(study.doi, delay=15)
    # the results arrive without pressing Search, and the address follows the query
    choose = page.locator("#study-results").get_by_role("link", name="Link this study")
    choose.wait_for()
    assert "q=" in page.url
    _no_serious_violations(page, "link-study search")
    screenshot(page, "curate-link-search-1280")
    choose.click()

    page.get_by_label("Context").check()
    page.get_by_label("How directly it applies").select_option("partly_indirect")
    page.get_by_label("What the study actually shows").fill("Background on the mechanism, in adults.")
    _no_serious_violations(page, "link-study form")
    screenshot(page, "curate-link-form-1280")
    page.get_by_role("button", name="Link the study").click()
    page.wait_for_url(f"**{claim.get_absolute_url()}*")
    assert "Linked:" in page.locator(".messages").inner_text()
    citation = Citation.objects.get(claim=claim, study=study)
    assert (citation.relation, citation.directness, citation.added_by.username) == (
        "context",
        "partly_indirect",
        "cora",
    )

    # a second link of the same study is refused with a message on the form
    page.goto(f"/curate/claims/{claim.pk}/link/{study.pk}/")
    page.get_by_label("Supports").check()
    page.get_by_role("button", name="Link the study").click()
    assert page.locator(".error-summary").is_visible()
    assert "already exists" in page.locator(".error-summary").inner_text()

    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "cora")
    phone.goto(f"/curate/claims/{claim.pk}/link/?q=ketamine")
    screenshot(phone, "curate-link-search-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.goto("/curate/")
    screenshot(phone, "curate-workspace-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_search_works_without_javascript(new_page, live_seed, make_user):
    make_user("Curators", username="cora")
    claim = live_seed.claims.get(key="K2")
    study = _uncited_study(claim)
    page = new_page(java_script_enabled=False)
    sign_in(page, "cora")
    page.goto(f"/curate/claims/{claim.pk}/link/")
    page.get_by_label("Search title, author, DOI or PMID").fill(study.doi)
    page.get_by_role("button", name="Search").click()
    page.locator("#study-results").get_by_role("link", name="Link this study").click()
    page.get_by_label("Supports").check()
    page.get_by_role("button", name="Link the study").click()
    page.wait_for_url(f"**{claim.get_absolute_url()}*")
    assert Citation.objects.filter(claim=claim, study=study, relation="supports").exists()


def test_upload_preview_confirm_report(page, new_page, make_user):
    make_user("Curators", username="cora")
    sign_in(page, "cora")
    page.wait_for_url("**/curate/")
    page.get_by_role("link", name="Upload a file").click()
    _no_serious_violations(page, "import form")
    page.get_by_label("Bibliography file").set_input_files(str(SAMPLES / "zotero-export.json"))
    page.get_by_role("button", name="Preview").click()
    assert "3 created, 1 merged, 1 rejected" in page.locator("#preview-summary").inner_text()
    assert ImportJob.objects.count() == 0
    _no_serious_violations(page, "preview")
    screenshot(page, "curate-import-preview-1280")

    page.get_by_role("button", name="Import these studies").click()
    page.wait_for_url("**/curate/import/jobs/*/")
    page.locator("#import-job-counts-final").wait_for()
    counts = page.locator("#import-job-counts-final").inner_text()
    assert "Created\n3" in counts and "Rejected\n1" in counts and "Merged\n1" in counts
    assert page.locator("#import-job-state").inner_text() == "Done"
    _no_serious_violations(page, "job")
    screenshot(page, "curate-import-job-1280")

    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "cora")
    phone.goto(page.url)
    screenshot(phone, "curate-import-job-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_to_do_lists_and_duplicates(page, new_page, live_seed, make_user):
    make_user("Curators", username="cora")
    for title in (
        "Esketamine nasal spray: a randomized clinical trial",
        "Esketamine nasal spray: a randomised clinical trial",
    ):
        builders.study(title=title, year=2019, design="")
    sign_in(page, "cora")
    page.goto("/curate/todo/unclassified/")
    page.get_by_role("button", name="Classify Esketamine nasal spray: a randomized").click()
    assert "Randomised controlled trial" in page.locator(".messages").inner_text()
    for path, name in (
        ("/curate/todo/unclassified/", "todo-unclassified"),
        ("/curate/todo/unverified/", "todo-unverified"),
        ("/curate/todo/duplicates/", "duplicates"),
    ):
        page.goto(path)
        _no_serious_violations(page, name)
        screenshot(page, f"curate-{name}-1280")
    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "cora")
    phone.goto("/curate/todo/unclassified/")
    screenshot(phone, "curate-todo-unclassified-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_two_roles_choose_where_to_start(page, make_user):
    make_user("Editors", "Curators", username="eve")
    sign_in(page, "eve")
    page.wait_for_url("**/accounts/start/")
    assert page.get_by_role("link", name="Editor's desk").count() >= 1
    page.locator(".start-pages").get_by_role("link", name="Curator's workspace").click()
    page.wait_for_url("**/curate/")
