"""A retraction shows where readers look (issue 19, §5): the claim's mark in the article itself, with its
legend entry, and the formatted references of the retracted study."""

from __future__ import annotations

import re
from datetime import date

import pytest

from evidence.citations import format_citation
from evidence.models import Study
from evidence.services import study_set_retraction
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_claim_relying_on_a_retracted_study_has_its_own_mark_and_legend_entry(client):
    article = builders.article()
    relying = builders.claim(article, "Ketamine lifts mood within hours.")
    other = builders.claim(article, "Both drugs raise blood pressure.")
    retracted = builders.study()
    builders.citation(relying, retracted)
    builders.citation(other, builders.study())
    study_set_retraction(study=retracted, status=Study.RetractionStatus.RETRACTED)

    html = client.get(article.get_absolute_url()).content.decode()
    classes = {int(pk): cls for cls, pk in re.findall(r'<a class="claim ([^"]*)" id="claim-(\d+)"', html)}
    assert "claim--retracted" in classes[relying.pk] and "claim--retracted" not in classes[other.pk]
    mark = html[html.index(f'id="claim-{relying.pk}"') :]
    mark = mark[: mark.index("</a>")]
    assert "relies on a retracted study" in mark  # said, not only coloured
    legend = html[html.index('class="legend legend--stacked"') :]
    assert "Relies on a retracted study" in legend[: legend.index("</ul>")]


JOLY = {
    "title": "Silence and table manners: when environments activate norms",
    "authors": [{"family": "Joly", "given": "Janneke F."}],
    "container_title": "Personality and Social Psychology Bulletin",
    "year": 2008,
    "volume": "34",
    "issue": "8",
    "pages": "1047-1056",
    "doi": "10.1177/0146167208318401",
}


def test_references_of_a_retracted_study_say_so_in_each_style():
    study = Study(
        **JOLY,
        retraction_status=Study.RetractionStatus.RETRACTED,
        retraction_doi="10.1177/0146167212460896",
        retraction_date=date(2012, 10, 2),
    )
    apa = format_citation(study, "apa")
    assert apa.endswith(
        "https://doi.org/10.1177/0146167208318401 (Retracted; Retraction published 2012, "
        "https://doi.org/10.1177/0146167212460896)"
    )
    assert format_citation(study, "vancouver").endswith(
        "doi:10.1177/0146167208318401 Retraction in: doi:10.1177/0146167212460896."
    )
    assert "(Retracted;" in format_citation(study, "apa", html=True)


def test_a_retraction_notice_without_a_doi_is_never_given_one():
    dated = Study(**JOLY, retraction_status=Study.RetractionStatus.RETRACTED, retraction_date=date(2012, 10, 2))
    assert format_citation(dated, "apa").endswith("(Retracted; Retraction published 2012)")
    assert format_citation(dated, "vancouver").endswith("Retraction in: 2012 Oct 2.")
    bare = Study(**JOLY, retraction_status=Study.RetractionStatus.RETRACTED)
    assert format_citation(bare, "apa").endswith("(Retracted)")
    assert format_citation(bare, "vancouver").endswith("Retracted.")
    for study in (dated, bare):
        for style in ("apa", "vancouver"):
            assert format_citation(study, style).count("10.") == 1  # the study's own DOI only


def test_other_notices_leave_the_reference_as_it_was():
    plain = format_citation(Study(**JOLY), "apa")
    concern = Study(**JOLY, retraction_status=Study.RetractionStatus.EXPRESSION_OF_CONCERN, retraction_doi="10.1/x")
    assert format_citation(concern, "apa") == plain
    assert "Retract" not in plain


def test_the_claim_page_shows_the_retracted_reference(client):
    claim = builders.claim(key="K1")
    study = builders.study(**JOLY)
    builders.citation(claim, study)
    html = client.get(claim.get_absolute_url()).content.decode()
    assert "(Retracted)" not in html and "Retracted." not in html
    study_set_retraction(study=study, status=Study.RetractionStatus.RETRACTED)
    html = client.get(claim.get_absolute_url()).content.decode()
    assert "(Retracted)" in html and "Retracted." in html  # APA, Vancouver
