"""Open data: the dataset export re-imports into an empty database with nothing lost; the per-article
ClaimReview feed and Web Annotations are what the pages say, as application/ld+json."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import Article, Citation, Claim, Study
from evidence.opendata import TABLES, DatasetError, dataset_export, dataset_import
from reviews.claims import for_readers
from reviews.models import Consensus, Flag, Review
from tests.builders import ArticleFactory, add_claim, publish, rate

ARTICLE_SLUG = "ketamine-vs-mdma-in-psychotherapy"


def claim(key: str) -> Claim:
    return Claim.objects.get(article__slug=ARTICLE_SLUG, key=key)


@pytest.fixture
def published(seed, make_user) -> Article:
    """The seed with two published verdicts, one of them adjudicated, and an article with a URL."""
    reviewer = make_user("Reviewers")
    rate(claim("K1"), reviewer, "high", "supported")
    publish(claim("K1"), verdict="supported", certainty="high", certainty_spread=1)
    publish(
        claim("M1"),
        verdict="contradicted",
        certainty="low",
        verdict_split=True,
        adjudicated_certainty="low",
        adjudicated_verdict="contradicted",
        adjudication_rationale="Reading both trials.",
        adjudicated_at=claim("M1").created_at,
        published_rationale="Contradicted by the larger trial — “quoted” ünïcode.",
    )
    Article.objects.filter(pk=seed.pk).update(url="https://publisher.example/ketamine-vs-mdma")
    seed.refresh_from_db()
    return seed


def read_tables(directory: Path) -> dict[str, list[dict]]:
    return {name: json.loads((directory / f"{name}.json").read_text(encoding="utf-8")) for name in TABLES}


def wipe() -> None:
    """An empty database, as a mirror starts with (flags and reviews first: they protect their rows)."""
    Flag.objects.all().delete()
    Review.objects.all().delete()
    Consensus.objects.all().delete()
    Citation.objects.all().delete()
    Claim.objects.all().delete()
    Study.objects.all().delete()
    Article.objects.all().delete()


# --- The dataset ------------------------------------------------------------------------------------------


def test_export_writes_every_public_record_as_json_and_csv(published, tmp_path):
    call_command("export_dataset", "--output", str(tmp_path / "data"), "--site-url", "https://evidence.example")
    folder = tmp_path / "data"
    names = {path.name for path in folder.iterdir()}
    assert names == {f"{t}.{ext}" for t in TABLES for ext in ("json", "csv")} | {
        "studies.csl.json",
        "manifest.json",
        "README.md",
        "LICENCE.md",
    }
    tables = read_tables(folder)
    assert [len(tables[t]) for t in ("articles", "claims", "studies", "citations", "verdicts")] == [1, 38, 46, 109, 2]
    # anchors: text[start:end] is the quote
    text = tables["articles"][0]["text"]
    for row in tables["claims"]:
        assert text[row["start"] : row["end"]] == row["quote"]
        assert text[: row["start"]].endswith(row["prefix"]) and text[row["end"] :].startswith(row["suffix"])
    verdicts = {row["claim"]: row for row in tables["verdicts"]}
    assert verdicts[claim("M1").pk]["adjudicated"] is True and verdicts[claim("K1").pk]["adjudicated"] is False
    # nothing unpublished: no review rationale, no unpublished consensus
    assert "Reading both trials." not in (folder / "verdicts.json").read_text(encoding="utf-8")
    # CSV: the same rows, lists and objects as JSON text
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            csv_rows = list(csv.DictReader(handle))
        assert len(csv_rows) == len(rows) and list(csv_rows[0] if csv_rows else TABLES[name]) == TABLES[name]
    with (folder / "studies.csv").open(encoding="utf-8", newline="") as handle:
        studies_csv = {row["id"]: row for row in csv.DictReader(handle)}
    first = tables["studies"][0]
    assert json.loads(studies_csv[str(first["id"])]["authors"]) == first["authors"]
    # the CSL-JSON for reference managers
    csl = json.loads((folder / "studies.csl.json").read_text(encoding="utf-8"))
    assert len(csl) == 46 and all(item["type"] for item in csl)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "evidence-review-dataset" and manifest["version"] == 3
    assert manifest["counts"]["claims"] == 38 and manifest["source"] == "https://evidence.example"


def test_export_publishes_data_not_the_databases_bookkeeping(published, tmp_path):
    # the search vector is the database's, kept by a trigger and deferred by the default manager:
    # exporting it would also have read it back with one query per study
    with CaptureQueriesContext(connection) as queries:
        call_command("export_dataset", "--output", str(tmp_path / "data"))
    assert len(queries) < Study.objects.count()
    columns = {name: set(rows[0]) for name, rows in read_tables(tmp_path / "data").items() if rows}
    assert all({"search_vector", "evidence_changed_at"}.isdisjoint(names) for names in columns.values()), columns


def test_export_dry_run_writes_nothing(published, tmp_path, capsys):
    call_command("export_dataset", "--output", str(tmp_path / "data"), "--dry-run")
    assert "would write 1 articles, 38 claims, 46 studies, 109 citations, 2 verdicts" in capsys.readouterr().out
    assert not (tmp_path / "data").exists()
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("export_dataset", "--output", str(tmp_path / "no" / "such" / "place"))


def test_the_datasets_csv_cells_cannot_run_as_formulas(published, tmp_path):
    """A title starting "=HYPERLINK(" opened from studies.csv in a spreadsheet would run (issue 17, item 25);
    the dataset's CSVs go through the shared writer, as the claim export does. The JSON keeps it as is."""
    study = Study.objects.order_by("pk").first()
    Study.objects.filter(pk=study.pk).update(title='=HYPERLINK("https://evil.example","Click")')
    dataset_export(directory=tmp_path)
    with (tmp_path / "studies.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows[str(study.pk)]["title"] == '\'=HYPERLINK("https://evil.example","Click")'
    stored = {row["id"]: row for row in json.loads((tmp_path / "studies.json").read_text(encoding="utf-8"))}
    assert stored[study.pk]["title"] == '=HYPERLINK("https://evil.example","Click")'


def test_export_refuses_an_empty_output_a_full_folder_and_an_unwritable_place(published, tmp_path, monkeypatch):
    """An empty --output meant the current directory, and an export there replaced the project's
    README.md; /proc/x printed a traceback (issue 17, item 26)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("the project's own", encoding="utf-8")
    with pytest.raises(CommandError, match="--output is empty"):
        call_command("export_dataset", "--output", "")
    with pytest.raises(CommandError, match="already holds files"):
        call_command("export_dataset", "--output", str(tmp_path))
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "the project's own"
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_dataset", "--output", "/proc/x")
    call_command("export_dataset", "--output", str(tmp_path), "--force", verbosity=0)
    assert (tmp_path / "manifest.json").exists()


def test_the_licence_note_says_what_is_whose(published, tmp_path):
    dataset_export(directory=tmp_path)
    licence = " ".join((tmp_path / "LICENCE.md").read_text(encoding="utf-8").split())
    assert "CC BY 4.0" in licence and "creativecommons.org/licenses/by/4.0" in licence
    assert "remain their publishers'" in licence and "factual" in licence
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "LICENCE.md" in readme and "import_dataset" in readme and "| 38 |" in readme


@pytest.mark.slow
def test_the_dataset_reimports_into_an_empty_database_with_nothing_lost(published, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    dataset_export(directory=first)
    before = read_tables(first)
    wipe()
    assert not Article.objects.exists()
    call_command("import_dataset", str(first), verbosity=0)
    # field for field, ids included: a second export is the first
    dataset_export(directory=second)
    after = read_tables(second)
    for name in TABLES:
        assert after[name] == before[name], name
    assert (second / "studies.csl.json").read_text() == (first / "studies.csl.json").read_text()
    # what readers see follows: the published verdicts are the pages' again
    k1 = for_readers().get(pk=claim("K1").pk)
    assert (k1.public_verdict, k1.public_certainty) == ("supported", "high")
    assert Consensus.objects.get(claim=claim("M1")).is_adjudicated
    # each imported record has a history entry saying where it came from
    assert claim("K2").history.first().history_change_reason == "imported from an open dataset"
    # new records get new ids, not the imported ones'
    article = ArticleFactory()
    added = add_claim(article)
    assert added.pk > max(row["id"] for row in before["claims"])


def test_import_refuses_a_database_that_is_not_empty(published, tmp_path):
    dataset_export(directory=tmp_path)
    with pytest.raises(CommandError, match="already holds"):
        call_command("import_dataset", str(tmp_path), verbosity=0)


def test_dry_run_writes_nothing(published, tmp_path, capsys):
    dataset_export(directory=tmp_path)
    wipe()
    call_command("import_dataset", str(tmp_path), "--dry-run")
    assert "would import 1 articles, 38 claims, 46 studies, 109 citations, 2 verdicts" in capsys.readouterr().out
    assert not Article.objects.exists() and not Claim.objects.exists()


def _broken(folder: Path, name: str, change) -> None:
    rows = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    change(rows)
    (folder / f"{name}.json").write_text(json.dumps(rows), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("claims", lambda rows: rows[0].update(quote="Not what the text says."), "is not its quote"),
        ("claims", lambda rows: rows[0].update(article="no-such-article"), "no article"),
        ("claims", lambda rows: rows[0].update(claim_type="gossip"), "claim_type"),
        ("claims", lambda rows: rows[0].pop("quote"), "missing ['quote']"),
        ("citations", lambda rows: rows[0].update(study=999999), "is not in the dataset"),
        ("studies", lambda rows: rows[1].update(doi=rows[0]["doi"]), "database refused"),
        ("verdicts", lambda rows: rows[0].update(verdict="probably"), "verdict"),
    ],
)
@pytest.mark.slow
def test_a_broken_dataset_is_refused_whole(published, tmp_path, name, change, message):
    dataset_export(directory=tmp_path)
    _broken(tmp_path, name, change)
    wipe()
    with pytest.raises(DatasetError) as refused:
        dataset_import(directory=tmp_path)
    assert message in str(refused.value)
    assert not Article.objects.exists() and not Study.objects.exists()  # all or nothing


def test_not_a_dataset_folder(tmp_path, db):
    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("import_dataset", str(tmp_path), verbosity=0)
    (tmp_path / "manifest.json").write_text('{"format": "evidence-review-dataset", "version": 99}')
    with pytest.raises(CommandError, match="version 99"):
        call_command("import_dataset", str(tmp_path), verbosity=0)
    with pytest.raises(CommandError, match="not a directory"):
        call_command("import_dataset", str(tmp_path / "nope"), verbosity=0)


# --- The ClaimReview feed --------------------------------------------------------------------------------


def embedded_claimreview(client, c: Claim) -> dict:
    html = client.get(c.get_absolute_url()).content.decode()
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_claimreview_feed_lists_the_published_claims_as_their_pages_do(client, published):
    response = client.get(reverse("evidence:article-claimreview", args=[ARTICLE_SLUG]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    feed = response.json()
    assert [item["claimReviewed"] for item in feed] == [claim("K1").quote, claim("M1").quote]
    assert feed[0] == embedded_claimreview(client, claim("K1"))
    assert feed[1]["reviewRating"]["ratingValue"] == 1  # contradicted
    assert feed[0]["itemReviewed"]["appearance"]["url"] == "https://publisher.example/ketamine-vs-mdma"


def test_claimreview_feed_of_an_article_without_verdicts_is_empty(client, seed):
    assert client.get(reverse("evidence:article-claimreview", args=[ARTICLE_SLUG])).json() == []
    assert client.get(reverse("evidence:article-claimreview", args=["no-such-article"])).status_code == 404


# --- The Web Annotations -----------------------------------------------------------------------------------


def test_annotations_anchor_every_claim_on_the_original_page(client, published):
    response = client.get(reverse("evidence:article-annotations", args=[ARTICLE_SLUG]))
    assert response.status_code == 200
    assert response["Content-Type"] == 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    data = response.json()
    assert data["@context"] == "http://www.w3.org/ns/anno.jsonld" and data["type"] == "AnnotationCollection"
    items = data["first"]["items"]
    assert data["total"] == len(items) == 38
    by_claim = {int(item["id"].rsplit("#claim-", 1)[1]): item for item in items}
    for c in published.claims.all():
        item = by_claim[c.pk]
        assert item["target"]["source"] == "https://publisher.example/ketamine-vs-mdma"
        quote, position = item["target"]["selector"]
        assert quote == {"type": "TextQuoteSelector", "exact": c.quote, "prefix": c.prefix, "suffix": c.suffix}
        assert position == {"type": "TextPositionSelector", "start": c.start, "end": c.end}
        assert published.text[position["start"] : position["end"]] == quote["exact"]
        assert item["body"][1]["id"].endswith(c.get_absolute_url())
    k1 = by_claim[claim("K1").pk]
    assert k1["motivation"] == "assessing" and k1["body"][0]["value"].startswith("Supported (high certainty")
    assert by_claim[claim("K2").pk]["motivation"] == "highlighting"


def test_annotations_target_our_page_when_the_original_is_unknown(client, seed):
    data = client.get(reverse("evidence:article-annotations", args=[ARTICLE_SLUG])).json()
    assert {item["target"]["source"] for item in data["first"]["items"]} == {
        "http://testserver" + seed.get_absolute_url()
    }


def test_feeds_answer_conditional_gets(client, published):
    url = reverse("evidence:article-annotations", args=[ARTICLE_SLUG])
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_article_page_links_its_machine_readable_versions(client, seed):
    html = client.get(seed.get_absolute_url()).content.decode()
    assert "Machine-readable" in html
    for name in ("evidence:article-claimreview", "evidence:article-annotations", "api:article-detail"):
        assert f'href="{reverse(name, args=[seed.slug])}"' in html
