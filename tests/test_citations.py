"""Formatted references (APA, Vancouver) from a study's CSL data, as text and as safe HTML."""

from __future__ import annotations

import pytest

from evidence.citations import citations_for, format_citation
from evidence.models import Article, Study
from tests import builders

pytestmark = pytest.mark.django_db

BERMAN_APA = (
    "Berman, R. M., Cappiello, A., Anand, A., Oren, D. A., Heninger, G. R., Charney, D. S., & Krystal, J. H. (2000). "
    "Antidepressant effects of ketamine in depressed patients. Biological Psychiatry, 47(4), 351–354. "
    "https://doi.org/10.1016/s0006-3223(99)00230-9"
)
BERMAN_VANCOUVER = (
    "Berman RM, Cappiello A, Anand A, Oren DA, Heninger GR, Charney DS, et al. Antidepressant effects of ketamine "
    "in depressed patients. Biological Psychiatry. 2000;47(4):351–4. doi:10.1016/s0006-3223(99)00230-9 "
    "PubMed PMID: 10686270."
)
ZARATE_APA = (
    "Zarate, C. A., Jr. (2006). A randomized trial of an N-methyl-D-aspartate antagonist in treatment-resistant "
    "major depression. Archives of General Psychiatry, 63(8), 856–864. https://doi.org/10.1001/archpsyc.63.8.856"
)
ZARATE_VANCOUVER = (
    "Zarate CA Jr. A randomized trial of an N-methyl-D-aspartate antagonist in treatment-resistant major "
    "depression. Archives of General Psychiatry. 2006;63(8):856–64. doi:10.1001/archpsyc.63.8.856"
)


def test_apa_and_vancouver_for_seed_studies(seed: Article):
    berman = Study.objects.get(citation_key="berman2000")
    zarate = Study.objects.get(citation_key="zarate2006")
    assert format_citation(berman, "apa") == BERMAN_APA
    assert format_citation(berman, "vancouver") == BERMAN_VANCOUVER
    assert format_citation(zarate, "apa") == ZARATE_APA
    assert format_citation(zarate, "vancouver") == ZARATE_VANCOUVER


def test_html_is_marked_up_and_safe(seed: Article):
    berman = Study.objects.get(citation_key="berman2000")
    html = format_citation(berman, "apa", html=True)
    assert "<i>Biological Psychiatry</i>, <i>47</i>(4)" in html
    assert "&amp; Krystal" in html
    assert hasattr(html, "__html__")  # a SafeString: templates print it as it is
    hostile = Study(title="<script>alert(1)</script> & co", authors=[{"family": "O<b>"}], year=2020)
    for style in ("apa", "vancouver"):
        markup = format_citation(hostile, style, html=True)
        assert "<script>" not in markup and "&lt;script&gt;" in markup and "O&lt;b&gt;" in markup


def test_missing_title_or_authors_are_handled(seed: Article):
    untitled = Study.objects.get(citation_key="nmda_meta_ajp2015")  # no title, no authors: nobody confirmed them
    assert (
        format_citation(untitled, "apa")
        == "(2015). American Journal of Psychiatry. https://doi.org/10.1176/appi.ajp.2015.15040465"
    )
    assert (
        format_citation(untitled, "vancouver")
        == "American Journal of Psychiatry. 2015. doi:10.1176/appi.ajp.2015.15040465"
    )
    no_authors = Study.objects.get(citation_key="mitchell2023")
    apa = format_citation(no_authors, "apa")
    assert apa.count(no_authors.title) == 1  # citeproc-py would print the title twice
    assert apa == f"{no_authors.title}. (n.d.). Nature Medicine. https://doi.org/10.1038/s41591-023-02565-4"
    assert format_citation(Study(), "apa") == "[reference not available: no confirmed bibliographic data]"


def test_citations_for_gives_every_style(seed: Article):
    citations = citations_for(Study.objects.get(citation_key="zarate2006"))
    assert [(c.style, c.text) for c in citations] == [("apa", ZARATE_APA), ("vancouver", ZARATE_VANCOUVER)]
    with pytest.raises(ValueError, match="unknown citation style"):
        format_citation(Study(title="x"), "chicago")


@pytest.mark.django_db
def test_a_citation_reads_as_a_sentence_with_the_study_first():
    """Admin messages say "Daly et al. (2018) … supports claim K1", not "K1 supports Daly et al." """
    study = builders.study(title="Esketamine nasal spray", authors=[{"family": "Daly"}, {"family": "Singh"}], year=2018)
    claim = builders.claim(key="K1")
    for relation, verb in [
        ("supports", "supports"),
        ("mixed", "gives mixed evidence on"),
        ("context", "gives context to"),
    ]:
        citation = builders.citation(claim, study, relation=relation)
        assert str(citation) == f"Daly et al. (2018) Esketamine nasal spray {verb} claim K1"
        citation.delete()


# --- Formatted once, kept with the study (Study.references) ------------------------------------------------


def _updates_of_studies(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "evidence_study"')]


def test_references_are_formatted_once_by_their_first_reader_and_kept(client, django_assert_max_num_queries):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    claim = builders.claim()
    study = builders.study(title="A trial of one thing", authors=[{"family": "Daly", "given": "E. J."}], year=2018)
    builders.citation(claim, study)
    assert study.references == {}  # written in bulk or by a factory: not formatted yet
    with CaptureQueriesContext(connection) as first:
        page = client.get(claim.get_absolute_url())
    assert len(_updates_of_studies(first)) == 1  # stored, in one UPDATE whatever the number of studies
    study.refresh_from_db()
    assert study.references["apa"]["text"] == format_citation(study, "apa")
    assert study.references["vancouver"]["html"] == format_citation(study, "vancouver", html=True)
    assert study.references["apa"]["html"] in page.content.decode()
    cache.clear()
    with CaptureQueriesContext(connection) as again:
        client.get(claim.get_absolute_url())
        client.get(study.get_absolute_url())
    assert _updates_of_studies(again) == []  # read with the study, formatted by nobody


def test_references_are_formatted_again_only_when_a_value_they_are_made_of_changes(db):
    from evidence.citations import references_store
    from evidence.services import study_update

    study = builders.study(title="A trial of one thing", year=2018, doi="10.5555/once")
    assert references_store(Study.objects.with_references().filter(pk=study.pk)) == 1
    stored = Study.objects.get(pk=study.pk).references

    def formatted_again() -> int:
        return references_store(Study.objects.with_references().filter(pk=study.pk))

    study = study_update(study=study, values={"internal_note": "Checked on PubMed.", "sample_size": 40})
    assert formatted_again() == 0 and Study.objects.get(pk=study.pk).references == stored
    study = study_update(study=study, values={"title": "A trial of one thing, corrected"})
    assert formatted_again() == 1
    assert "corrected" in Study.objects.get(pk=study.pk).references["apa"]["text"]
    study = study_update(study=study, values={"retraction_status": Study.RetractionStatus.RETRACTED})
    assert formatted_again() == 1
    assert "Retracted" in Study.objects.get(pk=study.pk).references["apa"]["text"]


def test_format_references_fills_the_stale_ones(db):
    from io import StringIO

    from django.core.management import call_command

    studies = [builders.study(title=f"Trial {i}") for i in range(3)]
    out = StringIO()
    call_command("format_references", "--dry-run", stdout=out, verbosity=0)
    assert "3 to format" in out.getvalue()
    call_command("format_references", stdout=out, verbosity=0)
    assert all(Study.objects.get(pk=s.pk).references["apa"]["text"] for s in studies)
    out = StringIO()
    call_command("format_references", stdout=out, verbosity=0)
    assert "0 formatted" in out.getvalue()
