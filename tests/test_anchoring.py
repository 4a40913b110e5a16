"""Finding a claim's quote again after its article was revised (evidence.anchoring.reanchor), on the seed
article's real text: exact, by context, or lost with a suggestion an editor may accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidence.anchoring import SUGGESTION_MIN_SCORE, anchor_at, reanchor, suggest

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "ketamine-mdma"
TEXT = (SEED / "article.txt").read_text(encoding="utf-8")
CLAIMS = {entry["id"]: entry for entry in json.loads((SEED / "claims.json").read_text(encoding="utf-8"))}


def old_anchor(key: str):
    entry = CLAIMS[key]
    return anchor_at(TEXT, entry["char_offset"], entry["char_end"])


def test_a_quote_that_moved_is_found_exactly_where_it_went():
    quote, anchor = CLAIMS["K1"]["quote"], old_anchor("K1")
    revised = "An editor's note added at the top.\n\n" + TEXT
    found = reanchor(revised, quote, anchor.prefix, anchor.suffix, anchor.start)
    assert found.how == "exact" and found.suggestion is None
    assert revised[found.anchor.start : found.anchor.end] == quote
    assert found.anchor.start == anchor.start + len("An editor's note added at the top.\n\n")


def test_a_quote_that_now_occurs_twice_is_placed_by_its_old_context():
    quote, anchor = CLAIMS["K1"]["quote"], old_anchor("K1")
    # the same words again, far from the original, with other words around them
    revised = TEXT + "\n\nIn short: " + quote + " Or so the summary says.\n"
    found = reanchor(revised, quote, anchor.prefix, anchor.suffix, anchor.start)
    assert found.how == "context"
    assert (found.anchor.start, found.anchor.end) == (anchor.start, anchor.end)


def test_a_quote_reworded_slightly_is_lost_with_a_suggestion_never_an_anchor():
    quote, anchor = CLAIMS["K1"]["quote"], old_anchor("K1")
    reworded = quote.replace(" ", "  ", 1)[:-1] + ", the authors say."
    revised = TEXT.replace(quote, reworded)
    assert quote not in revised
    found = reanchor(revised, quote, anchor.prefix, anchor.suffix, anchor.start)
    assert found.anchor is None and found.how == "lost"
    suggestion = found.suggestion
    assert suggestion is not None and suggestion.score >= SUGGESTION_MIN_SCORE
    assert revised[suggestion.start : suggestion.end] == suggestion.quote
    # it lies where the reworded sentence is, and covers most of it
    where = revised.index(reworded)
    assert where <= suggestion.start < where + 10 and suggestion.end <= where + len(reworded)
    assert suggestion.as_json() == {
        "quote": suggestion.quote,
        "start": suggestion.start,
        "end": suggestion.end,
        "score": round(suggestion.score, 1),
    }


def test_a_quote_removed_from_the_text_is_lost_without_a_suggestion():
    quote, anchor = CLAIMS["M1"]["quote"], old_anchor("M1")
    revised = TEXT.replace(quote, "")
    found = reanchor(revised, quote, anchor.prefix, anchor.suffix, anchor.start)
    assert (found.anchor, found.how, found.suggestion) == (None, "lost", None)


@pytest.mark.parametrize("key", sorted(CLAIMS))
def test_every_seed_quote_is_suggested_back_onto_itself_once_a_word_changes(key):
    """On every claim of the seed: one word changed, the suggestion is that sentence, not another."""
    quote = CLAIMS[key]["quote"]
    words = quote.split(" ")
    if len(words) < 4:
        pytest.skip("too short to change a word and still be recognisable")
    middle = len(words) // 2
    changed = " ".join([*words[:middle], "notably", *words[middle + 1 :]])
    revised = TEXT.replace(quote, changed)
    suggestion = suggest(revised, quote)
    assert suggestion is not None
    where = revised.index(changed)
    overlap = min(suggestion.end, where + len(changed)) - max(suggestion.start, where)
    assert overlap >= 0.8 * len(changed), (key, suggestion)


def test_nothing_is_suggested_for_an_empty_quote_or_text():
    assert suggest("", "a quote") is None
    assert suggest(TEXT, "   ") is None


def test_a_reworded_sentence_is_suggested_whole_not_cut_before_its_new_last_word():
    text = "Ketamine lifts mood. Its effect fades within a fortnight. Nobody knows why."
    suggestion = suggest(text, "Its effect fades within a week.")
    assert suggestion is not None and suggestion.quote == "Its effect fades within a fortnight."
