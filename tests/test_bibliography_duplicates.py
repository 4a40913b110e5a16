"""Entries of one file that describe the same work, and the library as it was before the import.

A later entry that describes the same work as an earlier one (same DOI, PMID, or title and year) fills
the earlier one's gaps and is reported as merged, whatever lies between them; the merged record is then
matched against the library as it was before the file was imported."""

from __future__ import annotations

import pytest

from evidence.models import Study
from evidence.services import bibliography_import
from tests.builders import StudyFactory

pytestmark = pytest.mark.django_db


def entry(key: str, **fields: str) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@article{{{key},\n{body}\n}}\n"


def fillers(n: int) -> str:
    return "".join(
        entry(f"filler{i}", title=f"Filler study number {i}", year="2015", doi=f"10.5555/filler.{i}") for i in range(n)
    )


def imported(text: str, **options) -> list[tuple[str, str, str]]:
    """The report's lines, but the fillers', as (action, label, detail)."""
    report = bibliography_import(data=text, filename="file.bib", **options)
    return [(line.action, line.label, line.detail) for line in report.lines if not line.label.startswith("filler")]


def test_a_later_duplicate_completes_the_new_study_and_its_history_row():
    text = (
        entry("first", title="Alpha trial of something", year="2020", doi="10.5555/alpha")
        + fillers(4)
        + entry("again", title="Alpha trial of something", doi="10.5555/alpha", pages="1--9", pmid="4242")
    )
    assert imported(text) == [
        ("created", "first", "line 1 (key first): design not yet classified"),
        ("merged", "again", "line 26 (key again): merged into line 1 (key first) (same DOI 10.5555/alpha)"),
    ]
    alpha = Study.objects.get(doi="10.5555/alpha")
    assert (alpha.pages, alpha.pmid, alpha.year) == ("1-9", "4242", 2020)
    # one history row, as written: its creation, with the values the duplicate filled
    (created,) = alpha.history.all()
    assert (created.history_type, created.pages, created.pmid) == ("+", "1-9", "4242")


def test_a_pmid_filled_later_that_a_stored_study_holds_finds_that_study():
    StudyFactory(title="Stored study", year=2010, doi="10.5555/stored", pmid="777", citation_key="")
    text = (
        entry("first", title="Beta trial", year="2021", doi="10.5555/beta")
        + fillers(3)
        + entry("again", doi="10.5555/beta", pmid="777")
    )
    # the merged record is the stored study (same PMID): its citation key is added, its other values kept,
    # and no second study is created for the Beta trial
    assert imported(text) == [
        ("conflict", "first", "line 1 (key first): kept the stored title, year, doi"),
        ("updated", "first", "line 1 (key first): citation_key"),
        ("merged", "again", "line 21 (key again): merged into line 1 (key first) (same DOI 10.5555/beta)"),
    ]
    stored = Study.objects.get(pmid="777")
    assert (stored.doi, stored.citation_key) == ("10.5555/stored", "first")
    assert not Study.objects.filter(doi="10.5555/beta").exists()


def test_a_doi_filled_later_passes_over_a_stored_title_match_with_another_doi():
    first = StudyFactory(title="Same title twice", year=2021, doi="10.5555/stored.1")
    second = StudyFactory(title="Same title twice", year=2021, doi="")
    text = (
        entry("bytitle", title="Same title twice", year="2021")
        + fillers(3)
        + entry("withdoi", title="Same title twice", year="2021", doi="10.5555/new")
    )
    assert [line[:2] for line in imported(text)] == [("updated", "bytitle"), ("merged", "withdoi")]
    assert first.pk < second.pk
    second.refresh_from_db()
    assert second.doi == "10.5555/new"


def test_a_doi_filled_later_that_rules_out_the_only_title_match_creates_the_study():
    StudyFactory(title="Only one stored", year=2022, doi="10.5555/stored.2")
    text = (
        entry("bytitle", title="Only one stored", year="2022")
        + fillers(3)
        + entry("withdoi", title="Only one stored", year="2022", doi="10.5555/other")
    )
    assert imported(text)[0] == ("created", "bytitle", "line 1 (key bytitle): design not yet classified")
    assert Study.objects.filter(title="Only one stored").count() == 2


def test_values_filled_by_the_next_entry_find_the_stored_study():
    stored = StudyFactory(title="Aspirin trial", year=2020, doi="10.5555/aspirin", pmid="", citation_key="")
    text = entry("noyear", title="Aspirin trial", pmid="123") + entry("withyear", pmid="123", year="2020")
    assert imported(text)[0] == ("updated", "noyear", "line 1 (key noyear): citation_key, pmid")
    stored.refresh_from_db()
    assert stored.pmid == "123"
    text = entry("nodoi", title="Aspirin trial", year="2020") + entry("withdoi", title="Aspirin trial", doi=stored.doi)
    bibliography_import(data=text)
    assert Study.objects.filter(title="Aspirin trial").count() == 1


def test_a_year_filled_later_is_stored():
    text = (
        entry("noyear", title="Gamma trial", doi="10.5555/gamma")
        + fillers(3)
        + entry("y", doi="10.5555/gamma", year="2019")
    )
    bibliography_import(data=text)
    assert Study.objects.get(doi="10.5555/gamma").year == 2019


def test_a_later_duplicate_of_a_rejected_entry_is_merged_and_nothing_stored():
    text = (
        entry("badurl", title="Delta trial", doi="10.5555/delta", url="not a web address")
        + fillers(3)
        + entry("again", doi="10.5555/delta", pages="5--6")
    )
    assert [line[:2] for line in imported(text)] == [("rejected", "badurl"), ("merged", "again")]
    assert not Study.objects.filter(doi="10.5555/delta").exists()


def test_a_rename_with_update_leaves_the_title_match_as_the_library_was():
    stored = StudyFactory(title="The old name", year=2019, doi="10.5555/renamed")
    text = (
        entry("rename", title="The new name", year="2019", doi="10.5555/renamed")
        + fillers(3)
        + entry("oldname", title="The old name", year="2019")
    )
    lines = imported(text, update=True)
    stored.refresh_from_db()
    assert stored.title == "The new name"
    detail = f"line 21 (key oldname): describes the same stored study {stored.pk}"
    assert lines[-1] == ("merged", "oldname", detail)
