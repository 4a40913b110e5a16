"""Study designs (issue 17, item 10): an import or a curator who does not say leaves the design "Not yet
classified", never "Other"; curators find such studies on the study list and in the admin, and see a
design suggested from the title or publication type, which is stored only when they choose it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from evidence.designs import suggest
from evidence.models import Study, StudyDesign
from evidence.services import bibliography_import
from tests.builders import StudyFactory
from tests.test_admin_roles import admin_url, signed_in

pytestmark = pytest.mark.django_db

TRIAL = "Esketamine Nasal Spray for Depression: A Randomized Clinical Trial"

BIBTEX = f"""@article{{trial2019,
  title = {{{TRIAL}}},
  author = {{Daly, Ella J.}},
  journal = {{JAMA Psychiatry}},
  year = {{2019}},
  doi = {{10.5555/designs.bib}}
}}
"""
RIS = f"""TY  - JOUR
TI  - {TRIAL}
AU  - Daly, Ella J.
JO  - JAMA Psychiatry
PY  - 2019
DO  - 10.5555/designs.ris
ER  - 
"""
CSLJSON = json.dumps(
    [
        {
            "id": "trial2019",
            "type": "article-journal",
            "title": TRIAL,
            "author": [{"family": "Daly", "given": "Ella J."}],
            "container-title": "JAMA Psychiatry",
            "issued": {"date-parts": [[2019]]},
            "DOI": "10.5555/designs.json",
        }
    ]
)


@pytest.mark.parametrize(
    ("title", "work_type", "design"),
    [
        (TRIAL, "article-journal", StudyDesign.RCT),
        ("Ketamine for depression: a systematic review and meta-analysis", "", StudyDesign.META_ANALYSIS),
        ("Psilocybin and depression: a systematic review", "", StudyDesign.SYSTEMATIC_REVIEW),
        ("Ketamine use in a national cohort of veterans", "", StudyDesign.COHORT),
        ("Ketamine-induced cystitis: a case report", "", StudyDesign.CASE_SERIES),
        ("A case-control study of MDMA users", "", StudyDesign.CASE_CONTROL),
        ("A cross-sectional survey of psychedelic use", "", StudyDesign.CROSS_SECTIONAL),
        ("MDMA increases extracellular serotonin in mice", "", StudyDesign.PRECLINICAL),
        ("Ketamine: fifty years of modulating the mind, a review", "", StudyDesign.REVIEW),
        ("Scheduling of MDMA", "legislation", StudyDesign.REGULATORY),
    ],
)
def test_a_design_is_suggested_from_the_title_or_the_publication_type(title, work_type, design):
    suggestion = suggest(title, work_type)
    assert suggestion is not None and suggestion.design == design


def test_no_suggestion_where_nothing_says():
    assert suggest("Ketamine and phencyclidine: the good, the bad and the unexpected", "article-journal") is None


@pytest.mark.parametrize(("name", "content"), [("trial.bib", BIBTEX), ("trial.ris", RIS), ("trial.json", CSLJSON)])
def test_an_import_without_a_design_leaves_it_unclassified_and_suggests_one(db, name, content):
    report = bibliography_import(data=content.encode(), filename=name)
    (study,) = Study.objects.all()
    assert study.design == StudyDesign.UNCLASSIFIED == ""
    assert study.get_design_display() == "Not yet classified"
    (created,) = report.of("created", "study")
    assert "design not yet classified; suggested: Randomised controlled trial" in created.detail
    assert created.title == TRIAL


def test_a_design_given_by_the_file_is_kept(db):
    bib = BIBTEX.replace("  doi =", "  studydesign = {cohort},\n  doi =")
    bibliography_import(data=bib.encode(), filename="trial.bib")
    assert Study.objects.get().design == StudyDesign.COHORT


def test_the_api_leaves_the_design_unclassified_when_not_given(client, make_user):
    client.force_login(make_user("Curators"))
    body = {"title": TRIAL, "doi": "10.5555/designs.api"}
    response = client.post("/api/studies/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["design"] == ""
    assert Study.objects.get(doi="10.5555/designs.api").design == ""


def test_the_seeds_designs_stay_as_they_were(seed):
    assert not Study.objects.filter(design="").exists()
    assert Study.objects.get(citation_key="perry2007").design == StudyDesign.OTHER
    assert Study.objects.get(citation_key="berman2000").design == StudyDesign.RCT


def test_readers_and_curators_can_list_the_unclassified_studies(client, db):
    StudyFactory(title=TRIAL, design="", citation_key="unclassified")
    StudyFactory(title="A classified trial", design=StudyDesign.RCT, citation_key="classified")
    response = client.get(reverse("evidence:study-list"), {"design": "unclassified"})
    assert response.status_code == 200
    assert [s.citation_key for s in response.context["page"]] == ["unclassified"]
    html = response.content.decode()
    assert '<option value="unclassified" selected>Not yet classified</option>' in html
    assert (
        "Not yet classified"
        in client.get(Study.objects.get(citation_key="unclassified").get_absolute_url()).content.decode()
    )
    api = client.get("/api/studies/", {"design": "unclassified"}).json()
    assert [row["citation_key"] for row in api["results"]] == ["unclassified"]
    # no design filter: both
    assert {s.citation_key for s in client.get(reverse("evidence:study-list")).context["page"]} == {
        "unclassified",
        "classified",
    }


def test_the_admin_lists_unclassified_studies_and_suggests_a_design_without_storing_it(make_user):
    study = StudyFactory(title=TRIAL, design="", citation_key="unclassified")
    StudyFactory(title="A classified trial", design=StudyDesign.RCT, citation_key="classified")
    client = signed_in(make_user("Curators"))
    listing = client.get(admin_url(Study, "changelist"), {"design__exact": ""})
    assert listing.status_code == 200
    assert [s.citation_key for s in listing.context["cl"].result_list] == ["unclassified"]
    assert "Not yet classified" in listing.content.decode()
    page = client.get(admin_url(Study, "change", study.pk)).content.decode()
    assert "Suggested: Randomised controlled trial (the title says “Randomized”)" in page
    study.refresh_from_db()
    assert study.design == ""
