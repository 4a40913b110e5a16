"""Retraction Watch data (the CSV Crossref distributes): matching seed studies are marked with the notice's date,
DOI and reasons; a newly retracted study flags the claims relying on it; everything else is left alone."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from evidence.importers.retractions import RetractionFileError, parse_date, read, reasons
from evidence.models import Article, Claim, Study
from evidence.services import retractions_import
from reviews.models import Flag
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db
CSV = SAMPLES / "retraction-watch.csv"


def notices():
    with CSV.open(encoding="utf-8", newline="") as handle:
        return list(read(handle))


def state():
    return (
        list(
            Study.objects.order_by("pk").values_list(
                "pk", "retraction_status", "retraction_date", "retraction_doi", "retraction_note"
            )
        ),
        list(Flag.objects.order_by("pk").values_list("pk", "claim_id", "study_id", "status")),
        list(Claim.objects.order_by("pk").values_list("pk", "status")),
    )


def test_the_csv_is_read_as_crossref_distributes_it():
    rows = notices()
    assert len(rows) == 6
    first = rows[0]
    assert (first.original_doi, first.original_pmid, first.status) == (
        "10.1016/s0006-3223(99)00230-9",
        "10686270",
        "retracted",
    )
    assert first.date == date(2026, 3, 14) and first.notice_doi == "10.5555/fixture.rw.notice.1"
    assert first.reason == "Fictitious reason for a test fixture; Not a real notice"
    assert (rows[1].original_doi, rows[1].original_pmid, rows[1].notice_doi) == ("", "24740528", "")
    assert rows[4].reason == "names no paper: no original DOI or PubMed ID"  # a Rejection
    assert rows[5].status is None  # a reinstatement is reported, not applied
    assert parse_date("8/10/2024 0:00") == date(2024, 8, 10) and parse_date("") is None
    assert reasons("+A;+B;") == "A; B"


def test_a_retraction_marks_the_study_and_flags_its_claims_and_nothing_else(seed: Article):
    berman = Study.objects.get(citation_key="berman2000")
    assert not berman.is_retracted
    reliant = set(
        Claim.objects.filter(citations__study=berman, citations__relation__in=["supports", "mixed"]).values_list(
            "key", flat=True
        )
    )
    assert reliant  # the seed article relies on it (K1, K7, …)
    other_studies = {
        s.pk: s.retraction_status
        for s in Study.objects.exclude(citation_key__in=["berman2000", "feder2014", "mithoefer2019"])
    }
    flags_before = set(Flag.objects.values_list("pk", flat=True))

    report = retractions_import(notices=notices())

    berman.refresh_from_db()
    assert berman.retraction_status == "retracted"
    assert berman.retraction_date == date(2026, 3, 14)
    assert berman.retraction_doi == "10.5555/fixture.rw.notice.1"
    assert (
        berman.retraction_note
        == "Retraction Watch (Retraction): Fictitious reason for a test fixture; Not a real notice"
    )
    new_flags = Flag.objects.exclude(pk__in=flags_before)
    retracted_flags = new_flags.filter(reason="retracted_source")
    assert set(retracted_flags.values_list("claim__key", flat=True)) == reliant
    assert set(retracted_flags.values_list("study__citation_key", flat=True)) == {"berman2000"}
    # feder2014 came under an expression of concern: its own flag on each claim relying on it (issue 19 §5)
    concerned = set(
        Claim.objects.filter(
            citations__study__citation_key="feder2014", citations__relation__in=["supports", "mixed"]
        ).values_list("key", flat=True)
    )
    concern_flags = new_flags.filter(reason="concern_source")
    assert set(concern_flags.values_list("claim__key", flat=True)) == concerned
    assert set(concern_flags.values_list("study__citation_key", flat=True)) <= {"feder2014"}
    assert new_flags.count() == retracted_flags.count() + concern_flags.count()

    feder = Study.objects.get(citation_key="feder2014")  # matched by PMID alone
    assert (feder.retraction_status, feder.retraction_date, feder.retraction_doi) == (
        "expression_of_concern",
        date(2026, 4, 1),
        "",
    )
    mithoefer = Study.objects.get(citation_key="mithoefer2019")
    assert mithoefer.retraction_status == "retracted" and mithoefer.retraction_date == date(2024, 8, 10)
    assert mithoefer.retraction_note.startswith("Retracted by Psychopharmacology")  # the curated note is kept

    assert {s.pk: s.retraction_status for s in Study.objects.filter(pk__in=other_studies)} == other_studies
    assert report.counts("study") == {"updated": 3}
    assert report.counts("notice") == {"rejected": 1}
    assert len(report.of("created", "flag")) == len(reliant) + len(concerned)


def test_importing_twice_changes_nothing(seed: Article):
    retractions_import(notices=notices())
    before = state()
    report = retractions_import(notices=notices())
    assert state() == before
    assert report.counts("study")["updated"] == 0 and report.counts("study")["unchanged"] == 3


def test_dry_run_writes_nothing(seed: Article):
    before = state()
    report = retractions_import(notices=notices(), dry_run=True)
    assert report.counts("study")["updated"] == 3
    assert state() == before


def test_a_lower_notice_never_lowers_a_status(seed: Article):
    Study.objects.filter(citation_key="feder2014").update(retraction_status="retracted")
    report = retractions_import(notices=notices())
    assert Study.objects.get(citation_key="feder2014").retraction_status == "retracted"
    assert any("already retracted" in line.detail for line in report.of("unchanged"))


def test_command(seed: Article, capsys):
    call_command("import_retractions", str(CSV))
    out = capsys.readouterr().out
    assert "studies: 3 updated" in out and "1 row(s) naming no paper skipped" in out
    assert Study.objects.get(citation_key="berman2000").is_retracted


def test_command_refuses_a_file_that_is_not_the_data_set(seed: Article, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,doi\n1,10.5555/x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not the Retraction Watch CSV"):
        call_command("import_retractions", str(wrong))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_retractions", str(tmp_path / "missing.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x00garbage")
    with pytest.raises(CommandError):
        call_command("import_retractions", str(binary))


def test_missing_columns_are_named():
    with pytest.raises(RetractionFileError, match="OriginalPaperDOI"):
        list(read(["Record ID,Title\n", "1,x\n"]))
