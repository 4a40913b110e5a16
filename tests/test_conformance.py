"""Our machine-readable outputs, checked with the field's own validators and test material rather than ours
(vendored under tests/conformance/: each folder's NOTE.md gives the repository, the commit and what was
copied):

- CSL-JSON (`export_bibliography --format csljson`, the study downloads `/studies/export.json` and
  `/articles/<slug>/studies.json`, the open dataset's `studies.csl.json`): CSL-JSON 1.0 with the project's
  fields in `custom`, against the official `csl-data.json` (jsonschema, draft-07).
- `/articles/<slug>/annotations.jsonld`: the W3C Web Annotation Data Model, against the MUST assertions of
  w3c/web-annotation-tests (JSON Schemas, draft-04, formats checked).
- ClaimReview (the claim page's embedded JSON-LD, `/articles/<slug>/claimreview.jsonld`): schema.org
  ClaimReview with the properties Google documents as required and recommended.
- Atom feeds (`/feeds/verdicts.atom`, `/articles/<slug>/verdicts.atom`): feedparser reports no error (bozo) and
  reads Atom 1.0.

We write no article bundle (an article file with its bibliography is only ever read, by
evidence/importers/article.py), so there is no bundle bibliography to check. Each standard also has a test
showing that its check fails on output that breaks it, so a green run means something.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from evidence.exporters import csl_item
from evidence.importers import csljson
from evidence.models import Article, Claim, Study
from tests.builders import StudyFactory, publish
from tests.test_opendata import ARTICLE_SLUG, claim

CONFORMANCE = Path(__file__).resolve().parent / "conformance"
SEED_STUDIES = Path(__file__).resolve().parent.parent / "fixtures" / "ketamine-mdma" / "studies.json"


# --- CSL-JSON: the official schema ---------------------------------------------------------------------------

CSL_SCHEMA = json.loads((CONFORMANCE / "csl-schema" / "csl-data.json").read_text(encoding="utf-8"))
# the schema says its draft; format checks on, though csl-data.json uses none today
CSL_VALIDATOR = Draft7Validator(CSL_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)


def csl_errors(items: Any) -> list[str]:
    """What the official schema finds wrong, one line per error, naming the item."""
    errors = []
    for error in CSL_VALIDATOR.iter_errors(items):
        where = list(error.absolute_path)
        item = items[where[0]] if where and isinstance(items, list) else None
        label = f"item {item.get('id')!r}" if isinstance(item, dict) else "file"
        errors.append(f"{label} at {'/'.join(map(str, where[1:])) or '(item)'}: {error.message}")
    return errors


@pytest.fixture
def library(seed: Article) -> Article:
    """The seed library with every field our CSL-JSON writes filled somewhere: an expression of concern with
    its notice, a population, and a study whose type and author names CSL has no place for (the admin and
    the API take any text there)."""
    Study.objects.filter(citation_key="dunlap2018").update(
        retraction_status="expression_of_concern",
        retraction_date=date(2025, 1, 2),
        retraction_doi="10.5555/fixture.notice",
        population="Adults with treatment-resistant depression",
        unconfirmed_leads={"pages": "12-19 (a preprint)"},
    )
    StudyFactory(
        citation_key="odd2024",
        work_type="misc",
        authors=[{"family": "Odd", "given": "Ann", "ORCID": "0000-0002-1825-0097"}, {"literal": "A Consortium"}],
        month=3,
        day=9,
        pmid="12345678",
        retraction_status="retracted",
        retraction_note="Retracted for data fabrication.",
    )
    return seed


def test_our_csl_vocabulary_is_the_schemas():
    """The exporter writes a type the schema allows and name parts it allows: the lists it uses are the
    schema's own."""
    item = CSL_SCHEMA["items"]
    assert set(item["properties"]["type"]["enum"]) == csljson.CSL_TYPES
    name = item["properties"]["author"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert set(CSL_SCHEMA["definitions"][name]["anyOf"][0]["properties"]) == csljson.CSL_NAME_PARTS


@pytest.mark.slow
@pytest.mark.parametrize("one_article", [False, True], ids=["library", "one article"])
def test_export_bibliography_writes_valid_csl_json(library: Article, tmp_path: Path, one_article: bool):
    target = tmp_path / "studies.json"
    args = ["--article", library.slug] if one_article else []
    call_command("export_bibliography", "--format", "csljson", "--output", str(target), *args)
    items = json.loads(target.read_text(encoding="utf-8"))
    expected = Study.objects.filter(citations__claim__article=library).distinct() if one_article else Study.objects
    assert len(items) == expected.count() > 0
    assert csl_errors(items) == []
    if not one_article:
        odd = next(item for item in items if item["id"] == "odd2024")
        assert odd["type"] == "document" and odd["custom"]["work_type"] == "misc"
        assert odd["author"][0] == {"family": "Odd", "given": "Ann"}
        assert odd["custom"]["authors"][0]["ORCID"] == "0000-0002-1825-0097"


def test_the_study_downloads_are_valid_csl_json(library: Article, client):
    downloads = [
        (reverse("evidence:study-export", args=["json"]), {}),
        (reverse("evidence:study-export", args=["json"]), {"design": "rct"}),
        (reverse("evidence:article-studies-export", args=[library.slug, "json"]), {}),
    ]
    for url, query in downloads:
        response = client.get(url, query)
        assert response.status_code == 200 and "csl+json" in response["Content-Type"]
        items = json.loads(response.content)
        assert items and csl_errors(items) == [], url


def test_the_open_datasets_csl_json_is_valid(library: Article, tmp_path: Path):
    call_command("export_dataset", "--output", str(tmp_path / "data"))
    items = json.loads((tmp_path / "data" / "studies.csl.json").read_text(encoding="utf-8"))
    assert len(items) == Study.objects.count()
    assert csl_errors(items) == []


def test_the_schema_refuses_extensions_beside_the_csl_variables():
    """What we wrote before the extensions moved into `custom` (the seed's studies.json is such a file)
    fails, item by item: the check can fail, and did on every record of the old export."""
    items = json.loads(SEED_STUDIES.read_text(encoding="utf-8"))
    errors = csl_errors(items)
    assert len(errors) == len(items) == 46
    assert all("Additional properties are not allowed" in error and "'study_design'" in error for error in errors)
    # a wrong type and a name part CSL does not have are refused too
    assert len(csl_errors([{"id": "x", "type": "misc", "author": [{"surname": "Nope"}]}])) == 2


# Text as the importer leaves it (it strips what it reads), and names as the API takes them: any keys.
_words = st.text(min_size=1, max_size=30).map(str.strip).filter(bool)
_names = st.lists(
    st.fixed_dictionaries(
        {"family": _words},
        optional={"given": _words, "suffix": _words, "ORCID": _words, "affiliation": _words},
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(
    work_type=st.one_of(st.just(""), st.sampled_from(sorted(csljson.CSL_TYPES)), _words.map(lambda w: w[:40])),
    authors=_names,
    text=st.text(max_size=30),
    year=st.one_of(st.none(), st.integers(1000, 2999)),
    month=st.one_of(st.none(), st.integers(1, 12)),
    sample_size=st.one_of(st.none(), st.integers(0, 10**6)),
    leads=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=2),
)
def test_any_study_exports_as_valid_csl_and_reads_back(work_type, authors, text, year, month, sample_size, leads):
    """Whatever the admin or the API let a curator store, the item is valid CSL and the importer reads the
    study's own type and names back from it."""
    study = Study(
        citation_key="any",
        work_type=work_type,
        authors=authors,
        title="A study",
        container_title=text,
        publisher=text,
        volume=text,
        pages=text,
        abstract=text,
        population=text,
        retraction_note=text,
        note=text,
        year=year,
        month=month if year else None,
        sample_size=sample_size,
        verified_from=[text] if text else [],
        unconfirmed_leads=leads,
    )
    item = csl_item(study)
    assert csl_errors([item]) == []
    record = csljson.parse_item(json.loads(json.dumps(item)), "entry 1")
    assert record.work_type == (work_type or "article-journal")
    assert record.authors == authors


# --- W3C Web Annotation: the test suite's MUST assertions -----------------------------------------------------

ANNOTATION_TESTS = CONFORMANCE / "web-annotation-tests"


@cache
def _annotation_registry() -> Registry:
    """Every vendored schema under its own `id` (a bare file name, which is also how the assertions' $refs
    name the definitions files): the references resolve here, and nothing is ever fetched."""
    resources = []
    for path in sorted(ANNOTATION_TESTS.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["id"], Resource(contents, specification=DRAFT4)))
    return Registry().with_resources(resources)


@cache
def _assertions(suite: str) -> list[tuple[str, Draft4Validator]]:
    """The assertions a .test file lists, each a draft-04 validator with formats (uri, date-time) checked as
    the suite's own harness checks them."""
    listed = json.loads((ANNOTATION_TESTS / suite).read_text(encoding="utf-8"))["assertions"]
    validators = []
    for name in listed:
        schema = json.loads((ANNOTATION_TESTS / name).read_text(encoding="utf-8"))
        assert schema["assertionType"] == "must" and schema["expectedResult"] == "valid"
        validator = Draft4Validator(
            schema, registry=_annotation_registry(), format_checker=Draft4Validator.FORMAT_CHECKER
        )
        validators.append((name, validator))
    return validators


def web_annotation_failures(suite: str, instance: dict[str, Any]) -> list[str]:
    """The assertions of ``suite`` the instance fails, each with the suite's own error message."""
    failures = []
    for name, validator in _assertions(suite):
        errors = list(validator.iter_errors(instance))
        if errors:
            failures.append(f"{name}: {validator.schema['errorMessage']} ({errors[0].message[:200]})")
    return failures


def standalone(collection: dict[str, Any], annotation: dict[str, Any]) -> dict[str, Any]:
    """An annotation of the collection as it stands on its own: inside the collection it takes the
    collection's @context (JSON-LD inherits it), and the MUST assertions check a single annotation."""
    return {"@context": collection["@context"], **annotation}


@pytest.fixture(params=[False, True], ids=["our copy", "publisher's URL"])
def annotations(request, seed: Article, client) -> dict[str, Any]:
    """The seed article's annotations, with verdicts published on two claims; the target is our copy of the
    article, or the publisher's page when we know its URL."""
    publish(claim("K1"), verdict="supported", certainty="high")
    publish(claim("M1"), verdict="contradicted", certainty="low")
    if request.param:
        Article.objects.filter(pk=seed.pk).update(url="https://publisher.example/ketamine-vs-mdma")
    return client.get(reverse("evidence:article-annotations", args=[ARTICLE_SLUG])).json()


@pytest.mark.slow
def test_every_annotation_meets_the_web_annotation_musts(annotations: dict[str, Any]):
    items = annotations["first"]["items"]
    assert len(items) == Claim.objects.filter(article__slug=ARTICLE_SLUG).count() == 38
    assert {item["motivation"] for item in items} == {"assessing", "highlighting"}
    failures = {
        item["id"]: failed
        for item in items
        if (failed := web_annotation_failures("annotations/annotationMusts.test", standalone(annotations, item)))
    }
    assert failures == {}


@pytest.mark.slow
def test_the_collection_and_its_page_meet_their_musts(annotations: dict[str, Any]):
    assert web_annotation_failures("collections/collectionMusts.test", annotations) == []
    # pageMusts.test takes "an Annotation Collection with an embedded Page", which is what we serve
    assert web_annotation_failures("collections/pages/pageMusts.test", annotations) == []


def test_the_web_annotation_musts_can_fail(seed: Article, client):
    """A broken annotation fails the assertions it breaks, formats included: a relative id is not a URI and
    "yesterday" is not a date-time (jsonschema checks these only with rfc3986-validator and
    rfc3339-validator installed, so their absence would fail here, not pass silently)."""
    assert {"uri", "date-time"} <= set(Draft4Validator.FORMAT_CHECKER.checkers)
    document = client.get(reverse("evidence:article-annotations", args=[ARTICLE_SLUG])).json()
    broken = standalone(document, document["first"]["items"][0]) | {"id": "/claims/1/", "created": "yesterday"}
    del broken["target"]
    failed = [line.split(":")[0] for line in web_annotation_failures("annotations/annotationMusts.test", broken)]
    assert failed == [
        "annotations/3.1-annotationIdValidated.json",
        "annotations/3.1-targetKeyFound.json",
        "annotations/3.2-targetObjectsRecognized.json",
        "annotations/3.3.1-annotationCreatedValidated.json",
    ]


# --- ClaimReview: Google's required and recommended properties -------------------------------------------------

GOOGLE = json.loads((CONFORMANCE / "google-claimreview" / "properties.json").read_text(encoding="utf-8"))
# schema.org types a property may hold in place of the one Google names (schema.org/Article is a CreativeWork)
SUBTYPES = {"CreativeWork": {"CreativeWork", "Article"}}
SCHEMA_ORG = {"https://schema.org", "http://schema.org"}


def _is(value: Any, type_name: str) -> bool:
    if type_name == "Text":
        return isinstance(value, str) and bool(value.strip())
    if type_name == "URL":
        parts = urlsplit(value) if isinstance(value, str) else None
        return bool(parts and parts.scheme in {"http", "https"} and parts.netloc)
    if type_name == "Number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name in {"Date", "DateTime"}:
        parse = date.fromisoformat if type_name == "Date" else datetime.fromisoformat
        try:
            parse(value)
        except (TypeError, ValueError):
            return False
        return True
    return isinstance(value, dict) and value.get("@type") in SUBTYPES.get(type_name, {type_name})


def _check(node: Any, kind: str, excused: dict[str, str], problems: list[str], where: str) -> None:
    """Google's list for ``kind`` against ``node``: required properties present and of a type it names,
    recommended ones too unless ``excused`` gives the reason (the page's own, or data we do not hold)."""
    spec = GOOGLE["types"][kind]
    for level in ("required", "recommended"):
        for name, types in spec.get(level, {}).items():
            if name not in node:
                if level == "required" or f"{kind}.{name}" not in excused:
                    problems.append(f"{where}: {level} {kind}.{name} is missing")
            elif not any(_is(node[name], type_name) for type_name in types):
                problems.append(f"{where}: {kind}.{name} is not one of {types}: {node[name]!r}")
    for name, types in spec.get("properties", {}).items():
        if name in node and not any(_is(node[name], type_name) for type_name in types):
            problems.append(f"{where}: {kind}.{name} is not one of {types}: {node[name]!r}")
    if "at_least_one_of" in spec and not any(name in node for name in spec["at_least_one_of"]):
        problems.append(f"{where}: {kind} has none of {spec['at_least_one_of']}")


def claimreview_problems(review: dict[str, Any], *, hosting_page: str, article: Article) -> list[str]:
    """Everything in ``review`` that falls short of Google's documented properties and conditions
    (tests/conformance/google-claimreview/properties.json)."""
    where = review.get("url", "ClaimReview")
    problems: list[str] = []
    if review.get("@context") not in SCHEMA_ORG or review.get("@type") != "ClaimReview":
        problems.append(f"{where}: not a schema.org ClaimReview")
    # the page's reasons a recommended property may be absent
    excused = {"Rating.name": "alternateName is given, and Google recommends it instead of name"}
    if not (article.author or article.publisher):
        excused["Claim.author"] = "the claim has no author we know of: Google says to leave it out"
    if not article.published_on:
        excused["Claim.datePublished"] = "we do not know when the article was published"
    # no URL identifying an article's author is held anywhere in the project
    excused["Claim.author.sameAs"] = "we hold no URL identifying the author of a claim"
    _check(review, "ClaimReview", excused, problems, where)
    if isinstance(review.get("author"), dict):
        _check(review["author"], "ClaimReview.author", excused, problems, where)
    item = review.get("itemReviewed")
    if isinstance(item, dict):
        _check(item, "Claim", excused, problems, where)
        if isinstance(item.get("author"), dict):
            _check(item["author"], "Claim.author", excused, problems, where)
    rating = review.get("reviewRating")
    if isinstance(rating, dict):
        _check(rating, "Rating", excused, problems, where)
        best, worst, value = rating.get("bestRating"), rating.get("worstRating"), rating.get("ratingValue")
        numbers = all(_is(number, "Number") for number in (best, worst, value))
        if numbers and not (1 <= worst < best and worst <= value <= best):
            problems.append(f"{where}: Rating wants 1 <= worstRating <= ratingValue <= bestRating, worst < best")
    url_host, page_host = urlsplit(str(review.get("url", ""))).hostname or "", urlsplit(hosting_page).hostname or ""
    if not (url_host == page_host or url_host.endswith("." + page_host)):
        problems.append(f"{where}: url is not on the domain of the page hosting it ({hosting_page})")
    return problems


class _JsonLdScripts(HTMLParser):
    """The JSON-LD a page embeds, as a search engine reads it: the <script type="application/ld+json">."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: list[Any] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inside = tag == "script" and ("type", "application/ld+json") in attrs

    def handle_endtag(self, tag: str) -> None:
        self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.documents.append(json.loads(data))


def embedded_jsonld(html: str) -> list[Any]:
    parser = _JsonLdScripts()
    parser.feed(html)
    return parser.documents


@pytest.fixture(params=[False, True], ids=["article without metadata", "article with author and date"])
def reviewed(request, seed: Article) -> Article:
    """The seed with three published verdicts; the seed article names no author, publisher or date, so the
    second case gives it all three (and the publisher's URL) to check the properties that depend on them."""
    publish(claim("K1"), verdict="supported", certainty="high")
    publish(claim("M1"), verdict="contradicted", certainty="low")
    publish(claim("Q1"), verdict="unsupported", certainty="very_low")
    if request.param:
        Article.objects.filter(pk=seed.pk).update(
            author="Jane Writer",
            publisher="Example Health News",
            published_on=date(2024, 5, 1),
            url="https://publisher.example/ketamine-vs-mdma",
        )
    seed.refresh_from_db()
    return seed


@pytest.mark.slow
def test_every_claimreview_on_a_claim_page_has_googles_properties(reviewed: Article, client):
    published = Claim.objects.filter(article=reviewed, consensus__published_at__isnull=False)
    assert published.count() == 3
    for published_claim in published:
        response = client.get(published_claim.get_absolute_url())
        reviews = [doc for doc in embedded_jsonld(response.content.decode()) if doc.get("@type") == "ClaimReview"]
        assert len(reviews) == 1  # Google's single fact check result wants one ClaimReview on the page
        hosting_page = response.wsgi_request.build_absolute_uri()
        assert claimreview_problems(reviews[0], hosting_page=hosting_page, article=reviewed) == []
    unreviewed = client.get(claim("K2").get_absolute_url()).content.decode()
    assert not [doc for doc in embedded_jsonld(unreviewed) if doc.get("@type") == "ClaimReview"]


@pytest.mark.slow
def test_every_claimreview_in_the_article_feed_has_googles_properties(reviewed: Article, client):
    response = client.get(reverse("evidence:article-claimreview", args=[reviewed.slug]))
    reviews = response.json()
    assert len(reviews) == 3
    hosting_page = response.wsgi_request.build_absolute_uri()
    problems = [p for r in reviews for p in claimreview_problems(r, hosting_page=hosting_page, article=reviewed)]
    assert problems == []
    if reviewed.author:
        assert {r["itemReviewed"]["author"]["name"] for r in reviews} == {"Jane Writer"}
        assert {r["itemReviewed"]["datePublished"] for r in reviews} == {"2024-05-01"}


def test_the_claimreview_check_can_fail(seed: Article, client):
    publish(claim("K1"), verdict="supported", certainty="high")
    review = client.get(reverse("evidence:article-claimreview", args=[seed.slug])).json()[0]
    del review["claimReviewed"]
    review["url"] = "https://elsewhere.example/claims/1/"
    review["author"] = {"@type": "Organization"}
    del review["reviewRating"]["alternateName"]
    review["reviewRating"]["worstRating"] = 0
    del review["itemReviewed"]["appearance"], review["itemReviewed"]["firstAppearance"]
    problems = claimreview_problems(review, hosting_page="http://testserver/articles/x/", article=seed)
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "required ClaimReview.claimReviewed is missing",
        "ClaimReview.author has none of ['name', 'url']",
        "recommended Claim.appearance is missing",
        "recommended Claim.firstAppearance is missing",
        "Claim has none of ['appearance', 'firstAppearance']",
        "required Rating.alternateName is missing",
        "Rating wants 1 <= worstRating <= ratingValue <= bestRating, worst < best",
        "url is not on the domain of the page hosting it (http://testserver/articles/x/)",
    ]


# --- Atom feeds: feedparser --------------------------------------------------------------------------------------
#
# The verdict feeds (/feeds/verdicts.atom and /articles/<slug>/verdicts.atom) parsed by feedparser, which reports
# any well-formedness or Atom error it meets as `bozo`: none, Atom 1.0, and one entry per published verdict.


def atom_problems(content: bytes) -> list[str]:
    parsed = feedparser.parse(content)
    problems = [f"bozo: {parsed.bozo_exception}"] if parsed.bozo else []
    if parsed.version != "atom10":
        problems.append(f"version {parsed.version!r}, not atom10")
    return problems


def test_atom_feeds_parse_with_feedparser_without_errors(reviewed: Article, client):
    for url in (reverse("evidence:verdict-feed"), reverse("evidence:article-verdict-feed", args=[reviewed.slug])):
        response = client.get(url)
        assert response["Content-Type"].startswith("application/atom+xml")
        assert atom_problems(response.content) == [], url
        parsed = feedparser.parse(response.content)
        assert len(parsed.entries) == 3, url
        for entry in parsed.entries:
            assert entry.id and entry.title and entry.link and entry.updated_parsed, url
        assert parsed.feed.author == "Evidence review"


def test_the_atom_check_fails_on_a_broken_feed():
    assert atom_problems(b"<feed xmlns='http://www.w3.org/2005/Atom'><title>x</title><entry></feed>")
    assert atom_problems(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>')
