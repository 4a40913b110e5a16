"""A BibTeX import read a batch at a time, each batch written while the next is parsed
(evidence.services._import_records): whatever the batches, the outcome is the whole-file import's.

Each scenario imports the same file twice, in a transaction rolled back afterwards: with batches of one
record (so that every later duplicate finds its first entry already planned or written) and with one
batch for the whole file (merged whole before anything is written), and compares the reports, the
studies and their history rows."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.exporters import to_bibtex
from evidence.importers import bibtex
from evidence.importers.records import BibliographyError, StreamRestart
from evidence.models import Study
from evidence.services import bibliography as services
from evidence.services import bibliography_import
from tests.conftest import SAMPLES, SEED_DIR
from tests.factories import StudyFactory
from tests.test_bibliography_import import _BIBTEX_PIECES

pytestmark = pytest.mark.django_db

_COLUMNS = [
    f.attname for f in Study.history.model.tracked_fields if f.attname not in {"id", "created_at", "updated_at"}
]


def entry(key: str, **fields: str) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@article{{{key},\n{body}\n}}\n"


def fillers(n: int, start: int = 0) -> str:
    return "".join(
        entry(f"filler{i}", title=f"Filler study number {i}", year="2015", doi=f"10.5555/filler.{i}")
        for i in range(start, start + n)
    )


def imported(text: str, batch_size: int, monkeypatch: pytest.MonkeyPatch, **options) -> tuple[list, list, list]:
    """The report's lines, the studies and their history rows after importing ``text`` (then rolled back).

    The lines are sorted: a batch lists its new studies, then its updated ones, after its other lines, so
    their order depends on where the batches end (as it always has)."""
    monkeypatch.setattr(services, "IMPORT_BATCH_SIZE", batch_size)
    with transaction.atomic():
        report = bibliography_import(data=text, filename="file.bib", **options)
        lines = sorted((line.action, line.kind, line.label, line.detail) for line in report.lines)
        studies = sorted(tuple(map(str, row)) for row in Study.objects.values_list(*_COLUMNS))
        history = sorted(
            tuple(map(str, row))
            for row in Study.history.values_list(*_COLUMNS, "history_type", "history_change_reason")
        )
        transaction.set_rollback(True)
    return lines, studies, history


def streamed_as_whole(text: str, monkeypatch: pytest.MonkeyPatch, **options) -> tuple[list, list, list]:
    streamed = imported(text, 1, monkeypatch, **options)
    assert streamed == imported(text, 100_000, monkeypatch, **options)
    return streamed


def study_row(studies: list, **values: str) -> tuple:
    """The one row of ``studies`` with these values."""
    rows = [row for row in studies if all(row[_COLUMNS.index(name)] == value for name, value in values.items())]
    assert len(rows) == 1, rows
    return rows[0]


def value(row: tuple, name: str) -> str:
    return row[_COLUMNS.index(name)]


def test_a_later_duplicate_completes_a_study_already_written(monkeypatch):
    text = (
        entry("first", title="Alpha trial of something", year="2020", doi="10.5555/alpha")
        + fillers(4)
        + entry("again", title="Alpha trial of something", doi="10.5555/alpha", pages="1--9", pmid="4242")
    )
    lines, studies, history = streamed_as_whole(text, monkeypatch)
    alpha = study_row(studies, doi="10.5555/alpha")
    assert (value(alpha, "pages"), value(alpha, "pmid")) == ("1-9", "4242")
    assert (
        "merged",
        "study",
        "again",
        "line 26 (key again): merged into line 1 (key first) (same DOI 10.5555/alpha)",
    ) in lines
    # one history row, as written: its creation, with the values the duplicate filled
    (created,) = [row for row in history if row[_COLUMNS.index("doi")] == "10.5555/alpha"]
    assert (created[_COLUMNS.index("pages")], created[-2]) == ("1-9", "+")


def test_a_pmid_filled_later_that_a_stored_study_holds_reads_the_file_whole(monkeypatch):
    StudyFactory(title="Stored study", year=2010, doi="10.5555/stored", pmid="777")
    text = (
        entry("first", title="Beta trial", year="2021", doi="10.5555/beta")
        + fillers(3)
        + entry("again", doi="10.5555/beta", pmid="777")
    )
    lines, studies, _ = streamed_as_whole(text, monkeypatch)
    # the merged record is the stored study (same PMID): its citation key is added, its other values
    # kept, and no second study is created for the Beta trial
    assert [line for line in lines if not line[2].startswith("filler")] == [
        (
            "conflict",
            "study",
            "first",
            "line 1 (key first): kept the stored title, year, doi (use --update to replace)",
        ),
        ("merged", "study", "again", "line 21 (key again): merged into line 1 (key first) (same DOI 10.5555/beta)"),
        ("updated", "study", "first", "line 1 (key first): citation_key"),
    ]
    stored = study_row(studies, pmid="777")
    assert (value(stored, "doi"), value(stored, "citation_key")) == ("10.5555/stored", "first")
    assert not [row for row in studies if value(row, "doi") == "10.5555/beta"]


def test_a_later_doi_moves_a_title_match_to_the_next_stored_study_with_that_title(monkeypatch):
    first = StudyFactory(title="Same title twice", year=2021, doi="10.5555/stored.1")
    second = StudyFactory(title="Same title twice", year=2021, doi="")
    text = (
        entry("bytitle", title="Same title twice", year="2021")
        + fillers(3)
        + entry("withdoi", title="Same title twice", year="2021", doi="10.5555/new")
    )
    lines, studies, _ = streamed_as_whole(text, monkeypatch)
    assert first.pk < second.pk
    assert value(study_row(studies, title="Same title twice", doi="10.5555/new"), "year") == "2021"
    assert [line[0] for line in lines if line[2] == "bytitle"] == ["updated"]


def test_a_later_doi_that_rules_out_the_only_title_match_creates_the_study(monkeypatch):
    StudyFactory(title="Only one stored", year=2022, doi="10.5555/stored.2")
    text = (
        entry("bytitle", title="Only one stored", year="2022")
        + fillers(3)
        + entry("withdoi", title="Only one stored", year="2022", doi="10.5555/other")
    )
    lines, studies, history = streamed_as_whole(text, monkeypatch)
    study_row(studies, doi="10.5555/other")
    study_row(studies, doi="10.5555/stored.2")
    assert ("created", "study", "bytitle", "line 1 (key bytitle)") in lines


def test_a_duplicate_right_after_its_first_entry_fills_what_the_lookups_did_not_see(monkeypatch):
    """The first entry's batch is looked up before the next entries are read: a year or a DOI filled
    from the very next entry must still find the stored study a whole-file import finds."""
    stored = StudyFactory(title="Aspirin trial", year=2020, doi="10.5555/aspirin")
    text = entry("noyear", title="Aspirin trial", pmid="123") + entry("withyear", pmid="123", year="2020")
    lines, studies, _ = streamed_as_whole(text, monkeypatch)
    assert value(study_row(studies, title="Aspirin trial"), "pmid") == "123"  # the stored study, completed
    assert ("updated", "study", "noyear", "line 1 (key noyear): citation_key, pmid") in lines
    text = entry("nodoi", title="Aspirin trial", year="2020") + entry("withdoi", title="Aspirin trial", doi=stored.doi)
    lines, studies, _ = streamed_as_whole(text, monkeypatch)
    assert len([row for row in studies if value(row, "title") == "Aspirin trial"]) == 1


def test_a_year_filled_later_reads_the_file_whole(monkeypatch):
    text = (
        entry("noyear", title="Gamma trial", doi="10.5555/gamma")
        + fillers(3)
        + entry("year", doi="10.5555/gamma", year="2019")
    )
    _, studies, _ = streamed_as_whole(text, monkeypatch)
    assert value(study_row(studies, doi="10.5555/gamma"), "year") == "2019"


def test_a_later_duplicate_of_a_rejected_entry_reads_the_file_whole(monkeypatch):
    text = (
        entry("badurl", title="Delta trial", doi="10.5555/delta", url="not a web address")
        + fillers(3)
        + entry("again", doi="10.5555/delta", pages="5--6")
    )
    lines, studies, _ = streamed_as_whole(text, monkeypatch)
    assert [line[0] for line in lines if line[2] in {"badurl", "again"}] == ["merged", "rejected"]
    assert not [row for row in studies if value(row, "doi") == "10.5555/delta"]


def test_a_rename_with_update_leaves_the_title_match_as_the_library_was(monkeypatch):
    stored = StudyFactory(title="The old name", year=2019, doi="10.5555/renamed")
    text = (
        entry("rename", title="The new name", year="2019", doi="10.5555/renamed")
        + fillers(3)
        + entry("oldname", title="The old name", year="2019")
    )
    lines, studies, _ = streamed_as_whole(text, monkeypatch, update=True)
    assert value(study_row(studies, doi="10.5555/renamed"), "title") == "The new name"
    detail = f"line 21 (key oldname): describes the same stored study {stored.pk}"
    assert ("merged", "study", "oldname", detail) in lines


def test_a_file_that_needs_bibtexparsers_splitter_halfway_is_read_whole(monkeypatch):
    text = fillers(3) + '@article{quoted,\n  title = "A quoted title",\n  doi = {10.5555/quoted}\n}\n' + fillers(2, 3)
    with pytest.raises(StreamRestart):
        for _ in bibtex.parse_stream(text, 1).chunks:
            pass
    lines, studies, _ = streamed_as_whole(text, monkeypatch)
    assert [line[0] for line in lines] == ["created"] * 6
    assert value(study_row(studies, doi="10.5555/quoted"), "title") == "A quoted title"


# --- The parse itself: a chunk at a time, the same records and rejections ---------------------------------


def _streamed(text: str, chunk_size: int):
    stream = bibtex.parse_stream(text, chunk_size)
    records = [record for chunk in stream.chunks for record in chunk]
    return records, stream.rejected


@pytest.mark.parametrize("chunk_size", [1, 3, 500])
def test_streamed_parse_is_the_whole_parse_on_real_files(chunk_size):
    texts = [path.read_text(encoding="utf-8") for path in [*SAMPLES.glob("*.bib"), *SEED_DIR.glob("*.bib")]]
    texts.append(to_bibtex(StudyFactory.build_batch(40)))
    streamed = 0
    for text in texts:
        try:
            whole = bibtex.parse(text)
        except BibliographyError:
            continue
        try:
            records, rejected = _streamed(text, chunk_size)
        except StreamRestart:
            continue  # the import then reads the file whole
        assert (records, rejected) == (whole.records, whole.rejected)
        streamed += 1
    assert streamed >= 4  # the seed, the exports, and the file with a repeated key


@pytest.mark.parametrize(
    ("text", "found_while_splitting"),
    [
        (
            "@article{x, title={T}, author={a, b, c, d}} @article{y, title={T}, title={U}}\n",
            "the field(s) title are given twice",
        ),
        (
            "@article{k, title={T}}\n@article{x, title={T}, author={a, b, c, d}} @article{k, title={U}}\n",
            "duplicate key 'k'",
        ),
    ],
)
def test_rejections_on_one_line_come_in_the_whole_parses_order(text, found_while_splitting):
    """A name that cannot be split, then a repeated field or key on the same line: the whole parse finds
    the second while splitting the file, before it splits any name, and lists it first."""
    whole = bibtex.parse(text)
    reasons = [rejection.reason.split(":")[0] for rejection in whole.rejected]
    assert reasons == [found_while_splitting, "cannot be read"]
    assert _streamed(text, 1) == (whole.records, whole.rejected)


@settings(max_examples=500, deadline=None)
@given(pieces=st.lists(st.sampled_from(_BIBTEX_PIECES), max_size=40))
def test_streamed_parse_is_the_whole_parse(pieces):
    text = "".join(pieces)
    plain = text.replace("{", "").replace("}", "")
    entries = "@article{k,\n  title = {" + plain + "},\n  year = 2020\n}\n"
    # the forms _blocks() resolves itself: double braces (kept in a URL, which is not decoded), a bare month
    word = "".join(char for char in plain if char.isalnum()) or "jan"
    protected = "@article{k3,\n  title = {{" + plain + "}},\n  url = {{" + plain + "}},\n  month = " + word + "\n}\n"
    named = "@article{k4,\n  author = {" + plain + "},\n  title = {T}\n}\n"  # names split on the short road too
    for candidate in (text, entries + entries.replace("{k,", "{k2,") + entries + protected + named):
        try:
            whole = bibtex.parse(candidate)
        except BibliographyError:
            with pytest.raises((BibliographyError, StreamRestart)):
                _streamed(candidate, 1)
            continue
        try:
            assert _streamed(candidate, 1) == (whole.records, whole.rejected)
        except StreamRestart:
            pass


def test_new_studies_are_built_as_the_model_builds_them():
    records = bibtex.parse((SEED_DIR / "studies.bib").read_text(encoding="utf-8")).records
    assert records
    for record in records:
        values = record.given_fields()
        fast, slow = services._new_study(values), Study(**values)
        assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
            k: v for k, v in vars(slow).items() if k != "_state"
        }
        assert (fast._state.adding, fast._state.db) == (slow._state.adding, slow._state.db)
    # a default made anew for each study is not shared between two
    one, two = services._new_study({"title": "x"}), services._new_study({"title": "y"})
    assert one.verified_from == [] and one.verified_from is not two.verified_from
