"""The curator's workspace (/curate/): who may open it, the library's to-do lists, the duplicate scan,
the upload (the admin's path), linking a study from a claim's page, and where each role lands."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from evidence.bibliography_upload import SESSION_KEY
from evidence.curate import duplicates
from evidence.models import Citation, ImportJob, Study
from tests import builders
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db

PAGES = [
    ("curate:workspace", {}),
    ("curate:import", {}),
    ("curate:todo", {"slug": "unclassified"}),
    ("curate:duplicates", {}),
]


@pytest.fixture
def curator(make_user):
    return make_user("Curators")


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes())


# --- Who may ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("role", [None, "Reviewers", "Editors"])
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_readers_reviewers_and_editors_are_refused(client, make_user, role, name, kwargs):
    client.force_login(make_user(*([role] if role else [])))
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_curators_and_admins_may(client, make_user, name, kwargs):
    for user in (make_user("Curators"), make_user(superuser=True)):
        client.force_login(user)
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_the_link_study_pages_are_for_curators(client, make_user):
    claim, study = builders.claim(), builders.study()
    urls = [
        reverse("curate:link-study", args=[claim.pk]),
        reverse("curate:link-study-results", args=[claim.pk]),
        reverse("curate:link-study-form", args=[claim.pk, study.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302
    client.force_login(make_user("Reviewers"))
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(urls[2], {"relation": "supports", "directness": "direct"}).status_code == 403
    assert not Citation.objects.exists()


def test_the_claim_page_offers_link_a_study_to_curators_only(client, make_user):
    claim = builders.claim()
    link = reverse("curate:link-study", args=[claim.pk])
    assert link not in client.get(claim.get_absolute_url()).content.decode()
    client.force_login(make_user("Reviewers"))
    assert link not in client.get(claim.get_absolute_url()).content.decode()
    client.force_login(make_user("Curators"))
    assert link in client.get(claim.get_absolute_url()).content.decode()


def test_the_nav_links_to_the_workspace_for_curators(client, make_user):
    workspace = reverse("curate:workspace")
    client.force_login(make_user("Editors"))
    assert f'href="{workspace}"' not in client.get("/").content.decode()
    client.force_login(make_user("Curators"))
    assert f'href="{workspace}"' in client.get("/").content.decode()


# --- The to-do lists --------------------------------------------------------------------------------------


def _listed(client: Client, slug: str) -> str:
    response = client.get(reverse("curate:todo", args=[slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_unclassified_lists_studies_without_a_design_with_a_suggestion(curator_client):
    builders.study(title="Ketamine for depression: a randomized controlled trial", design="")
    builders.study(title="Psilocybin and mood, classified", design=Study.Design.COHORT)
    html = _listed(curator_client, "unclassified")
    assert "Ketamine for depression" in html and "Randomised controlled trial" in html  # the suggestion
    assert "Psilocybin and mood, classified" not in html
    assert set(Study.objects.unclassified().values_list("title", flat=True)) == {
        "Ketamine for depression: a randomized controlled trial"
    }


def test_unverified(curator_client):
    builders.study(title="Nobody checked this one", verified=False)
    builders.study(title="Checked against Crossref", verified=True)
    html = _listed(curator_client, "unverified")
    assert "Nobody checked this one" in html and "Checked against Crossref" not in html


def test_without_doi_and_pmid(curator_client):
    builders.study(title="No identifier at all")
    builders.study(title="Has a DOI", doi="10.5555/curate.1")
    builders.study(title="Has a PMID", pmid="12345")
    html = _listed(curator_client, "no-identifiers")
    assert "No identifier at all" in html
    assert "Has a DOI" not in html and "Has a PMID" not in html


def test_retracted_still_cited_as_support_uses_the_one_rule(curator_client):
    claim = builders.claim()
    relied = builders.study(title="Retracted and still relied on", retraction_status="retracted")
    only_context = builders.study(title="Retracted, cited only as context", retraction_status="retracted")
    sound = builders.study(title="Sound and supporting")
    builders.citation(claim, relied, relation="mixed")
    builders.citation(claim, only_context, relation="context")
    builders.citation(claim, sound)
    html = _listed(curator_client, "retracted-relied-on")
    assert "Retracted and still relied on" in html and claim.get_absolute_url() in html
    assert "cited only as context" not in html and "Sound and supporting" not in html
    # the same studies as the rule readers and flags use, CitationQuerySet.reliance_on_retracted
    assert set(Study.objects.retracted_still_relied_on()) == {c.study for c in Citation.objects.reliance_on_retracted()}


def test_the_workspace_shows_each_lists_size(curator_client):
    builders.study(title="No identifier, unverified", design="")
    html = curator_client.get(reverse("curate:workspace")).content.decode()
    for slug in ("unclassified", "unverified", "no-identifiers", "retracted-relied-on", "duplicates"):
        assert reverse("curate:todo", args=[slug]) in html or slug == "duplicates"
    assert reverse("curate:duplicates") in html


def test_the_admin_filters_by_the_same_rules(curator_client):
    builders.study(title="Nobody checked this one either", verified=False)
    builders.study(title="Checked, in the admin", verified=True)
    html = curator_client.get(reverse("admin:evidence_study_changelist") + "?todo=unverified").content.decode()
    assert "Nobody checked this one either" in html and "Checked, in the admin" not in html


def test_an_unknown_list_is_not_found(curator_client):
    assert curator_client.get("/curate/todo/everything/").status_code == 404


# --- Possible duplicates ------------------------------------------------------------------------------------

TITLES = [
    "Rapid antidepressant effects of ketamine in major depression",
    "Rapid antidepressant effects of ketamine in major depression.",  # the same paper, written twice
    "MDMA-assisted therapy for severe PTSD: a randomized, double-blind, placebo-controlled phase 3 study",
    "Bladder damage in recreational ketamine users",
    "Zebrafish as a model of serotonin signalling",
]


def test_duplicates_pairs_similar_titles_only(curator_client):
    first, second, *_ = [builders.study(title=title, year=2006) for title in TITLES]
    html = curator_client.get(reverse("curate:duplicates")).content.decode()
    scan = duplicates.possible_duplicates()
    assert [(pair.first, pair.second) for pair in scan.pairs] == [(first, second)]
    assert scan.next is None and scan.read == len(TITLES)
    assert "Rapid antidepressant effects" in html and "Bladder damage" not in html


def test_the_duplicate_scan_is_bounded_and_resumes(curator_client, monkeypatch):
    monkeypatch.setattr(duplicates, "WINDOW", 4)
    monkeypatch.setattr(duplicates, "MAX_ROWS", 4)
    words = ["Apples", "Bladders", "Cortisol", "Dopamine", "Empathy", "Fear", "Glutamate", "Hallucination"]
    studies = [builders.study(title=f"{word} in {i * 7} patients", year=2000) for i, word in enumerate(words)]
    twins = [builders.study(title="Zz the very same title", year=2001) for _ in range(2)]
    first = duplicates.possible_duplicates()
    assert first.read == 4 and first.next is not None and first.pairs == []
    pairs, scan, pages = [], first, 1
    while scan.next is not None:
        scan = duplicates.possible_duplicates(scan.next)
        pairs += [(p.first.pk, p.second.pk) for p in scan.pairs]
        pages += 1
    assert pairs == [(twins[0].pk, twins[1].pk)]  # found once, across windows
    assert pages >= 3 and len(studies) == 8
    # the page hands the cursor on in its "Check further" link
    html = curator_client.get(reverse("curate:duplicates")).content.decode()
    assert "after_key=" in html and "after_id=" in html


@pytest.mark.parametrize(
    "query",
    [
        "?after_key=&after_id=1",
        "?after_key=abc&after_id=-1",
        "?after_key=abc&after_id=99999999999999999999",
        "?after_key=%00&after_id=1",
        "?after_key=" + "x" * 5000 + "&after_id=1",
        "?after_id=abc",
    ],
)
def test_hostile_cursors_never_fail(curator_client, query):
    builders.study(title="Something")
    # 400: the request guard refuses a NUL character before any view (evidence/middleware.py)
    assert curator_client.get(reverse("curate:duplicates") + query).status_code in (200, 400)


@pytest.mark.parametrize(
    "query", ["?page=abc", "?page=-1", "?page=99999", "?page=%00", "?q=%00", "?page=1e9", "?page=" + "9" * 400]
)
def test_hostile_pages_never_fail(curator_client, query):
    builders.study(title="Something")
    for slug in ("unclassified", "unverified", "no-identifiers", "retracted-relied-on"):
        assert curator_client.get(reverse("curate:todo", args=[slug]) + query).status_code in (200, 400)


# --- The upload: the admin's path, drawn in our pages ------------------------------------------------------


def test_upload_preview_confirm_and_report(curator_client):
    response = curator_client.post(reverse("curate:import"), {"file": upload("zotero-export.json")})
    html = response.content.decode()
    assert response.status_code == 200 and "3 created, 1 merged, 1 rejected" in html and "is not a DOI" in html
    assert Study.objects.count() == 0  # a preview writes nothing
    token = curator_client.session[SESSION_KEY]["token"]

    response = curator_client.post(reverse("curate:import"), {"token": token})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("curate:job", args=[job.pk])
    assert Study.objects.count() == 3 and job.user is not None

    html = curator_client.get(response["Location"]).content.decode()
    assert "Done" in html and 'id="import-job-counts-final"' in html
    counts = html.split('id="import-job-counts-final"')[1].split("</dl>")[0]
    for action, n in (("Created", 3), ("Updated", 0), ("Unchanged", 0), ("Merged", 1), ("Rejected", 1)):
        assert f"<dt>{action}</dt><dd>{n}</dd>" in counts

    status = curator_client.get(reverse("curate:job-status", args=[job.pk])).json()
    assert status["state"] == "succeeded" and status["finished"] is True

    # the same confirmation cannot import twice
    response = curator_client.post(reverse("curate:import"), {"token": token}, follow=True)
    assert "has expired" in response.content.decode() and ImportJob.objects.count() == 1


def test_a_second_upload_of_the_same_file_reports_unchanged(curator_client):
    for _ in range(2):
        curator_client.post(reverse("curate:import"), {"file": upload("zotero-export.json")})
        curator_client.post(reverse("curate:import"), {"token": curator_client.session[SESSION_KEY]["token"]})
    job = ImportJob.objects.order_by("-pk").first()
    html = curator_client.get(reverse("curate:job", args=[job.pk])).content.decode()
    assert "<dt>Unchanged</dt><dd>3</dd>" in html and "<dt>Created</dt><dd>0</dd>" in html


def test_the_admin_and_the_workspace_share_one_preview(curator_client):
    """One path: a preview made on one page is confirmed on the other."""
    curator_client.post(reverse("admin:evidence_study_import"), {"file": upload("pubmed-export.ris")})
    token = curator_client.session[SESSION_KEY]["token"]
    response = curator_client.post(reverse("curate:import"), {"token": token})
    assert response.status_code == 302 and Study.objects.exists()


@pytest.mark.parametrize(("name", "message"), [("broken-binary.pdf", "binary"), ("broken-truncated.bib", "truncated")])
def test_a_bad_file_is_a_form_error(curator_client, name, message):
    response = curator_client.post(reverse("curate:import"), {"file": upload(name)})
    html = response.content.decode()
    assert response.status_code == 200 and message in html and "error-summary" in html
    assert SESSION_KEY not in curator_client.session and Study.objects.count() == 0


def test_no_file_is_a_form_error(curator_client):
    response = curator_client.post(reverse("curate:import"), {"format": "nonsense"})
    html = response.content.decode()
    assert response.status_code == 200 and "error-summary" in html and "This field is required" in html


def test_a_job_that_does_not_exist_is_not_found(curator_client):
    assert curator_client.get(reverse("curate:job", args=[999999])).status_code == 404
    assert curator_client.get(reverse("curate:job-status", args=[999999])).status_code == 404


def test_upload_needs_csrf(curator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    assert client.post(reverse("curate:import"), {"file": upload("zotero-export.json")}).status_code == 403


# --- Linking a study to a claim -----------------------------------------------------------------------------


def test_search_finds_by_title_author_doi_and_pmid(curator_client):
    claim = builders.claim()
    wanted = builders.study(
        title="Ketamine infusion for treatment-resistant depression",
        authors=[{"family": "Okonkwo", "given": "A."}],
        doi="10.5555/curate.link",
        pmid="424242",
    )
    builders.study(title="Something about sleep")
    url = reverse("curate:link-study", args=[claim.pk])
    for query in (
        "infusion treatment-resistant",
        "Okonkwo",
        "10.5555/curate.link",
        "https://doi.org/10.5555/CURATE.LINK",
        "424242",
    ):
        html = curator_client.get(url, {"q": query}).content.decode()
        assert reverse("curate:link-study-form", args=[claim.pk, wanted.pk]) in html, query
        assert "Something about sleep" not in html
        fragment = curator_client.get(reverse("curate:link-study-results", args=[claim.pk]), {"q": query})
        assert "<html" not in fragment.content.decode() and wanted.title in fragment.content.decode()


def test_linking_saves_through_the_citation_service(curator_client, curator):
    claim = builders.claim()
    study = builders.study(title="A trial that shows it")
    url = reverse("curate:link-study-form", args=[claim.pk, study.pk])
    assert curator_client.get(url).status_code == 200
    response = curator_client.post(
        url,
        {"relation": "supports", "directness": "partly_indirect", "note": "Shows it in adults.", "directness_note": ""},
    )
    assert response.status_code == 302 and response["Location"].startswith(claim.get_absolute_url())
    citation = Citation.objects.get()
    assert (citation.claim, citation.study, citation.relation, citation.directness, citation.added_by) == (
        claim,
        study,
        "supports",
        "partly_indirect",
        curator,
    )
    assert citation.history.get().history_change_reason == "linked"  # citation_create wrote it
    claim.refresh_from_db()
    assert claim.evidence_changed_at is not None
    # once linked, the search says so instead of offering it again
    html = curator_client.get(reverse("curate:link-study", args=[claim.pk]), {"q": "trial that shows"}).content.decode()
    assert "Already linked to this claim" in html


def test_a_duplicate_link_is_a_form_error(curator_client):
    claim = builders.claim()
    study = builders.study()
    builders.citation(claim, study)
    url = reverse("curate:link-study-form", args=[claim.pk, study.pk])
    response = curator_client.post(url, {"relation": "contradicts", "directness": "direct"})
    html = response.content.decode()
    assert response.status_code == 200 and "already exists" in html and "error-summary" in html
    assert "This study is already linked to this claim" in html
    assert Citation.objects.get().relation == "supports"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"relation": "proves", "directness": "direct"},
        {"relation": "supports", "directness": "totally"},
        {"relation": "supports", "directness": "direct", "note": "\x00"},
    ],
)
def test_bad_input_is_a_form_error(curator_client, data):
    claim, study = builders.claim(), builders.study()
    response = curator_client.post(reverse("curate:link-study-form", args=[claim.pk, study.pk]), data)
    assert response.status_code == 200 and "error-summary" in response.content.decode()
    assert not Citation.objects.exists()


def test_a_linked_retracted_study_flags_the_claim(curator_client):
    """The service's rules hold whatever page links: a claim now relying on a retracted study is flagged."""
    claim = builders.claim()
    study = builders.study(title="Withdrawn", retraction_status="retracted")
    curator_client.post(
        reverse("curate:link-study-form", args=[claim.pk, study.pk]), {"relation": "supports", "directness": "direct"}
    )
    assert claim.flags.filter(reason="retracted_source").exists()


@pytest.mark.parametrize(
    "query",
    [
        "?q=%00",
        "?q=" + "a" * 5000,
        "?q=10.",
        "?q=pmid:",
        "?q=%22unbalanced",
        "?q=-",
        "?q=!!!&&||",
        "?q[]=x",
        "?q=10.%ZZ",
    ],
)
def test_hostile_searches_never_fail(curator_client, query):
    claim = builders.claim()
    builders.study(title="Something to find")
    for name in ("curate:link-study", "curate:link-study-results"):
        assert curator_client.get(reverse(name, args=[claim.pk]) + query).status_code in (200, 400)


def test_unknown_claims_and_studies_are_not_found(curator_client):
    claim, study = builders.claim(), builders.study()
    assert curator_client.get(reverse("curate:link-study", args=[999999])).status_code == 404
    assert curator_client.get(reverse("curate:link-study-form", args=[claim.pk, 999999])).status_code == 404
    assert curator_client.get(reverse("curate:link-study-form", args=[999999, study.pk])).status_code == 404


# --- Where each role lands after signing in -------------------------------------------------------------------


def _lands(client: Client, user, **params) -> str:
    client.force_login(user)
    return client.get(reverse("reviews:start"), params).url


@pytest.mark.parametrize(
    ("groups", "page"),
    [
        (("Reviewers",), "/review/"),
        (("Editors",), "/editor/"),
        (("Curators",), "/curate/"),
        ((), "/"),
    ],
)
def test_each_role_lands_on_its_own_page(client, make_user, groups, page):
    assert _lands(client, make_user(*groups)) == page


def test_admins_land_on_the_desk(client, make_user):
    assert _lands(client, make_user(superuser=True)) == "/editor/"


@pytest.mark.parametrize(
    ("groups", "links"),
    [
        (("Reviewers", "Curators"), ["/review/", "/curate/"]),
        (("Editors", "Curators"), ["/editor/", "/curate/"]),
        (("Editors", "Reviewers", "Curators"), ["/editor/", "/review/", "/curate/"]),
    ],
)
def test_two_roles_get_a_page_with_a_link_to_each(client, make_user, groups, links):
    client.force_login(make_user(*groups))
    response = client.get(reverse("reviews:start"))
    assert response.status_code == 200
    html = response.content.decode()
    listed = html.split('class="article-list start-pages"')[1].split("</ul>")[0]
    assert [href for href in links if f'href="{href}"' in listed] == links


def test_signing_in_follows_next(client, make_user):
    make_user("Curators", username="cora")
    response = client.post(
        reverse("login") + "?next=/studies/", {"username": "cora", "password": "a-long-test-password"}
    )
    assert response.status_code == 302 and response["Location"] == "/studies/"
    client.logout()
    response = client.post(reverse("login"), {"username": "cora", "password": "a-long-test-password"}, follow=True)
    assert response.redirect_chain[-1][0] == "/curate/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_start_ignores_an_unsafe_next(client, make_user, target):
    assert _lands(client, make_user("Curators"), next=target) == "/curate/"


def test_start_follows_a_safe_next(client, make_user):
    assert _lands(client, make_user("Curators"), next="/claims/") == "/claims/"


def test_the_duplicate_scan_walks_the_title_key_index(curator_client):
    """The scan's order and range are the expression evidence_study_title_key_idx holds (migration 0005), so
    a page reads its window from the index instead of sorting the library."""
    from django.db import connection
    from django.db.models import Q

    builders.study(title="Something")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    rows = duplicates.by_title_key().filter(Q(title_key__gte="m"), Q(title_key__gt="m") | Q(pk__gt=1))
    assert "evidence_study_title_key_idx" in rows.values_list("pk", "title_key")[: duplicates.WINDOW].explain()


def test_every_id_is_unique_and_every_label_points_somewhere(curator_client, make_user):
    """tests/test_unique_ids.py's rule, on the workspace's pages in the states that add elements."""
    from tests.test_unique_ids import problems

    claim = builders.claim()
    study = builders.study(title="Ketamine infusion for depression", design="")
    builders.study(title="Ketamine infusion for depression.", design="")
    curator_client.post(reverse("curate:import"), {"file": upload("zotero-export.json")})
    preview = curator_client.post(reverse("curate:import"), {"file": upload("zotero-export.json")})
    curator_client.post(reverse("curate:import"), {"token": curator_client.session[SESSION_KEY]["token"]})
    job = ImportJob.objects.get()
    pages = {
        "workspace": curator_client.get(reverse("curate:workspace")),
        "import refused": curator_client.post(reverse("curate:import"), {"format": "nonsense"}),
        "preview": preview,
        "job": curator_client.get(reverse("curate:job", args=[job.pk])),
        "duplicates": curator_client.get(reverse("curate:duplicates")),
        "search": curator_client.get(reverse("curate:link-study", args=[claim.pk]), {"q": "ketamine"}),
        "link refused": curator_client.post(reverse("curate:link-study-form", args=[claim.pk, study.pk]), {}),
        **{slug: curator_client.get(reverse("curate:todo", args=[slug])) for slug in ("unclassified", "unverified")},
    }
    client = Client()
    client.force_login(make_user("Editors", "Curators"))
    pages["start"] = client.get(reverse("reviews:start"))
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert problems(response.content.decode()) == [], name


@pytest.mark.parametrize("slug", ["unclassified", "retracted-relied-on"])
def test_a_list_page_costs_the_same_queries_for_2_rows_as_for_20(curator_client, slug):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    claim = builders.claim()

    def add(n: int) -> None:
        for _ in range(n):
            study = builders.study(design="", retraction_status="retracted")
            builders.citation(claim, study)

    add(2)
    with CaptureQueriesContext(connection) as few:
        curator_client.get(reverse("curate:todo", args=[slug]))
    add(18)
    with CaptureQueriesContext(connection) as many:
        curator_client.get(reverse("curate:todo", args=[slug]))
    assert len(many) == len(few)


def test_the_search_costs_the_same_queries_for_2_results_as_for_20(curator_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    claim = builders.claim()
    url = reverse("curate:link-study-results", args=[claim.pk])
    for i in range(2):
        builders.citation(claim, builders.study(title=f"Psilocybin trial {i}"))
    with CaptureQueriesContext(connection) as few:
        curator_client.get(url, {"q": "psilocybin"})
    for i in range(2, 20):
        builders.study(title=f"Psilocybin trial {i}")
    with CaptureQueriesContext(connection) as many:
        assert curator_client.get(url, {"q": "psilocybin"}).content.decode().count("curate-row-title") == 20
    assert len(many) == len(few)


def test_classify_from_the_unclassified_list(curator_client, curator):
    study = builders.study(title="Esketamine nasal spray: a randomized clinical trial", design="")
    html = _listed(curator_client, "unclassified")
    assert '<option value="rct" selected>' in html  # the suggestion is chosen in advance
    url = reverse("curate:study-classify", args=[study.pk])
    response = curator_client.post(url, {"design": "rct", "page": "1"})
    assert (
        response.status_code == 302
        and response["Location"] == reverse("curate:todo", args=["unclassified"]) + "?page=1"
    )
    study.refresh_from_db()
    assert study.design == "rct" and study.history.first().history_user == curator  # through study_update
    assert "Esketamine" not in _listed(curator_client, "unclassified").split("<main")[1].split("</ul></div>")[-1]


@pytest.mark.parametrize("data", [{}, {"design": ""}, {"design": "guess"}, {"design": "rct", "page": "x<script>"}])
def test_classify_refuses_bad_input_without_failing(curator_client, data):
    study = builders.study(design="")
    response = curator_client.post(reverse("curate:study-classify", args=[study.pk]), data)
    assert response.status_code == 302 and "<script>" not in response["Location"]
    study.refresh_from_db()
    assert study.design == ("rct" if data.get("design") == "rct" else "")


def test_classify_is_for_curators_and_by_post(client, make_user):
    study = builders.study(design="")
    url = reverse("curate:study-classify", args=[study.pk])
    assert client.post(url, {"design": "rct"}).status_code == 302  # to sign in
    client.force_login(make_user("Reviewers"))
    assert client.post(url, {"design": "rct"}).status_code == 403
    client.force_login(make_user("Curators"))
    assert client.get(url).status_code == 405
    study.refresh_from_db()
    assert study.design == ""
