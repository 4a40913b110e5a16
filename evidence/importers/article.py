"""The article file format read by ``manage.py import_article`` (documented in docs/article-format.md).

Parsing only: the file and the texts it points at become an ArticleBundle, or an ArticleFileError that
lists every problem found. Quotes are located in the text here. A quote that is missing or ambiguous is
kept unplaced with the reason (ClaimSpec.unplaced), since only the import service knows what it means: a
new article or a new claim is refused, a claim already stored whose quote a revised text lost becomes an
orphan (evidence.services.articles.article_import).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.utils.text import slugify

from evidence import anchoring, jsonlimits
from evidence.importers import csljson
from evidence.importers.records import BibliographyError, ParseResult
from evidence.storable import holds_nul

FORMAT = "evidence-article/1"
CLAIM_TYPES = {"efficacy", "mechanism", "safety", "onset", "durability", "attribution", "other"}
KINDS = {"claim", "quotation"}
RELATIONS = {"supports", "mixed", "contradicts", "context"}
DIRECTNESS = {"not_assessed", "direct", "partly_indirect", "indirect"}
MAX_FILE_BYTES = 20 * 1024 * 1024


class ArticleFileError(ValueError):
    """The file cannot be imported; ``problems`` lists each reason, nothing has been written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class CitationSpec:
    study_key: str
    relation: str
    note: str = ""
    directness: str = "not_assessed"


@dataclass
class ClaimSpec:
    key: str
    quote: str
    anchor: anchoring.Anchor | None  # None: the quote is not once in the text (``unplaced`` says why)
    section: str
    claim_type: str
    kind: str = "claim"
    substance: str = ""
    secondary_types: list[str] = field(default_factory=list)
    evidence_note: str = ""
    attributed_to: str = ""
    attribution_status: str = ""
    attribution_note: str = ""
    citations: list[CitationSpec] = field(default_factory=list)
    unplaced: str = ""  # why the quote could not be placed: “the quote”: missing, or occurs n times

    @property
    def label(self) -> str:
        """How the import report names the claim: its key, else where it stands, else its quote."""
        if self.key:
            return self.key
        if self.anchor is not None:
            return str(self.anchor.start)
        return f"“{_short(self.quote)}”"


def _short(quote: str) -> str:
    return quote if len(quote) <= 90 else quote[:89] + "…"


@dataclass
class ArticleBundle:
    slug: str
    title: str
    text: str
    headings: list[str]
    author: str = ""
    publisher: str = ""
    url: str = ""
    published_on: date | None = None
    claims: list[ClaimSpec] = field(default_factory=list)
    bibliography: ParseResult | None = None


def _read_text(path: Path, what: str, problems: list[str]) -> str | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(f"{what} {path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
            return None
        text = path.read_text(encoding="utf-8")
        if "\x00" in text:
            problems.append(f"{what} {path} holds a NUL character, which no text can store")
            return None
        return text
    except FileNotFoundError:
        problems.append(f"{what} {path} does not exist")
    except UnicodeDecodeError:
        problems.append(f"{what} {path} is not UTF-8 text")
    except OSError as exc:
        problems.append(f"{what} {path} cannot be read: {exc.strerror}")
    return None


def _str(data: dict[str, Any], key: str, where: str, problems: list[str], required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(f"{where}: {key!r} must be text")
        return ""
    if required and not value.strip():
        problems.append(f"{where}: {key!r} is required")
    return value


def load(path: str | Path) -> ArticleBundle:
    """Read an article file and everything it refers to; raise ArticleFileError listing every problem."""
    path = Path(path)
    problems: list[str] = []
    raw = _read_text(path, "article file", problems)
    if raw is None:
        raise ArticleFileError(problems)
    try:
        data = jsonlimits.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArticleFileError([f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}"]) from None
    except jsonlimits.TooDeep as exc:
        # no article file nests more than a few levels; Python's json would raise RecursionError
        raise ArticleFileError([f"{path} is not an article file: its JSON is {exc}"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("article"), dict):
        raise ArticleFileError([f"{path} must be a JSON object with an 'article' object (format {FORMAT})"])
    if holds_nul(data):
        # PostgreSQL text cannot hold a NUL character: the database would refuse the file half-way through
        raise ArticleFileError([f"{path} holds a NUL character (\\u0000), which no text can store"])
    if data.get("format", FORMAT) != FORMAT:
        problems.append(f"unsupported format {data.get('format')!r}; this version reads {FORMAT!r}")

    meta = data["article"]
    title = _str(meta, "title", "article", problems, required=True)
    slug = _str(meta, "slug", "article", problems) or slugify(title)
    if slug and slug != slugify(slug):
        problems.append(f"article: slug {slug!r} may only hold lower-case letters, digits and hyphens")
    text: str | None
    if "text" in meta:
        text = _str(meta, "text", "article", problems, required=True)
    elif "text_file" in meta:
        text = _read_text(path.parent / _str(meta, "text_file", "article", problems), "text file", problems)
    else:
        problems.append("article: give the text as 'text' or 'text_file'")
        text = None
    published_on = None
    if meta.get("published"):
        try:
            published_on = date.fromisoformat(str(meta["published"]))
        except ValueError:
            problems.append(f"article: published {meta['published']!r} is not a date (YYYY-MM-DD)")

    headings: list[str] = []
    if text is not None:
        if "headings" in meta:
            given = meta["headings"]
            if not (isinstance(given, list) and all(isinstance(h, str) for h in given)):
                problems.append("article: 'headings' must be a list of texts")
            else:
                lines = {line.strip() for line in text.splitlines()}
                headings = given
                for heading in given:
                    if heading.strip() not in lines:
                        problems.append(f"article: heading {heading!r} is not a line of the text")
        else:
            headings = anchoring.infer_headings(text)

    bundle = ArticleBundle(
        slug=slug,
        title=title,
        text=text or "",
        headings=headings,
        author=_str(meta, "author", "article", problems),
        publisher=_str(meta, "publisher", "article", problems),
        url=_str(meta, "url", "article", problems),
        published_on=published_on,
    )

    if data.get("bibliography"):
        bib_text = _read_text(path.parent / str(data["bibliography"]), "bibliography", problems)
        if bib_text is not None:
            try:
                bundle.bibliography = csljson.parse(bib_text)
            except BibliographyError as exc:
                problems.append(f"bibliography {data['bibliography']}: {exc}")
            else:
                for rejection in bundle.bibliography.rejected:
                    problems.append(f"bibliography {data['bibliography']}, {rejection.source}: {rejection.reason}")

    claims = data.get("claims", [])
    if not isinstance(claims, list):
        problems.append("'claims' must be a list")
        claims = []
    seen_keys: set[str] = set()
    for index, entry in enumerate(claims, start=1):
        spec = _claim(entry, index, bundle, problems)
        if spec is None:
            continue
        if spec.key and spec.key in seen_keys:
            problems.append(f"claim {spec.key}: the key is used twice")
        seen_keys.add(spec.key)
        bundle.claims.append(spec)
    if problems:
        # the file is refused anyway: its unplaced quotes are listed too, so every problem is seen at once
        raise ArticleFileError(
            problems
            + [f"claim {spec.key + ': ' if spec.key else ''}{spec.unplaced}" for spec in bundle.claims if spec.unplaced]
        )
    return bundle


def _claim(entry: Any, index: int, bundle: ArticleBundle, problems: list[str]) -> ClaimSpec | None:
    if not isinstance(entry, dict):
        problems.append(f"claim {index}: must be an object")
        return None
    key = _str(entry, "key", f"claim {index}", problems)
    where = f"claim {key or index}"
    quote = _str(entry, "quote", where, problems, required=True)
    if not quote:
        return None
    anchor: anchoring.Anchor | None
    try:
        anchor, unplaced = anchoring.locate(bundle.text, quote), ""
    except anchoring.AnchorError as exc:
        anchor, unplaced = None, f"“{_short(quote)}”: {exc}"
    claim_type = _str(entry, "claim_type", where, problems, required=True)
    if claim_type and claim_type not in CLAIM_TYPES:
        problems.append(f"{where}: claim_type {claim_type!r} is not one of {', '.join(sorted(CLAIM_TYPES))}")
    kind = _str(entry, "kind", where, problems) or "claim"
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    section = _str(entry, "section", where, problems)
    expected_section = anchoring.section_at(bundle.text, bundle.headings, anchor.start) if anchor else ""
    if section and anchor is not None and section != expected_section:
        problems.append(
            f"{where}: section {section!r} does not match the heading above the quote ({expected_section!r})"
        )
    secondary = entry.get("secondary_types", [])
    if not (isinstance(secondary, list) and all(isinstance(s, str) for s in secondary)):
        problems.append(f"{where}: 'secondary_types' must be a list of texts")
        secondary = []
    attribution = entry.get("attribution") or {}
    if not isinstance(attribution, dict):
        problems.append(f"{where}: 'attribution' must be an object")
        attribution = {}
    spec = ClaimSpec(
        key=key,
        quote=quote,
        anchor=anchor,
        section=expected_section,
        claim_type=claim_type,
        kind=kind,
        substance=_str(entry, "substance", where, problems),
        secondary_types=secondary,
        evidence_note=_str(entry, "evidence_note", where, problems),
        attributed_to=_str(attribution, "attributed_to", where, problems),
        attribution_status=_str(attribution, "status", where, problems),
        attribution_note=_str(attribution, "note", where, problems),
        unplaced=unplaced,
    )
    citations = entry.get("citations", [])
    if not isinstance(citations, list):
        problems.append(f"{where}: 'citations' must be a list")
        citations = []
    cited: set[str] = set()
    for link in citations:
        if not isinstance(link, dict):
            problems.append(f"{where}: each citation must be an object")
            continue
        study = _str(link, "study", where, problems, required=True)
        relation = _str(link, "relation", where, problems, required=True)
        directness = _str(link, "directness", where, problems) or "not_assessed"
        if relation and relation not in RELATIONS:
            problems.append(f"{where}: relation {relation!r} is not one of {', '.join(sorted(RELATIONS))}")
        if directness not in DIRECTNESS:
            problems.append(f"{where}: directness {directness!r} is not one of {', '.join(sorted(DIRECTNESS))}")
        if study in cited:
            problems.append(f"{where}: study {study!r} is cited twice")
        cited.add(study)
        spec.citations.append(CitationSpec(study, relation, _str(link, "note", where, problems), directness))
    return spec
