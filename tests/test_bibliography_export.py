"""Exports: the seed bibliography round-trips through BibTeX, RIS and CSL-JSON field for field, the files parse
with independent parsers, and the download views and the command serve them. The CSL-JSON is checked against
the official CSL schema in tests/test_conformance.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import rispy
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pybtex.database import parse_string as pybtex_parse

from evidence.exporters import EXPORTERS, claims_csv, claims_for_csv, to_bibtex, to_csljson, to_ris
from evidence.importers import csljson
from evidence.models import Article, Claim, Study
from evidence.services import bibliography_import
from reviews.models import Consensus
from tests.builders import StudyFactory

pytestmark = pytest.mark.django_db

FIELDS = [f.name for f in Study._meta.fields if f.name not in {"id", "created_at", "updated_at"}]
SEED_STUDIES = Path(__file__).resolve().parent.parent / "fixtures" / "ketamine-mdma" / "studies.json"


def snapshot() -> dict[str, dict]:
    return {s.citation_key: {name: getattr(s, name) for name in FIELDS} for s in Study.objects.all()}


def empty_the_library() -> None:
    Claim.objects.all().delete()  # their citations and flags go with them
    Study.objects.all().delete()


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csljson"])
def test_seed_round_trips_field_for_field(seed: Article, fmt: str):
    # an expression of concern with its notice, so the round trip covers every retraction field
    Study.objects.filter(citation_key="dunlap2018").update(
        retraction_status="expression_of_concern",
        retraction_date=timezone.datetime(2025, 1, 2).date(),
        retraction_doi="10.5555/fixture.notice",
        population="Fictitious population note\n\nwith a paragraph break",
        note="A public note for readers\n\nin two paragraphs",
    )
    before = snapshot()
    text = EXPORTERS[fmt](Study.objects.order_by("pk"), internal_notes=True)  # a curator's export: both notes
    empty_the_library()
    report = bibliography_import(data=text, format=None)
    assert report.format == fmt
    assert report.counts("study") == {"created": 46}
    after = snapshot()
    assert after.keys() == before.keys()
    mismatches = [
        f"{key}.{name}: {after[key][name]!r} != {value!r}"
        for key, fields in before.items()
        for name, value in fields.items()
        if after[key][name] != value
    ]
    assert not mismatches, "\n".join(mismatches[:20])


def test_bibtex_export_parses_with_pybtex(seed: Article):
    data = pybtex_parse(to_bibtex(Study.objects.all()), "bibtex")
    assert len(data.entries) == 46
    berman = data.entries["berman2000"]
    assert berman.type == "article" and berman.fields["doi"] == "10.1016/s0006-3223(99)00230-9"
    assert [str(p) for p in berman.persons["author"]][:2] == ["Berman, Robert M.", "Cappiello, Angela"]
    assert str(data.entries["zarate2006"].persons["author"][0]) == "Zarate, Jr., Carlos A."
    assert data.entries["fda_spravato2019"].type == "techreport"
    assert data.entries["qi2021_james"].type == "misc" and data.entries["qi2021_james"].fields["csltype"] == "webpage"


def test_ris_export_parses_with_rispy(seed: Article):
    entries = rispy.loads(to_ris(Study.objects.order_by("citation_key")))
    assert len(entries) == 46
    berman = next(e for e in entries if e.get("id") == "berman2000")
    assert berman["type_of_reference"] == "JOUR"
    assert berman["doi"] == "10.1016/s0006-3223(99)00230-9"
    assert (berman["start_page"], berman["end_page"]) == ("351", "354")
    assert berman["authors"][0] == "Berman, Robert M."
    book = next(e for e in entries if e.get("id") == "mate2022")
    assert book["type_of_reference"] == "BOOK" and book["issn"] == "9780593083888"


def test_csljson_keeps_the_projects_fields_in_custom(seed: Article):
    Study.objects.filter(citation_key="berman2000").update(note="What readers see of it.")
    items = json.loads(to_csljson(Study.objects.order_by("citation_key")))
    assert len(items) == 46
    berman = next(item for item in items if item["id"] == "berman2000")
    ours = set(csljson.EXTENSIONS) - {"population", "retraction_status", "retraction_date", "retraction_doi"}
    assert ours <= set(berman["custom"]) <= set(csljson.EXTENSIONS)
    assert not ours & set(berman)  # nothing of ours beside the CSL variables
    assert berman["custom"]["study_design"] == "RCT"
    assert berman["custom"]["public_note"] == "What readers see of it."
    assert "note" not in berman  # CSL's own note is the curators' internal one: only when asked
    internal = Study.objects.get(citation_key="berman2000").internal_note
    asked = json.loads(to_csljson(Study.objects.filter(citation_key="berman2000"), internal_notes=True))
    assert internal and asked[0]["note"] == internal


def test_csljson_round_trips_what_csl_has_no_place_for(seed: Article):
    """A type CSL does not have and a name part it does not define are written as valid CSL, and the
    study's own values come back from custom."""
    StudyFactory(
        citation_key="odd2024",
        work_type="misc",
        authors=[{"family": "Odd", "given": "Ann", "ORCID": "0000-0002-1825-0097"}, {"literal": "A Consortium"}],
    )
    before = snapshot()
    text = to_csljson(Study.objects.order_by("pk"), internal_notes=True)
    empty_the_library()
    report = bibliography_import(data=text, format="csljson")
    assert report.counts("study") == {"created": 47}
    assert snapshot() == before


def test_csljson_written_before_custom_still_imports(seed: Article):
    """The seed's studies.json has the project's fields beside the CSL variables, as our exports had them
    before they moved into custom: both read to the same studies."""
    old_style = csljson.parse(SEED_STUDIES.read_text(encoding="utf-8"))
    new_style = csljson.parse(to_csljson(Study.objects.order_by("pk")))
    assert not old_style.rejected and not new_style.rejected
    by_key = {record.citation_key: record for record in new_style.records}
    for old in old_style.records:
        new = by_key[old.citation_key]
        for name in ("design", "sample_size", "retraction_status", "verified", "verified_from", "unconfirmed_leads"):
            assert getattr(old, name) == getattr(new, name), (old.citation_key, name)


def test_csljson_extensions_in_both_places_must_agree():
    item = {"id": "a", "type": "article-journal", "title": "T", "study_design": "RCT"}
    assert csljson.parse_item({**item, "custom": {"study_design": "RCT"}}, "entry 1").design == "rct"
    rejected = csljson.parse(json.dumps([{**item, "custom": {"study_design": "cohort"}}, {**item, "custom": []}]))
    assert [r.reason for r in rejected.rejected] == [
        "'study_design' is given twice, beside the CSL variables and in 'custom', with different values",
        "'custom' must be an object",
    ]


def test_claims_csv_has_verdicts_and_cited_dois(claim, make_user):
    editor = make_user("Editors")
    k1 = claim("K1")
    Consensus.objects.create(
        claim=k1,
        published_verdict="supported",
        published_certainty="moderate",
        published_by=editor,
        published_at=timezone.now(),
    )
    rows = list(csv.DictReader(io.StringIO(claims_csv(claims_for_csv(Claim.objects.all())))))
    assert len(rows) == 38
    row = next(r for r in rows if r["claim_key"] == "K1")
    assert (row["published_verdict"], row["published_certainty"]) == ("supported", "moderate")
    assert row["article"] == k1.article.slug and row["quote"] == k1.quote
    dois = {c.study.doi for c in k1.citations.all() if c.study.doi}
    assert set(row["cited_dois"].split("; ")) == dois
    unreviewed = next(r for r in rows if r["claim_key"] == "K2")
    assert unreviewed["published_verdict"] == "" and unreviewed["published_certainty"] == ""


def test_claims_csv_queries_do_not_grow(seed: Article, django_assert_num_queries):
    with django_assert_num_queries(2):  # the claims with article and consensus, their citations with studies
        claims_csv(claims_for_csv(Claim.objects.all()))


# --- Download views -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "content_type"), [("bib", "x-bibtex"), ("ris", "research-info"), ("json", "csl+json")])
def test_study_export_view(seed: Article, client, ext: str, content_type: str):
    response = client.get(reverse("evidence:study-export", args=[ext]))
    assert response.status_code == 200
    assert content_type in response["Content-Type"]
    assert response["Content-Disposition"] == f'attachment; filename="studies.{ext}"'
    assert b"berman2000" in response.content


def test_study_export_view_applies_the_list_filters(seed: Article, client):
    response = client.get(reverse("evidence:study-export", args=["json"]), {"design": "rct"})
    items = json.loads(response.content)
    assert len(items) == Study.objects.filter(design="rct").count() == 15
    assert {item["custom"]["study_design"] for item in items} == {"RCT"}


def test_article_studies_export_view(seed: Article, client):
    response = client.get(reverse("evidence:article-studies-export", args=[seed.slug, "ris"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{seed.slug}-studies.ris"'
    cited = Study.objects.filter(citations__claim__article=seed).distinct().count()
    assert len(rispy.loads(response.content.decode())) == cited


def test_export_views_404(seed: Article, client):
    assert client.get(reverse("evidence:study-export", args=["docx"])).status_code == 404
    assert client.get(reverse("evidence:article-studies-export", args=["no-such-article", "bib"])).status_code == 404


def test_claim_export_view(seed: Article, client):
    response = client.get(reverse("evidence:claim-export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="claims.csv"'
    assert len(list(csv.DictReader(io.StringIO(response.content.decode())))) == 38


# --- The command ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_export_command_writes_a_file(seed: Article, tmp_path: Path, capsys):
    target = tmp_path / "library.bib"
    call_command("export_bibliography", "--format", "bibtex", "--output", str(target))
    assert "46 studies written" in capsys.readouterr().out
    assert len(pybtex_parse(target.read_text(encoding="utf-8"), "bibtex").entries) == 46
    assert [p.name for p in tmp_path.iterdir()] == ["library.bib"]  # no temporary file left behind


def test_export_command_for_one_article_to_stdout(seed: Article, capsys):
    call_command("export_bibliography", "--format", "csljson", "--article", seed.slug)
    items = json.loads(capsys.readouterr().out)
    assert len(items) == Study.objects.filter(citations__claim__article=seed).distinct().count()


def test_export_command_unknown_article(seed: Article):
    with pytest.raises(CommandError, match="no article"):
        call_command("export_bibliography", "--format", "ris", "--article", "nope")
