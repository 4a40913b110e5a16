"""The open dataset: everything readers can see, as JSON and CSV files in one folder, and back.

``dataset_export`` writes the articles (with their texts), the claims (with their anchors), the studies,
the citations, the published verdicts (each claim's current one, and every numbered version) and the
re-review rounds opened since a publication; ``dataset_import`` loads such a folder into an empty database,
keeping every id, so the records' URLs stay what they were. A dataset exported, imported elsewhere and
exported again gives the same files (tests/test_opendata.py). The format is described in docs/api.md
and in the README the export writes beside the data.

Not in the dataset: reviewers' individual reviews and editors' flags (they name people, and the API
serves them), article revisions, anything unpublished, and the studies' internal notes (the curators'
research log) unless the export is asked for them (``internal_notes=True``, export_dataset
--internal-notes: a copy for another instance of the site, not for publication). The import reads a
studies table with or without that column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from evidence.exporters import csv_writer, to_csljson
from evidence.models import Article, Citation, Claim, Study
from evidence.services.restore import articles_restore, citations_restore, claims_restore, studies_restore
from reviews.consensus import DISPUTED_SPREAD
from reviews.models import Consensus, ReviewRound, VerdictVersion
from reviews.services import verdicts_restore

FORMAT = "evidence-review-dataset"
# Version 2 added the claims' anchor state (anchor_state, anchor_revision); version 1 folders still load,
# their claims all anchored, as they were then. Version 3 added the numbered verdict versions
# (verdict_versions), the re-review rounds opened since a publication (review_rounds) and each verdict's
# version number; a version 1 or 2 folder's verdicts load as verdict 1 of round 1 of their claims.
VERSION = 3
READS = {1, 2, 3}
# Columns a version-1 folder's claims lack, with the value they stand for.
V1_CLAIM_DEFAULTS = {"anchor_state": "anchored", "anchor_revision": None}
# Likewise for a version-1 or -2 folder's verdicts, and the tables it lacks.
V2_VERDICT_DEFAULTS = {"version": 1}
NEW_IN_V3 = ("verdict_versions", "review_rounds")
CHANGE_REASON = "imported from an open dataset"

ARTICLE_FIELDS = ["id", "slug", "title", "author", "publisher", "url", "published_on", "headings", "text"]
ARTICLE_FIELDS += ["created_at", "updated_at"]
CLAIM_FIELDS = [
    "id",
    "article",
    "key",
    "quote",
    "start",
    "end",
    "prefix",
    "suffix",
    "section",
    "kind",
    "substance",
    "claim_type",
    "secondary_types",
    "evidence_note",
    "attributed_to",
    "attribution_status",
    "attribution_note",
    "status",
    "anchor_state",
    "anchor_revision",
    "created_at",
    "updated_at",
]
# Kept for the application's own use (the search index, the formatted references), not facts about a
# study: not published.
NOT_DATA = ("search_vector", "references")
# The curators' own notes: only in an export asked for them (see the module's docstring).
INTERNAL = ("internal_note",)
STUDY_FIELDS = [
    "id",
    *(
        f.name
        for f in Study._meta.concrete_fields
        if f.name not in ("id", "created_at", "updated_at", *NOT_DATA, *INTERNAL)
    ),
]
STUDY_FIELDS += ["created_at", "updated_at"]
STUDY_FIELDS_WITH_INTERNAL = [*STUDY_FIELDS, *INTERNAL]
CITATION_FIELDS = [
    "id",
    "claim",
    "study",
    "relation",
    "note",
    "directness",
    "directness_note",
    "created_at",
    "updated_at",
]
VERDICT_FIELDS = [
    "claim",
    "version",
    "verdict",
    "certainty",
    "rationale",
    "published_at",
    "last_reviewed_at",
    "n_reviews",
    "certainty_spread",
    "verdict_split",
    "adjudicated",
]
VERSION_FIELDS = ["claim", *VerdictVersion.PUBLIC_FIELDS]
ROUND_FIELDS = ["claim", "number", "reason", "opened_at"]
TABLES = {
    "articles": ARTICLE_FIELDS,
    "claims": CLAIM_FIELDS,
    "studies": STUDY_FIELDS,
    "citations": CITATION_FIELDS,
    "verdicts": VERDICT_FIELDS,
    "verdict_versions": VERSION_FIELDS,
    "review_rounds": ROUND_FIELDS,
}

LICENCES = {
    "verdicts": "CC-BY-4.0",
    "verdict_versions": "CC-BY-4.0",
    "review_rounds": "CC-BY-4.0",
    "claims": "CC-BY-4.0 (our selection, anchoring and classification; the quoted words are the article's)",
    "citations": "CC-BY-4.0",
    "studies": "bibliographic facts, no rights claimed (CC0-1.0 for our compilation)",
    "articles": "the texts remain their publishers'; included so the claims can be read in context",
}


class DatasetError(ValueError):
    """A dataset folder that cannot be imported; nothing was written."""


# --- Export ----------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(obj: models.Model, names: list[str], **extra: Any) -> dict[str, Any]:
    row = {}
    for name in names:
        row[name] = _plain(extra[name] if name in extra else getattr(obj, name))
    return row


def dataset_tables(internal_notes: bool = False) -> dict[str, list[str]]:
    """The tables and their columns: the public ones, or with the studies' internal notes."""
    return {**TABLES, "studies": STUDY_FIELDS_WITH_INTERNAL} if internal_notes else TABLES


def dataset_rows(internal_notes: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every public record as plain rows, table by table, in a stable order (with the studies' internal
    notes when asked). Seven queries."""
    study_fields = dataset_tables(internal_notes)["studies"]
    articles = Article.objects.order_by("pk")
    slugs: dict[int, str] = {}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for article in articles.iterator(chunk_size=100):
        slugs[article.pk] = article.slug
        rows["articles"].append(_row(article, ARTICLE_FIELDS))
    for claim in Claim.objects.order_by("pk").iterator(chunk_size=2000):
        rows["claims"].append(_row(claim, CLAIM_FIELDS, article=slugs[claim.article_id]))
    for study in Study.objects.order_by("pk").iterator(chunk_size=2000):
        rows["studies"].append(_row(study, study_fields))
    for citation in Citation.objects.order_by("pk").iterator(chunk_size=2000):
        rows["citations"].append(_row(citation, CITATION_FIELDS, claim=citation.claim_id, study=citation.study_id))
    # the published snapshot's figures (its verdict version's), never the live round's
    published = (
        Consensus.objects.filter(published_version__isnull=False)
        .select_related("published_version")
        .order_by("claim_id")
    )
    for consensus in published.iterator(chunk_size=2000):
        version = consensus.published_version
        rows["verdicts"].append(_row(version, VERDICT_FIELDS, claim=consensus.claim_id, version=version.number))
    for version in VerdictVersion.objects.order_by("claim_id", "number").iterator(chunk_size=2000):
        rows["verdict_versions"].append(_row(version, VERSION_FIELDS, claim=version.claim_id))
    for round_ in ReviewRound.objects.order_by("claim_id", "number").iterator(chunk_size=2000):
        rows["review_rounds"].append(_row(round_, ROUND_FIELDS, claim=round_.claim_id))
    return rows


def _write_csv(path: Path, names: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """A table as CSV for spreadsheets, through the shared writer that neutralises formulas; lists and
    objects as JSON text."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(names)
        writer.writerows(
            [
                json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
                for value in row.values()
            ]
            for row in rows
        )


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@dataclass
class ExportReport:
    directory: Path
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def dataset_export(*, directory: Path, site_url: str = "", internal_notes: bool = False) -> ExportReport:
    """Write the dataset into ``directory`` (created if needed; our files in it are replaced); the studies'
    internal notes only with ``internal_notes``."""
    directory.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():  # one consistent snapshot, even while editors work
        rows = dataset_rows(internal_notes)
        studies = list(Study.objects.order_by("pk"))
    report = ExportReport(directory=directory)
    for name, names in dataset_tables(internal_notes).items():
        _write_json(directory / f"{name}.json", rows[name])
        _write_csv(directory / f"{name}.csv", names, rows[name])
        report.counts[name] = len(rows[name])
        report.files += [f"{name}.json", f"{name}.csv"]
    (directory / "studies.csl.json").write_text(to_csljson(studies, internal_notes=internal_notes), encoding="utf-8")
    report.files.append("studies.csl.json")
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "source": site_url,
        "counts": report.counts,
        "internal_notes": internal_notes,
        "licences": LICENCES,
        "files": sorted([*report.files, "README.md", "LICENCE.md"]),
    }
    _write_json(directory / "manifest.json", manifest)
    (directory / "README.md").write_text(readme(manifest), encoding="utf-8")
    (directory / "LICENCE.md").write_text(LICENCE_TEXT, encoding="utf-8")
    report.files += ["manifest.json", "README.md", "LICENCE.md"]
    return report


# --- Import ----------------------------------------------------------------------------------------------


def _read(directory: Path, name: str, version: int = VERSION) -> list[dict[str, Any]]:
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path.name} is missing from {directory}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name} is not JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise DatasetError(f"{path.name} must hold a list of objects")
    expected = set(TABLES[name])
    if name == "studies" and data and isinstance(data[0], dict) and set(INTERNAL) <= set(data[0]):
        expected |= set(INTERNAL)  # exported with the internal notes
    if name == "claims" and version == 1:
        data = [{**V1_CLAIM_DEFAULTS, **row} if isinstance(row, dict) else row for row in data]
    if name == "verdicts" and version < 3:
        data = [{**V2_VERDICT_DEFAULTS, **row} if isinstance(row, dict) else row for row in data]
    for number, row in enumerate(data, start=1):
        if set(row) != expected:
            missing, unknown = sorted(expected - set(row)), sorted(set(row) - expected)
            raise DatasetError(
                f"{path.name}, record {number}: missing {missing or 'nothing'}, unknown {unknown or 'nothing'}"
            )
    return data


def _parse_values(model: type[models.Model], row: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """The row's values as the model's fields take them (dates and times from ISO text)."""
    values = {}
    for name, value in row.items():
        if name in skip:
            continue
        model_field = model._meta.get_field(name)
        if value is not None and isinstance(model_field, models.DateTimeField | models.DateField):
            try:
                value = model_field.to_python(value)
            except ValidationError as exc:
                raise DatasetError(f"{model.__name__} {row.get('id', row)}: {name}: {' '.join(exc.messages)}") from None
        values[name] = value
    return values


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def dataset_import(
    *, directory: Path, dry_run: bool = False, progress: Callable[[str, int], Any] | None = None
) -> ImportReport:
    """Load a dataset folder written by dataset_export into an empty database, ids and all.

    One transaction: a record that does not validate stops the import with a DatasetError naming it,
    and nothing is written. Refuses a database that already holds articles, claims or studies: ids would
    collide, and merging is what the bibliography and article importers are for. The rows are written by
    the restore services (evidence.services.restore, reviews.services.verdicts_restore), which validate
    them, keep their ids and timestamps, give each a history row and move the id sequences on.
    """
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{directory} holds no manifest.json: not a dataset folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"manifest.json is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetError(f"manifest.json does not describe an {FORMAT}")
    version = manifest.get("version")
    if version not in READS:
        raise DatasetError(
            f"dataset version {version!r}; this program reads version{'s' if len(READS) > 1 else ''} "
            f"{', '.join(map(str, sorted(READS)))}"
        )
    tables = {name: _read(directory, name, version) for name in TABLES if version >= 3 or name not in NEW_IN_V3}
    if version < 3:
        # each published verdict was its claim's only version, and no round was recorded
        tables["verdict_versions"] = [_first_version(row) for row in tables["verdicts"]]
        tables["review_rounds"] = []
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        if Article.objects.exists() or Claim.objects.exists() or Study.objects.exists():
            raise DatasetError("the database already holds articles, claims or studies; import into an empty one")
        try:
            _import_tables(tables, report, progress)
        except ValidationError as exc:
            raise DatasetError(" ".join(exc.messages)) from None
        if dry_run:
            transaction.set_rollback(True)
    return report


def _import_tables(
    tables: dict[str, list[dict[str, Any]]], report: ImportReport, progress: Callable[[str, int], Any] | None
) -> None:
    def done(name: str, n: int) -> None:
        report.counts[name] = n
        if progress is not None:
            progress(name, n)

    articles = [Article(**_parse_values(Article, row)) for row in tables["articles"]]
    articles_restore(articles=articles, reason=CHANGE_REASON)
    done("articles", len(articles))
    article_ids = {article.slug: article.pk for article in articles}

    claims = []
    for row in tables["claims"]:
        if row["article"] not in article_ids:
            raise DatasetError(f"claim {row['id']}: no article {row['article']!r} in articles.json")
        claims.append(Claim(article_id=article_ids[row["article"]], **_parse_values(Claim, row, skip=["article"])))
    claims_restore(claims=claims, reason=CHANGE_REASON)
    done("claims", len(claims))

    studies = [Study(**_parse_values(Study, row)) for row in tables["studies"]]
    studies_restore(studies=studies, reason=CHANGE_REASON)
    done("studies", len(studies))

    claim_ids, study_ids = {c.pk for c in claims}, {s.pk for s in studies}
    citations = []
    for row in tables["citations"]:
        if row["claim"] not in claim_ids or row["study"] not in study_ids:
            raise DatasetError(
                f"citation {row['id']}: claim {row['claim']} or study {row['study']} is not in the dataset"
            )
        values = _parse_values(Citation, row, skip=["claim", "study"])
        citations.append(Citation(claim_id=row["claim"], study_id=row["study"], **values))
    citations_restore(citations=citations, reason=CHANGE_REASON)
    done("citations", len(citations))

    for name in ("verdicts", "verdict_versions", "review_rounds"):
        for row in tables[name]:
            if row["claim"] not in claim_ids:
                raise DatasetError(f"{name}: claim {row['claim']} is not in the dataset")
    versions = [
        VerdictVersion(claim_id=row["claim"], **_parse_values(VerdictVersion, row, skip=["claim"]))
        for row in tables["verdict_versions"]
    ]
    rounds = [
        ReviewRound(claim_id=row["claim"], **_parse_values(ReviewRound, row, skip=["claim"]))
        for row in tables["review_rounds"]
    ]
    current = {round_.claim_id: round_.number for round_ in sorted(rounds, key=lambda r: r.number)}
    closed = {(version.claim_id, version.number): version.round for version in versions}
    verdicts = []
    for row in tables["verdicts"]:
        # the claim's current round, when one was opened after the verdict readers see was published
        round_ = current.get(row["claim"], 1)
        verdicts.append(_verdict(row, round_ if round_ > closed.get((row["claim"], row["version"]), 1) else None))
    try:
        verdicts_restore(verdicts=verdicts, versions=versions, rounds=rounds, reason=CHANGE_REASON)
    except IntegrityError as exc:
        raise DatasetError(f"verdict versions or rounds: {exc}") from None
    done("verdicts", len(verdicts))


def _first_version(row: dict[str, Any]) -> dict[str, Any]:
    """The verdict version a version-1 or -2 folder's verdict stands for: the claim's first, in round 1."""
    fields = [name for name in VERSION_FIELDS if name in row]
    return {**{name: row[name] for name in fields}, "number": 1, "round": 1, "how_reached": ""}


def _verdict(row: dict[str, Any], round_: int | None) -> Consensus:
    """The Consensus row a published verdict of the dataset stands for; ``round_``, the claim's re-review
    round when one was opened since (its review columns then start empty: the dataset has no reviews)."""
    values = _parse_values(Consensus, {k: v for k, v in row.items() if k in ("published_at", "last_reviewed_at")})
    consensus = Consensus(
        claim_id=row["claim"],
        n_reviews=row["n_reviews"],
        certainty=row["certainty"],
        verdict=row["verdict"],
        certainty_spread=row["certainty_spread"],
        verdict_split=row["verdict_split"],
        disputed=row["certainty_spread"] >= DISPUTED_SPREAD or row["verdict_split"],
        **values,
    )
    if round_ is not None:
        # a round opened after the publication: nothing reviewed in it yet, as far as readers know
        consensus.round = round_
        consensus.n_reviews, consensus.certainty, consensus.verdict = 0, "", ""
        consensus.certainty_spread, consensus.verdict_split, consensus.disputed = 0, False, False
        consensus.last_reviewed_at = None
    elif row["adjudicated"]:
        # the adjudication's own rationale is not public; the published decision stands for it
        consensus.adjudicated_certainty, consensus.adjudicated_verdict = row["certainty"], row["verdict"]
        consensus.adjudication_rationale, consensus.adjudicated_at = row["rationale"], values["published_at"]
    return consensus


# --- The words that travel with the data ---------------------------------------------------------------

LICENCE_TEXT = """# Licence

**Our reviews and verdicts** — the published verdicts, their certainty and rationale (verdicts.*), the
claims as we selected, anchored and classified them (claims.*), and the links between claims and
studies with what each study shows (citations.*) — are licensed under the Creative Commons Attribution
4.0 International licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/). Credit
"Evidence review" and link to the source given in manifest.json.

**Article texts** (articles.*: the text field, and the quoted words in claims.*) remain their
publishers' and authors'. They are included so the claims can be read in their context; reusing them
is a matter between you and their rights holders.

**Bibliographic metadata** (studies.*, studies.csl.json) is factual information about published works;
we claim no rights in it and dedicate our compilation of it to the public domain (CC0 1.0,
https://creativecommons.org/publicdomain/zero/1.0/). The studies' abstracts, where present, remain
their publishers'.
"""


def readme(manifest: dict[str, Any]) -> str:
    counts = manifest["counts"]
    return f"""# Evidence review: open dataset

Exported {manifest["exported_at"]}{f" from {manifest['source']}" if manifest.get("source") else ""}.
Format {FORMAT}, version {VERSION}. The licence is in LICENCE.md: CC BY 4.0 for our reviews and
verdicts; the article texts remain their publishers'; bibliographic metadata is factual.

| file | what | records |
| --- | --- | --- |
| articles.json / .csv | the articles whose claims were checked, with their full text | {counts["articles"]} |
| claims.json / .csv | each claim: the quoted words and where they stand in the text | {counts["claims"]} |
| studies.json / .csv | the studies: metadata, design, sample size, retraction status | {counts["studies"]} |
| studies.csl.json | the same studies as CSL-JSON, for reference managers (Zotero imports it) | {counts["studies"]} |
| citations.json / .csv | which study bears on which claim, and how | {counts["citations"]} |
| verdicts.json / .csv | the published verdict on each reviewed claim | {counts["verdicts"]} |
| verdict_versions.json / .csv | every verdict ever published, numbered per claim | {counts["verdict_versions"]} |
| review_rounds.json / .csv | the re-review rounds opened on claims, with why and when | {counts["review_rounds"]} |
| manifest.json | format, version, export time, counts and licences | |

The JSON files are lists of objects; the CSV files have the same columns, with lists and objects as
JSON text. Dates and times are ISO 8601 (UTC). Ids are the site's: claim 12 is /claims/12/, study 7 is
/studies/7/.

- **claims**: `article` is the article's slug. `start` and `end` are offsets into the article's `text`
  (Unicode code points, end exclusive), so `text[start:end] == quote`; `prefix` and `suffix` are up to
  32 characters either side: a W3C Web Annotation TextPositionSelector and TextQuoteSelector. `status`
  is the review workflow's (awaiting_review, in_review, needs_rereview, published). `anchor_state` is
  `anchored`, or `orphaned` for a claim whose quote a revision of the article's text no longer holds:
  its `start` and `end` then refer to revision `anchor_revision` of the text, where it was last found
  (revisions are not in the dataset), and not to `text`; its `prefix`, `quote` and `suffix` still find it.
- **citations**: `claim` and `study` are ids; `relation` is supports, mixed, contradicts or context;
  `directness` says how directly the study applies to the claim.
- **verdicts**: one per claim with a published verdict: `verdict` (supported, partly_supported,
  unsupported, contradicted), `certainty` (GRADE: high, moderate, low, very_low), the `rationale`
  readers see, when it was published, how many reviewers rated the claim, how far their certainties
  spread (levels), whether their verdicts split, and whether an editor adjudicated, all as published
  (the figures of the round it closed); `version` is its number among the claim's verdict versions.
- **verdict_versions**: every publication of a claim's verdict, `number` 1, 2, … per claim (the page
  /claims/<claim>/verdicts/<number>/), the review `round` it closed and `how_reached`, the sentence
  saying how it was decided; the same columns as verdicts otherwise.
- **review_rounds**: a claim sent back for re-review after its verdict was published starts a new
  round (`number` 2, 3, …), blind until its verdict is published; `reason` and `opened_at` say why and when.
- **studies**: `doi` is lower case without resolver, `pmid` digits only; `authors` is a list of CSL
  names; `verified` says a bibliographic source confirmed the record (`verified_from` lists them);
  `design` is "" for a study not yet classified; `note` is the curators' note for readers (their own
  research notes, `internal_note`, are here only in a copy exported for another instance of the site).

Not included: reviewers' individual reviews and editors' flags (the API at /api/ serves those that are
public), and anything not yet published.

To load this folder into an empty database of the application: `python manage.py import_dataset DIR`.
"""
