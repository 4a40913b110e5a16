"""`manage.py import_article` on small article files written for each test, broken ones included.

A refused file must leave the database exactly as it was: every table the import writes to, and their
history, are compared before and after.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from reviews.models import Flag

pytestmark = pytest.mark.django_db

TEXT = (
    "Small article\n"
    "Background\n"
    "Ketamine lifts mood within hours. Its effect fades within a week.\n"
    "Risks\n"
    "Ketamine raises blood pressure. Ketamine raises blood pressure in the elderly too.\n"
)
HEADINGS = ["Background", "Risks"]
BIBLIOGRAPHY = [
    {
        "id": "berman2000",
        "type": "article-journal",
        "title": "Antidepressant effects of ketamine in depressed patients",
        "author": [{"family": "Berman", "given": "Robert M."}],
        "DOI": "10.1016/S0006-3223(99)00230-9",
        "PMID": "10686270",
        "issued": {"date-parts": [[2000, 2, 15]]},
        "study_design": "RCT",
        "sample_size": 7,
    },
    {
        "id": "bp2019",
        "type": "article-journal",
        "title": "Blood pressure after ketamine",
        "issued": {"date-parts": [[2019]]},
    },
]
K1 = {
    "key": "K1",
    "quote": "Ketamine lifts mood within hours.",
    "section": "Background",
    "substance": "ketamine",
    "claim_type": "onset",
    "citations": [{"study": "berman2000", "relation": "supports", "note": "Within 72 h (n=7)."}],
}
K2 = {
    "key": "K2",
    "quote": "Its effect fades within a week.",
    "claim_type": "durability",
    "citations": [{"study": "berman2000", "relation": "mixed"}],
}
K3 = {
    "key": "K3",
    "quote": "Ketamine raises blood pressure in the elderly",
    "claim_type": "safety",
    "citations": [{"study": "bp2019", "relation": "supports"}],
}


def write(
    folder: Path,
    claims: list[dict[str, Any]],
    *,
    text: str = TEXT,
    headings: list[str] | None = HEADINGS,
    bibliography: list[dict[str, Any]] | None = BIBLIOGRAPHY,
) -> Path:
    """An article file with its text and bibliography beside it, as docs/article-format.md describes."""
    (folder / "article.txt").write_text(text, encoding="utf-8")
    article: dict[str, Any] = {"slug": "small-article", "title": "Small article", "text_file": "article.txt"}
    if headings is not None:
        article["headings"] = headings
    data: dict[str, Any] = {"format": "evidence-article/1", "article": article, "claims": claims}
    if bibliography is not None:
        (folder / "studies.json").write_text(json.dumps(bibliography), encoding="utf-8")
        data["bibliography"] = "studies.json"
    path = folder / "article.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def snapshot() -> dict[str, list]:
    """Every row the import can write, and every history entry."""
    models = [Article, ArticleRevision, Claim, Study, Citation, Flag]
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    for model in (Article, Claim, Study, Citation, Flag):
        rows[f"{model.__name__} history"] = list(model.history.order_by("history_id").values_list("history_id"))
    return rows


def refused(path: Path, *args: str) -> str:
    before = snapshot()
    with pytest.raises(CommandError) as exc:
        call_command("import_article", str(path), *args)
    assert snapshot() == before, "a refused import wrote to the database"
    message = str(exc.value)
    assert "nothing was imported" in message
    return message


def run(path: Path, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_article", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """Another article already in the database, so "writes nothing" is tested against a non-empty one."""
    folder = tmp_path / "existing"
    folder.mkdir()
    path = write(folder, [K1], bibliography=BIBLIOGRAPHY[:1])
    data = json.loads(path.read_text())
    data["article"]["slug"] = "another-article"
    path.write_text(json.dumps(data))
    run(path)
    return path


# --- Refusals --------------------------------------------------------------------------------------------------


def test_a_missing_quote_is_refused_with_the_quote_and_the_reason(tmp_path: Path, existing: Path):
    missing = {**K2, "quote": "Its effect lasts for years."}
    message = refused(write(tmp_path, [K1, missing, K3]))
    assert "Its effect lasts for years." in message
    assert "does not occur in the article text" in message
    assert "claim small-article/K2" in message  # a new article: the quote is refused, not orphaned
    assert not Article.objects.filter(slug="small-article").exists()


def test_an_ambiguous_quote_is_refused_with_the_quote_and_the_reason(tmp_path: Path, existing: Path):
    ambiguous = {**K3, "quote": "Ketamine raises blood pressure"}
    message = refused(write(tmp_path, [K1, K2, ambiguous]))
    assert "Ketamine raises blood pressure" in message
    assert "occurs 2 times" in message
    assert "claim small-article/K3" in message


def test_every_problem_is_listed_at_once(tmp_path: Path):
    message = refused(
        write(tmp_path, [{**K1, "quote": "Not in the text."}, {**K2, "claim_type": "miracle"}, K3, {**K3}])
    )
    assert "Not in the text." in message and "miracle" in message and "the key is used twice" in message


def test_bad_json_is_refused(tmp_path: Path):
    path = tmp_path / "article.json"
    path.write_text('{"article": {"title": "Small article",}', encoding="utf-8")
    assert "is not valid JSON" in refused(path)


def test_a_missing_file_is_refused(tmp_path: Path):
    assert "does not exist" in refused(tmp_path / "nowhere.json")


def test_an_unknown_claim_type_is_refused(tmp_path: Path):
    message = refused(write(tmp_path, [K1, {**K2, "claim_type": "miracle"}]))
    assert "claim K2: claim_type 'miracle' is not one of" in message


def test_an_unknown_relation_is_refused(tmp_path: Path):
    message = refused(write(tmp_path, [{**K1, "citations": [{"study": "berman2000", "relation": "proves"}]}]))
    assert "claim K1: relation 'proves' is not one of" in message


def test_an_unknown_study_key_is_refused_and_the_bibliography_is_not_kept(tmp_path: Path, existing: Path):
    """The studies are written before the links are checked; the whole import must roll back."""
    unknown = {**K3, "citations": [{"study": "nobody2024", "relation": "supports"}]}
    message = refused(write(tmp_path, [K1, K2, unknown]))
    assert "nobody2024" in message and "no study with this key" in message
    assert not Study.objects.filter(citation_key="bp2019").exists()


def test_duplicate_claim_keys_are_refused(tmp_path: Path):
    message = refused(write(tmp_path, [K1, {**K2, "key": "K1"}]))
    assert "claim K1: the key is used twice" in message


def test_a_heading_that_is_not_a_line_of_the_text_is_refused(tmp_path: Path):
    message = refused(write(tmp_path, [K1], headings=["Background", "Conclusions"]))
    assert "heading 'Conclusions' is not a line of the text" in message


def test_a_section_that_is_not_the_heading_above_the_quote_is_refused(tmp_path: Path):
    message = refused(write(tmp_path, [{**K1, "section": "Risks"}]))
    assert "section 'Risks' does not match the heading above the quote ('Background')" in message


# --- Dry run ---------------------------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_reports_exactly_what_an_import_does(tmp_path: Path, existing: Path):
    path = write(tmp_path, [K1, K2, K3])
    before = snapshot()
    dry = run(path, "--dry-run", "--verbosity", "2")
    assert snapshot() == before
    assert dry.strip().endswith(
        "Dry run, nothing written. study: 1 created, 1 unchanged; article: 1 created; claim: 3 created; "
        "citation: 3 created"
    )
    real = run(path, "--verbosity", "2")
    assert real.replace("Dry run, nothing written. ", "") == dry.replace("Dry run, nothing written. ", "")
    assert Article.objects.get(slug="small-article").claims.count() == 3
    assert Citation.objects.filter(claim__article__slug="small-article").count() == 3
    assert Study.objects.count() == 2


# --- Importing a revised text -------------------------------------------------------------------------------


def test_a_changed_text_becomes_a_revision_and_the_claims_are_reanchored(tmp_path: Path):
    path = write(tmp_path, [K1, K2, K3])
    run(path)
    article = Article.objects.get(slug="small-article")
    old = {claim.key: (claim.start, claim.end) for claim in article.claims.all()}

    revised = (
        TEXT.replace("Background\n", "Background\nA new opening sentence.\n")
        .replace("Its effect fades within a week.", "How long it lasts is unknown.")
        .replace("Risks\n", "Safety\n")
    )
    out = run(write(tmp_path, [K1, {**K3, "section": "Safety"}], text=revised, headings=["Background", "Safety"]))
    assert "article: 1 updated" in out

    article.refresh_from_db()
    assert article.text == revised and article.headings == ["Background", "Safety"]
    revision = ArticleRevision.objects.get(article=article)
    assert (revision.number, revision.text, revision.headings) == (1, TEXT, HEADINGS)

    claims = {claim.key: claim for claim in article.claims.all()}
    shift = len("A new opening sentence.\n")
    for key in ("K1", "K3"):
        claim = claims[key]
        assert revised[claim.start : claim.end] == claim.quote
        assert (claim.prefix, claim.suffix) == (
            revised[max(0, claim.start - 32) : claim.start],
            revised[claim.end : claim.end + 32],
        )
    assert claims["K1"].start == old["K1"][0] + shift
    assert claims["K3"].section == "Safety"
    # K2's quote is gone: it keeps its old anchor and goes back for re-review
    assert claims["K2"].status == Claim.Status.NEEDS_REREVIEW
    assert (claims["K2"].start, claims["K2"].end) == old["K2"]
    assert claims["K1"].status == claims["K3"].status == Claim.Status.AWAITING_REVIEW

    # the same revised file again changes nothing
    before = snapshot()
    run(write(tmp_path, [K1, {**K3, "section": "Safety"}], text=revised, headings=["Background", "Safety"]))
    assert snapshot() == before
