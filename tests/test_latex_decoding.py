"""LaTeX in BibTeX values: decode_latex gives what pylatexenc's own default setup gives, although it hands
pylatexenc one merged parsing database and skips the values in which pylatexenc would read nothing but
plain characters (the import's time, docs/performance.md). No database."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pylatexenc import latexwalker

from evidence.importers import bibtex_entry
from evidence.importers.bibtex_entry import decode_latex
from evidence.importers.records import EntryError
from tests.conftest import SAMPLES, SEED_DIR


def reference(value: str, paragraphs: bool = False) -> str:
    """pylatexenc on every value, with its stock parsing database: what decode_latex must equal."""
    stock = {"latex_context": latexwalker.get_default_latex_context_db()}
    try:
        text = bibtex_entry._decoder().latex_to_text(value, **stock)
    except (AttributeError, TypeError, IndexError):
        raise EntryError(value) from None
    return bibtex_entry._tidy(text, paragraphs)


def same(value: str, paragraphs: bool = False) -> None:
    try:
        expected = reference(value, paragraphs)
    except EntryError:
        with pytest.raises(EntryError):
            decode_latex(value, paragraphs=paragraphs)
        return
    assert decode_latex(value, paragraphs=paragraphs) == expected


def _values(path) -> list[str]:
    return re.findall(r"^\s*\w+\s*=\s*\{(.*)\},?\s*$", path.read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize(
    "value",
    [
        "Plain title: nothing to decode, 50 percent - a hyphen, it's 'quoted' and \"quoted\"",
        "{Kept Capitals}",
        "48\\% fell",
        "caf{\\'e} and na\\\"ive",
        "1--2 and 1---2, a~b, ``q'' !` ?`",
        "a & b",
        "x $a_1 + b$ y",
        "a % a comment\nthe next line",
        "\\url{https://example.org/a_b}",
        "\\textit{Homo sapiens} \\emph{in vitro}",
        "first\n\n  second paragraph\n",
        "non\xa0breaking and \u00e9 accents",
        "\\title",
        "{unbalanced",
    ],
)
@pytest.mark.parametrize("paragraphs", [False, True])
def test_decoding_is_pylatexencs(value, paragraphs):
    same(value, paragraphs)


def test_decoding_of_every_value_of_the_sample_and_seed_files_is_pylatexencs():
    values = [
        value
        for path in [SAMPLES / "zotero-export.bib", SAMPLES / "fictitious-update.bib", *SEED_DIR.glob("*.bib")]
        for value in _values(path)
    ]
    assert len(values) > 50
    for value in values:
        same(value)


@settings(max_examples=400, deadline=None)
@given(
    value=st.text(
        alphabet=st.sampled_from(list("ab cé\n\t\\{}$%&~-`'!?^_#[]\xa0")) | st.characters(codec="utf-8"),
        max_size=60,
    ),
    paragraphs=st.booleans(),
)
def test_any_value_decodes_as_pylatexenc_decodes_it(value, paragraphs):
    same(value, paragraphs)
