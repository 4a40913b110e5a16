"""Importing bibliographies: real exports (Zotero BibTeX/RIS/CSL-JSON, PubMed RIS), broken files, identity and
de-duplication, the command, and a property test that no text makes an importer fail or write half a file."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.importers import bibtex, csljson
from evidence.importers.records import BibliographyError, StudyRecord
from evidence.models import Article, Study
from evidence.services import (
    BibliographyRejected,
    ImportReport,
    bibliography_import,
    study_match,
    study_title_key,
    title_keys,
)
from evidence.services.bibliography import IMPORT_BATCH_SIZE
from tests.conftest import SAMPLES, SEED_DIR
from tests.test_settings import PRODUCTION, refused, start

pytestmark = pytest.mark.django_db


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def run(name: str, **kwargs) -> ImportReport:
    return bibliography_import(data=sample(name), filename=name, **kwargs)


def counts(report: ImportReport) -> dict[str, int]:
    return dict(report.counts("study"))


# --- Real exports into an empty library ------------------------------------------------------------------


def test_zotero_bibtex_export_accents_braces_strings_and_a_missing_doi():
    report = run("zotero-export.bib")
    assert report.format == "bibtex"
    assert counts(report) == {"created": 5}
    hysek = Study.objects.get(doi="10.1093/scan/nst161")
    assert hysek.title == "MDMA enhances emotional empathy and prosocial behavior"  # {MDMA} braces dropped
    assert hysek.authors[0] == {"family": "Hysek", "given": "Cédric M."}  # C{\'e}dric decoded
    assert hysek.pmid == "24097374" and hysek.internal_note == ""  # Zotero's "PMID: …" note line is the PMID
    assert (hysek.year, hysek.month, hysek.day, hysek.pages) == (2014, 11, None, "1645-1652")
    kamilar = Study.objects.get(citation_key="kamilar-britt_prosocial_2015")
    assert kamilar.container_title == "Neuroscience & Biobehavioral Reviews"  # @string with # concatenation
    assert kamilar.title.startswith("The prosocial effects of 3,4-methylenedioxymethamphetamine (MDMA): Controlled")
    daly = Study.objects.get(citation_key="daly_efficacy_2019")
    assert {"family": "Cubała", "given": "Wiesław J."} in daly.authors
    assert {"family": "Bitter", "given": "István"} in daly.authors
    assert len(daly.authors) == 23
    mate = Study.objects.get(citation_key="mate_myth_2022")
    assert (mate.doi, mate.work_type, mate.publisher, mate.isbn) == ("", "book", "Avery", "9780593083888")
    assert mate.authors == [{"family": "Maté", "given": "Gabor"}, {"family": "Maté", "given": "Daniel"}]
    goncalves = Study.objects.get(doi="10.1007/s00406-024-01925-6")
    assert goncalves.authors[0] == {"family": "Gonçalves", "given": "Kaike Thiê da Costa"}
    assert goncalves.authors[8] == {"family": "dos Santos", "given": "Rafael Guimarães"}  # von part kept


def test_pubmed_ris_export():
    report = run("pubmed-export.ris")
    assert report.format == "ris"
    assert counts(report) == {"created": 4}
    berman = Study.objects.get(pmid="10686270")
    assert berman.title == "Antidepressant effects of ketamine in depressed patients"  # MEDLINE's full stop dropped
    assert berman.doi == "10.1016/s0006-3223(99)00230-9"
    assert berman.container_title == "Biological psychiatry"
    assert (berman.year, berman.month, berman.day) == (2000, 2, 15)
    assert berman.pages == "351-354"  # PubMed's abbreviated end page 4, expanded
    assert berman.authors[0] == {"family": "Berman", "given": "R M"}
    assert berman.url == "https://pubmed.ncbi.nlm.nih.gov/10686270"
    feder = Study.objects.get(pmid="24740528")
    assert feder.pages == "681-688" and feder.month is None
    assert {"family": "aan het Rot", "given": "M"} in feder.authors
    assert Study.objects.get(pmid="24097374").pages == "1645-1652"
    assert Study.objects.get(pmid="31166571").pages == "893-903"


def test_zotero_ris_export():
    report = run("zotero-export.ris")
    assert counts(report) == {"created": 3}
    goncalves = Study.objects.get(doi="10.1007/s00406-024-01925-6")
    assert (goncalves.year, goncalves.month, goncalves.day) == (2024, 10, None)  # DA 2024/10//
    assert goncalves.pmid == ""  # a Zotero AN is an archive location, not a PMID
    mate = Study.objects.get(isbn="9780593083888")
    assert (mate.work_type, mate.publisher, mate.container_title) == ("book", "Avery", "")
    fixture = Study.objects.get(doi="10.5555/fixture.ris.0001")
    assert fixture.pmid == "99999901"  # from Zotero's Extra field (M2  - PMID: …)
    assert (fixture.pages, fixture.day, fixture.internal_note) == (
        "101-109",
        17,
        "Fictitious record for tests; not a real paper.",
    )


def test_zotero_csljson_export_merges_duplicates_and_rejects_a_bad_doi():
    report = run("zotero-export.json")
    assert report.format == "csljson"
    assert counts(report) == {"created": 3, "merged": 1, "rejected": 1}
    merged = report.of("merged")[0]
    assert "same DOI 10.5555/fixture.0001" in merged.detail and "entry 3" in merged.detail
    fixture = Study.objects.get(doi="10.5555/fixture.0001")
    # the duplicate filled the URL the first entry lacked; the first entry's authors were kept
    assert fixture.url == "https://example.org/fixture-0001"
    assert fixture.authors == [{"family": "Exemplar", "given": "Ada"}, {"literal": "Fixture Study Group"}]
    assert fixture.abstract == "A fictitious record used by the tests."
    rejected = report.of("rejected")[0]
    assert rejected.label.startswith("entry 5") and "is not a DOI" in rejected.detail
    report_item = Study.objects.get(title="Another fictitious record, without identifiers")
    assert (report_item.work_type, report_item.year, report_item.doi, report_item.pmid) == ("report", 2022, "", "")
    daly = Study.objects.get(pmid="31166571")
    assert (daly.year, daly.month, daly.day) == (2019, 6, 5)  # Zotero writes years as strings


# --- Broken files: a clear error, nothing written ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("broken-empty.bib", "the file is empty"),
        ("broken-binary.pdf", "the file is binary"),
        ("broken-not-a-bibliography.txt", "this is not a bibliography"),
        ("broken-truncated.bib", "it looks truncated"),
        ("broken-truncated.ris", "it looks truncated"),
        ("broken-truncated.json", "it looks truncated"),
    ],
)
def test_broken_files_are_refused_whole(name, message):
    with pytest.raises(BibliographyError, match=message):
        run(name)
    assert Study.objects.count() == 0


def test_unbalanced_brace_rejects_that_entry_and_keeps_the_others():
    report = run("broken-unbalanced.bib")
    assert counts(report) == {"created": 2, "rejected": 1}
    rejected = report.of("rejected")[0]
    assert rejected.label == "line 9" and "unbalanced brace" in rejected.detail
    assert set(Study.objects.values_list("doi", flat=True)) == {"10.5555/fixture.before", "10.5555/fixture.after"}


def test_a_macro_without_its_arguments_rejects_that_entry_and_keeps_the_others():
    text = "@article{bad,\n  title = {\\title}\n}\n@article{good,\n  title = {Fine}\n}\n"
    report = bibliography_import(data=text, filename="macro.bib")
    assert counts(report) == {"created": 1, "rejected": 1}
    (rejected,) = report.of("rejected")
    assert rejected.label == "line 1 (key bad)" and "cannot be read as LaTeX" in rejected.detail


def test_rejections_come_in_the_order_of_their_lines():
    text = (
        "@article{a, title = {A}, year = {20x0}}\n"  # refused by our reading of its values
        "@article{b, title = {B\n\n"  # a syntax error, found by bibtexparser
        "@article{c, title = {C}}\n"
        "@article{d, title = {D}, title = {D again}}\n"  # a field given twice, found by bibtexparser
        "@article{e, title = {E}, author = {a, b, c, d}}\n"  # a name bibtexparser cannot split
        "@article{f, title = {F}, month = {thirteenth}}\n"
    )
    report = bibliography_import(data=text, filename="lines.bib")
    assert [line.label for line in report.of("rejected")] == [
        "line 1 (key a)",
        "line 2",
        "line 5 (key d)",
        "line 6 (key e)",
        "line 7 (key f)",
    ]
    assert counts(report) == {"created": 1, "rejected": 5}


def test_duplicate_keys_reject_the_second_entry():
    report = run("broken-duplicate-keys.bib")
    assert counts(report) == {"created": 1, "rejected": 1}
    assert report.of("rejected")[0].label == "line 8 (key fixture2020)"
    assert "duplicate key 'fixture2020'" in report.of("rejected")[0].detail
    assert Study.objects.get().doi == "10.5555/fixture.dupkey.1"


def test_size_limit():
    from evidence.importers.detect import parse_bibliography

    with pytest.raises(BibliographyError, match="larger than"):
        parse_bibliography(sample("zotero-export.bib"), max_bytes=1000)


def test_the_import_limit_is_a_setting(settings):
    settings.EVIDENCE_IMPORT_MAX_BYTES = 1000
    limit = r"larger than the import limit of 1,000 bytes \(EVIDENCE_IMPORT_MAX_BYTES\)"
    with pytest.raises(BibliographyError, match=limit):
        run("zotero-export.bib")
    with pytest.raises(BibliographyError, match=limit):
        bibliography_import(data=sample("zotero-export.bib").decode())
    assert Study.objects.count() == 0
    settings.EVIDENCE_IMPORT_MAX_BYTES = len(sample("zotero-export.bib"))
    assert counts(run("zotero-export.bib")) == {"created": 5}


@pytest.mark.parametrize(("value", "read"), [("1000", "1000"), ("", str(50 * 1024 * 1024))])
def test_the_import_limit_is_read_from_the_environment(value, read):
    probe = "import django; from django.conf import settings; django.setup(); print(settings.EVIDENCE_IMPORT_MAX_BYTES)"
    result = start("-c", probe, EVIDENCE_IMPORT_MAX_BYTES=value, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == read


@pytest.mark.parametrize("value", ["50MB", "0", "-1"])
def test_an_import_limit_that_is_not_a_positive_number_stops_start_up(value):
    assert "EVIDENCE_IMPORT_MAX_BYTES" in refused(EVIDENCE_IMPORT_MAX_BYTES=value, **PRODUCTION)


def test_a_format_that_does_not_fit_the_content_is_refused():
    with pytest.raises(BibliographyError, match="outside any TY"):
        run("zotero-export.bib", format="ris")
    assert Study.objects.count() == 0


# --- Identity: DOI, then PMID, then title with year; fill, never overwrite --------------------------------


def test_importing_over_the_seed_keeps_every_stored_value(seed: Article):
    before = {s.pk: s.updated_at for s in Study.objects.all()}
    history = Study.history.count()
    report = run("pubmed-export.ris")
    # matched by DOI; PubMed's initials, lower-case journal names and PubMed URLs are conflicts, kept out
    assert counts(report) == {"unchanged": 4, "conflict": 4}
    conflict = next(line for line in report.of("conflict") if "line 1 " in line.detail)
    assert "kept the stored authors, container_title, url" in conflict.detail
    assert Study.objects.get(citation_key="berman2000").container_title == "Biological Psychiatry"
    assert {s.pk: s.updated_at for s in Study.objects.all()} == before
    assert Study.history.count() == history

    report = run("zotero-export.bib")
    # hysek, kamilar-britt and daly by DOI, mate2022 (no DOI, no PMID) by title and year
    assert counts(report) == {"unchanged": 5}
    assert Study.objects.count() == 46


def test_update_replaces_stored_values_and_history_says_so(seed: Article, django_user_model):
    curator = django_user_model.objects.create(username="curator")
    before = {study.pk: study.updated_at for study in Study.objects.all()}
    report = run("pubmed-export.ris", update=True, user=curator)
    assert counts(report) == {"updated": 4}
    berman = Study.objects.get(citation_key="berman2000")
    assert berman.container_title == "Biological psychiatry" and berman.authors[0]["given"] == "R M"
    assert berman.updated_at > before[berman.pk]
    latest = berman.history.first()
    assert latest.history_change_reason.startswith("replaced with --update from line 1 (record 1)")
    assert "authors" in latest.history_change_reason
    assert (latest.history_type, latest.history_user) == ("~", curator)
    for field in Study.history.model.tracked_fields:  # the row as it was written
        assert getattr(latest, field.attname) == getattr(berman, field.attname), field.name
    assert berman.search_vector is not None and "biolog" in str(berman.search_vector)  # the trigger ran


def test_empty_fields_are_filled_and_a_retraction_flag_raised_through_the_service(seed: Article):
    fill = Study.objects.create(
        title="A fictitious study whose stored record lacks a volume", doi="10.5555/fixture.fill.2020", year=2020
    )
    conflict = Study.objects.create(title="A different stored title", doi="10.5555/fixture.conflict.2021", year=2021)
    report = run("fictitious-update.bib")
    assert counts(report) == {"updated": 2, "conflict": 1}
    fill.refresh_from_db()
    assert (fill.volume, fill.pages, fill.design, fill.sample_size) == ("12", "1-9", "cohort", 250)
    assert fill.citation_key == "fixture_fill_2020"  # an empty key is filled too
    assert fill.history.first().history_change_reason.startswith("completed from line 3 (key fixture_fill_2020)")
    conflict.refresh_from_db()
    assert conflict.title == "A different stored title"  # kept: reported as a conflict
    assert conflict.retraction_status == "retracted"  # "none" is a default, so the record's value fills it
    assert "kept the stored title" in report.of("conflict")[0].detail


def test_doi_and_pmid_of_two_different_studies_are_rejected(seed: Article):
    text = json.dumps(
        [{"id": "x", "type": "article-journal", "title": "Mixed up", "DOI": "10.1093/scan/nst161", "PMID": "10686270"}]
    )
    report = bibliography_import(data=text)
    assert counts(report) == {"rejected": 1}
    assert "belongs to study" in report.of("rejected")[0].detail


def test_dry_run_reports_exactly_and_writes_nothing():
    report = run("zotero-export.json", dry_run=True)
    assert counts(report) == {"created": 3, "merged": 1, "rejected": 1}
    assert report.dry_run and Study.objects.count() == 0


def test_strict_refuses_a_file_with_a_rejected_entry():
    with pytest.raises(BibliographyRejected):
        run("broken-unbalanced.bib", strict=True)
    assert Study.objects.count() == 0


def test_the_seed_bibtex_imports_to_the_same_records_as_the_seed_json():
    """studies.bib is studies.json written as BibTeX; it carries every field but two: the day of the
    month (BibTeX has year and month only) and the CSL type of its five @misc entries."""
    bib = bibtex.parse((SEED_DIR / "studies.bib").read_text(encoding="utf-8"))
    assert not bib.rejected
    bibliography_import(data=(SEED_DIR / "studies.bib").read_bytes())
    from_bib = {s.citation_key: s for s in Study.objects.all()}
    Study.objects.all().delete()
    bibliography_import(data=(SEED_DIR / "studies.json").read_bytes())
    from_json = {s.citation_key: s for s in Study.objects.all()}
    assert from_bib.keys() == from_json.keys() and len(from_json) == 46
    # the record's fields: not the keys and timestamps, nor what the database derives (editable=False)
    fields = [f.name for f in Study._meta.fields if f.editable and f.name not in {"id", "created_at", "updated_at"}]
    differences = {
        (key, name)
        for key, study in from_json.items()
        for name in fields
        if getattr(study, name) != getattr(from_bib[key], name)
    }
    days = {(s["id"], "day") for s in json.loads((SEED_DIR / "studies.json").read_text()) if _has_day(s)}
    misc = {
        (key, "work_type") for key in ("fda_spravato2019", "fda_pdac2024", "fda_crl2024", "tga2023", "qi2021_james")
    }
    assert differences == days | misc
    assert {from_bib[key].work_type for key, _ in misc} == {"article"}  # @misc is CSL's generic type


def _has_day(item: dict) -> bool:
    return len(item.get("issued", {}).get("date-parts", [[]])[0]) == 3


_PIECES_CASES = [
    # an entry that never ends, then the next one: bibtexparser stops it where the next block starts
    "@article{a, title = {A}, doi = {10.5555/a}}\n@article{b, title = {B\n@article{c, title = {C}}\n",
    # a key, and an @string name, used again further on
    "@string{j = {J}}\n@article{k, title = {One}, journal = j}\n@string{j = {Other}}\n@article{k, title = {Two}}\n",
    # an @string applies after its definition, as in BibTeX, and a name bibtexparser cannot split
    "@article{early, title = {E}, journal = later}\n@string{later = {L}}\n@article{late, title = {F}, journal = later}"
    "\n@article{names, title = {N}, author = {a, b, c, d}}\n@article{names, title = {N2}}\n",
]


@pytest.mark.parametrize("case", range(len(_PIECES_CASES) + 1))
def test_a_file_read_in_pieces_reads_as_in_one_piece(case):
    """bibtex.parse hands bibtexparser the file a piece at a time, cut before a line that starts a block;
    pieces of one block each must give what one piece for the whole file gives."""
    if case < len(_PIECES_CASES):
        texts = [_PIECES_CASES[case]]
    else:
        paths = [*SAMPLES.glob("*.bib"), *SEED_DIR.glob("*.bib")]
        texts = [path.read_text(encoding="utf-8") for path in paths]
    for text in texts:
        try:
            whole = bibtex.parse(text, piece_chars=len(text) + 1)
        except BibliographyError as exc:
            with pytest.raises(BibliographyError, match=re.escape(str(exc))):
                bibtex.parse(text, piece_chars=1)
            continue
        assert bibtex.parse(text, piece_chars=1) == whole
        assert bibtex.parse(text, piece_chars=100) == whole


def test_what_pieces_report():
    parsed = bibtex.parse("".join(_PIECES_CASES), piece_chars=1)
    assert [record.source for record in parsed.records] == [
        "line 1 (key a)",
        "line 3 (key c)",
        "line 5 (key k)",
        "line 10 (key late)",
    ]
    assert parsed.records[2].container_title == "J"  # the first definition of j stands
    assert parsed.records[3].container_title == "L"
    assert [(rejection.source, rejection.reason.split(":")[0]) for rejection in parsed.rejected] == [
        ("line 2", "cannot be parsed (an unbalanced brace or quote?)"),
        ("line 6 (key j)", "duplicate key 'j'"),
        ("line 7 (key k)", "duplicate key 'k'"),
        ("line 8 (key early)", "undefined @string (or unbalanced value) in journal"),
        ("line 11 (key names)", "cannot be read"),
        ("line 12 (key names)", "duplicate key 'names'"),
    ]


def test_csljson_parser_is_pure_and_reports_entries():
    result = csljson.parse((SAMPLES / "zotero-export.json").read_text(encoding="utf-8"))
    assert [r.source for r in result.rejected] == ["entry 5 (id http://zotero.org/users/local/Fx7Tq2Lm/items/Q5HK7MWE)"]


# --- The command --------------------------------------------------------------------------------------------


def test_command_imports_and_summarises(capsys):
    call_command("import_bibliography", str(SAMPLES / "zotero-export.json"), verbosity=1)
    out, err = capsys.readouterr()
    assert "csljson: 3 created, 1 merged, 1 rejected" in out
    assert "rejected" in err and "is not a DOI" in err
    assert Study.objects.count() == 3


def test_command_dry_run(capsys):
    call_command("import_bibliography", str(SAMPLES / "pubmed-export.ris"), "--dry-run")
    assert "Dry run, nothing written. ris: 4 created" in capsys.readouterr().out
    assert Study.objects.count() == 0


@pytest.mark.parametrize("name", ["broken-binary.pdf", "broken-truncated.bib", "broken-empty.bib", "missing.bib"])
def test_command_exits_non_zero_on_bad_input(name):
    with pytest.raises(CommandError, match="nothing was imported|no such file"):
        call_command("import_bibliography", str(SAMPLES / name))
    assert Study.objects.count() == 0


def test_command_imports_the_rest_and_counts_the_rejected_on_its_last_line(capsys):
    call_command("import_bibliography", str(SAMPLES / "broken-unbalanced.bib"))  # exit 0: no CommandError
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "bibtex: 2 created, 1 rejected"
    assert "line 9" in err and "unbalanced brace" in err
    assert Study.objects.count() == 2


def test_command_strict_imports_nothing_from_a_file_with_a_rejected_entry(capsys):
    with pytest.raises(CommandError, match="1 entries rejected; nothing was imported"):
        call_command("import_bibliography", str(SAMPLES / "broken-unbalanced.bib"), "--strict")
    assert "line 9" in capsys.readouterr().err
    assert Study.objects.count() == 0


def test_command_refuses_a_file_above_the_import_limit(settings):
    settings.EVIDENCE_IMPORT_MAX_BYTES = 1000
    with pytest.raises(CommandError, match=r"larger than the import limit of 1,000 bytes.*nothing was imported"):
        call_command("import_bibliography", str(SAMPLES / "zotero-export.bib"))
    assert Study.objects.count() == 0


def test_command_with_explicit_format(capsys):
    call_command("import_bibliography", str(SAMPLES / "zotero-export.bib"), "--format", "bibtex")
    assert "bibtex: 5 created" in capsys.readouterr().out


# --- Scale: 10,000 records, a fixed number of queries per batch --------------------------------------------


def _generated(n: int, start: int = 0) -> str:
    items = [
        {
            "id": f"bulk{i}",
            "type": "article-journal",
            "title": f"Fictitious bulk record number {i}",
            "author": [{"family": "Exemplar", "given": "Ada"}],
            "container-title": "Journal of Test Fixtures",
            "DOI": f"10.5555/bulk.{i}",
            "PMID": str(90_000_000 + i),
            "issued": {"date-parts": [[1990 + i % 30, 1 + i % 12]]},
        }
        for i in range(start, start + n)
    ]
    return json.dumps(items)


@pytest.mark.slow
def test_ten_thousand_records_import():
    report = bibliography_import(data=_generated(10_000))
    assert counts(report) == {"created": 10_000}
    assert Study.objects.count() == 10_000
    assert Study.history.count() == 10_000
    again = bibliography_import(data=_generated(10_000))
    assert counts(again) == {"unchanged": 10_000}


def test_command_shows_progress_on_long_imports(tmp_path, capsys):
    path = tmp_path / "generated.json"
    path.write_text(_generated(1200), encoding="utf-8")
    call_command("import_bibliography", str(path), verbosity=1)
    out, err = capsys.readouterr()
    assert "csljson: 1200 created" in out
    assert "1200/1200" in err  # tqdm's bar, on standard error
    call_command("import_bibliography", str(path), verbosity=0)
    out, err = capsys.readouterr()
    assert "1200 unchanged" in out and "1200/1200" not in err


def _queries(data: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        bibliography_import(data=data)
    return [query["sql"] for query in queries.captured_queries]


def _store(numbers: range) -> None:
    """Stored studies that _generated()'s records of these numbers find by DOI, and complete."""
    Study.objects.bulk_create(
        Study(title=f"Fictitious bulk record number {i}", doi=f"10.5555/bulk.{i}") for i in numbers
    )


def test_queries_grow_with_batches_not_records():
    _store(range(15))
    _store(range(5000, 5015))
    # each: 15 stored studies completed, the rest created
    few = _queries(_generated(30))
    full_batch = _queries(_generated(IMPORT_BATCH_SIZE, start=5000))
    assert len(few) == len(full_batch), full_batch
    one = _queries(_generated(10, start=20_000))
    two = _queries(_generated(IMPORT_BATCH_SIZE + 1, start=30_000))
    # one more batch of new studies: its two lookups (studies_match), then its INSERT and its history rows'
    # in a savepoint
    assert len(two) - len(one) == 6, two


# --- Property: any text is imported or rejected with a reason, never half-written --------------------------

_texts = st.one_of(
    st.text(max_size=300),
    st.text(max_size=300).map(lambda t: "@article{k,\n  title = {" + t),
    st.text(max_size=300).map(lambda t: "@article{k, title = {" + t + "}, doi = {" + t + "}}\n"),
    st.text(max_size=300).map(lambda t: "TY  - JOUR\nTI  - " + t + "\nER  - \n"),
    st.text(max_size=300).map(lambda t: '[{"id": "x", "title": ' + json.dumps(t) + "}]"),
    st.text(max_size=300).map(lambda t: "[" + t),
    st.binary(max_size=200),
)


@pytest.mark.parametrize("fmt", [None, "bibtex", "ris", "csljson"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_texts)
def test_any_input_is_imported_or_rejected_with_a_reason(fmt, data):
    before = Study.objects.count()
    try:
        report = bibliography_import(data=data, format=fmt)
    except BibliographyError as exc:
        assert str(exc)  # a reason
        assert Study.objects.count() == before  # nothing written
        return
    created = report.counts("study")["created"]
    assert Study.objects.count() == before + created
    for line in report.of("rejected"):
        assert line.detail


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the title key is computed by PostgreSQL")
def test_postgresqls_title_key_is_pythons_for_every_code_point():
    """study_title_key() (the indexed SQL) and title_keys() (Python) agree on what every character leaves
    in a key, so equal normalised titles have equal keys and the indexed lookup misses no match."""
    query = Study.objects.annotate(key=study_title_key()).values("key").query
    sql, params = query.sql_with_params()
    # the same expression, over one character per code point instead of a stored title
    sql = sql.replace('"evidence_study"."title"', "chr(i)").replace('"evidence_study"."year"', "NULL::smallint")
    sql = sql.replace(
        'FROM "evidence_study"', "FROM generate_series(1, 1114111) AS i WHERE i NOT BETWEEN 55296 AND 57343"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT i, key FROM ({sql.replace('SELECT ', 'SELECT i, ', 1)}) AS keys", params)
        in_sql = {i: key for i, key in cursor.fetchall() if key != "|0"}
    in_python = {
        i: key for i in range(1, 0x110000) if not 0xD800 <= i <= 0xDFFF and (key := title_keys(chr(i), None)[0]) != "|0"
    }
    assert len(in_sql) > 1000 and in_sql == in_python
    assert title_keys("Ça, c'est l'ﬁn — №1!", 2020)[0] == "cacestlfinno1|2020"


def test_title_match_ignores_accents_case_punctuation_and_the_retracted_prefix():
    first = Study.objects.create(title="Retracted article: Café-au-lait spots in MDMA users", year=2020)
    Study.objects.create(title="Cafe au lait spots in MDMA users!", year=2020)  # the same work, stored twice
    other_year = Study.objects.create(title="Cafe au lait spots in MDMA users", year=2021)
    text = (
        "@article{a, title = {CAF{\\'E} AU LAIT SPOTS IN {MDMA} USERS}, year = {2020}, volume = {7}}\n"
        "@article{b, title = {Caf\\'e-au-lait spots in MDMA users}, year = {2021}, doi = {10.5555/other}}\n"
    )
    report = bibliography_import(data=text)
    assert counts(report) == {"updated": 2, "conflict": 2}  # the stored titles are kept
    assert all("kept the stored title" in line.detail for line in report.of("conflict"))
    first.refresh_from_db()
    assert first.volume == "7"  # of the two stored matches, the first one stored
    other_year.refresh_from_db()
    assert other_year.doi == "10.5555/other"


def test_one_record_and_a_file_find_the_same_study():
    """study_match (the article import's) and the file import share one rule: of two stored studies with
    the same normalised title and year, the first stored, unless its DOI is another."""
    first = Study.objects.create(title="Retracted article: Psilocybin and mood", year=2019)
    Study.objects.create(title="Psilocybin and mood", year=2019)
    other_doi = Study.objects.create(title="PSILOCYBIN AND MOOD!", year=2020, doi="10.5555/mood.a")
    Study.objects.create(title="Psilocybin and mood", year=2020)
    record = StudyRecord(source="test", title="psilocybin and mood", year=2019)
    assert study_match(record) == first
    record = StudyRecord(source="test", title="Psilocybin and mood", year=2020, doi="10.5555/mood.b")
    found = study_match(record)
    assert found is not None and found != other_doi and found.year == 2020
    text = (
        "@article{a, title = {Psilocybin and mood}, year = {2019}, volume = {3}}\n"
        "@article{b, title = {Psilocybin and mood}, year = {2020}, doi = {10.5555/mood.b}}\n"
    )
    report = bibliography_import(data=text)
    assert counts(report) == {"updated": 2, "conflict": 1}
    assert Study.objects.get(volume="3") == first
    assert Study.objects.get(doi="10.5555/mood.b") == found


def test_history_rows_hold_the_created_studies(django_user_model):
    curator = django_user_model.objects.create(username="curator")
    bibliography_import(data=sample("zotero-export.bib"), user=curator)
    for study in Study.objects.all():
        row = study.history.get()
        assert (row.history_type, row.history_user, row.history_change_reason) == (
            "+",
            curator,
            f"imported from line {row.history_change_reason.split('line ')[1]}",
        )
        assert row.history_change_reason.endswith(f"(key {study.citation_key})")
        for field in Study.history.model.tracked_fields:
            assert getattr(row, field.attname) == getattr(study, field.attname), field.name


def test_an_import_bumps_the_data_version_after_commit_and_a_dry_run_does_not(transactional_db):
    from evidence import caching

    before, _ = caching.current()
    bibliography_import(data=sample("zotero-export.bib"), dry_run=True)
    assert caching.current()[0] == before
    bibliography_import(data=sample("zotero-export.bib"))
    assert caching.current()[0] == before + 1  # once for the file, not once per study


def test_a_value_its_field_refuses_rejects_the_entry_new_or_matched():
    """The import validates the fields it writes: a new study's given fields, a matched study's changed ones."""
    Study.objects.create(title="Stored study", doi="10.1000/stored", year=2020)
    long_volume = "9" * 65
    text = (
        f"@article{{new, title = {{A new study}}, year = {{2021}}, volume = {{{long_volume}}}}}\n"
        "@article{newurl, title = {Another new study}, year = {2021}, url = {not a url}}\n"
        f"@article{{stored, title = {{Stored study}}, doi = {{10.1000/stored}}, volume = {{{long_volume}}}}}\n"
        "@article{fine, title = {A fine study}, year = {2021}, volume = {12}}\n"
    )
    report = bibliography_import(data=text, filename="refused.bib")
    assert counts(report) == {"rejected": 3, "created": 1}
    details = " ".join(line.detail for line in report.of("rejected"))
    assert details.count("at most 64 characters") == 2 and "valid URL" in details
    assert Study.objects.get(doi="10.1000/stored").volume == ""
