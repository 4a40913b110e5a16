"""Asking Crossref and NCBI about a DOI or PMID: HTTP and parsing only, no database (like importers/).

Crossref's REST API (``GET https://api.crossref.org/works/{doi}``) gives a work's metadata and its
``updated-by`` notices (retractions, expressions of concern, corrections; Crossref also distributes the
Retraction Watch data there). NCBI's E-utilities (``esummary.fcgi?db=pubmed&retmode=json``) give a PubMed
record with its publication types ("Retracted Publication"). One httpx client for both: a timeout
(EVIDENCE_LOOKUP_TIMEOUT), connection retries, and the polite ``User-Agent``/``mailto`` both services ask
for (EVIDENCE_LOOKUP_MAILTO). Answers are kept in Django's cache (EVIDENCE_LOOKUP_CACHE_SECONDS).

Off unless EVIDENCE_LOOKUP_ENABLED: these machines have no internet, and tests replay recorded responses
(tests/recordings/). Every failure is a LookupFailed whose message can be shown to a curator as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.cache import cache

from evidence.identifiers import IdentifierError, normalize_doi

CROSSREF_WORKS = "https://api.crossref.org/works/"
NCBI_ESUMMARY = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esummary.fcgi"
CROSSREF, PUBMED = "Crossref", "PubMed"
VERSION = "0.1"

# Crossref's update types, as the retraction status they give the work they update (RetractionStatus values)
UPDATE_STATUS = {
    "retraction": "retracted",
    "withdrawal": "retracted",
    "removal": "retracted",
    "expression_of_concern": "expression_of_concern",
    "correction": "corrected",
    "erratum": "corrected",
    "corrigendum": "corrected",
}
# PubMed's publication types that say the same of the record carrying them
PUBTYPE_STATUS = {"Retracted Publication": "retracted"}
CROSSREF_TYPES = {"journal-article": "article-journal", "book": "book", "book-chapter": "chapter", "report": "report"}
_MONTHS = {
    m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)
}
_TAGS = re.compile(r"<[^>]+>")


class LookupDisabled(Exception):
    """Lookups are switched off (EVIDENCE_LOOKUP_ENABLED)."""

    def __init__(self) -> None:
        super().__init__("Lookups in Crossref and PubMed are switched off (set EVIDENCE_LOOKUP_ENABLED=1).")


class LookupFailed(Exception):
    """No usable answer: not found, refused, too slow or unreadable. The message says which, for people."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient  # worth trying again later (rate limit, timeout, server error)


@dataclass(frozen=True)
class Notice:
    """A retraction, expression of concern or correction a source reports for the work."""

    status: str  # a RetractionStatus value
    label: str  # as the source names it: "Retraction", "Retracted Publication"
    notice_doi: str = ""
    date: date | None = None
    origin: str = ""  # who told the source: "publisher", "retraction-watch"


@dataclass
class Found:
    """What one source says about a work: values named as Study's fields, and any notices."""

    source: str  # CROSSREF or PUBMED
    url: str  # the record, for people (verified_from)
    values: dict[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


def enabled() -> bool:
    return bool(settings.EVIDENCE_LOOKUP_ENABLED)


def crossref_url(doi: str) -> str:
    return CROSSREF_WORKS + quote(doi, safe="/")


def _client() -> httpx.Client:
    mailto = settings.EVIDENCE_LOOKUP_MAILTO
    agent = f"evidence-review/{VERSION} (mailto:{mailto})" if mailto else f"evidence-review/{VERSION}"
    return httpx.Client(
        timeout=httpx.Timeout(settings.EVIDENCE_LOOKUP_TIMEOUT),
        headers={"User-Agent": agent, "Accept": "application/json"},
        transport=httpx.HTTPTransport(retries=2),  # connection failures only; a slow answer is not retried
        follow_redirects=True,
    )


def _get_json(source: str, url: str, params: dict[str, str], what: str) -> Any:
    if not enabled():
        raise LookupDisabled
    try:
        with _client() as client:
            response = client.get(url, params=params)
    except httpx.TimeoutException:
        raise LookupFailed(
            f"{source} did not answer within {settings.EVIDENCE_LOOKUP_TIMEOUT} s for {what}; nothing was changed.",
            transient=True,
        ) from None
    except httpx.TransportError as exc:
        raise LookupFailed(
            f"{source} could not be reached for {what} ({exc}); nothing was changed.", transient=True
        ) from None
    if response.status_code == 404:
        raise LookupFailed(f"{source} has no record of {what}.")
    if response.status_code == 429:
        wait = response.headers.get("Retry-After")
        later = f" (it asks to wait {wait} s)" if wait else ""
        raise LookupFailed(f"{source} is limiting our requests{later}; try {what} again later.", transient=True)
    if response.status_code >= 500:
        raise LookupFailed(f"{source} answered {response.status_code} for {what}; try again later.", transient=True)
    if response.status_code != 200:
        raise LookupFailed(f"{source} answered {response.status_code} for {what}.")
    try:
        return response.json()
    except ValueError:
        raise LookupFailed(f"{source} sent an answer for {what} that is not JSON.") from None


def _cached(key: str, fetch: Any, *, fresh: bool = False) -> Any:
    """The cached answer under ``key``, or ``fetch()``'s, kept; ``fresh`` asks again whatever is cached."""
    seconds = settings.EVIDENCE_LOOKUP_CACHE_SECONDS
    if seconds and not fresh:
        hit = cache.get(key)
        if hit is not None:
            return hit
    value = fetch()
    if seconds:
        cache.set(key, value, seconds)
    return value


# --- Crossref ----------------------------------------------------------------------------------------------


def crossref_work(doi: str, *, fresh: bool = False) -> Found:
    """Crossref's record of a DOI (normalised); ``fresh`` skips the cache (the retraction check).
    Raises LookupDisabled or LookupFailed."""
    what = f"DOI {doi}"

    def fetch() -> Any:
        params = {"mailto": settings.EVIDENCE_LOOKUP_MAILTO} if settings.EVIDENCE_LOOKUP_MAILTO else {}
        return _get_json(CROSSREF, crossref_url(doi), params, what)

    body = _cached(f"evidence:lookup:crossref:{doi}", fetch, fresh=fresh)
    message = body.get("message") if isinstance(body, dict) else None
    if body.get("status") != "ok" or not isinstance(message, dict):
        raise LookupFailed(f"{CROSSREF} sent an answer for {what} that is not a work.")
    return parse_crossref(message)


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(_TAGS.sub("", str(value or "")).split())


def _date_parts(value: Any) -> list[int]:
    try:
        parts = value["date-parts"][0]
        return [int(p) for p in parts if p is not None]
    except (KeyError, IndexError, TypeError, ValueError):
        return []


def parse_crossref(message: dict[str, Any]) -> Found:
    values: dict[str, Any] = {}
    try:
        values["doi"] = normalize_doi(message.get("DOI"))
    except IdentifierError:
        pass
    for name, key in (("title", "title"), ("container_title", "container-title"), ("publisher", "publisher")):
        if text := _first(message.get(key)):
            values[name] = text
    for name, key in (("volume", "volume"), ("issue", "issue"), ("pages", "page")):
        if text := _first(message.get(key)):
            values[name] = text.replace("–", "-")
    authors = []
    for person in message.get("author") or []:
        if person.get("family"):
            authors.append({k: person[k] for k in ("family", "given", "suffix") if person.get(k)})
        elif person.get("name"):
            authors.append({"literal": person["name"]})
    if authors:
        values["authors"] = authors
    parts = _date_parts(message.get("issued"))
    for name, part in zip(("year", "month", "day"), parts, strict=False):
        values[name] = part
    if message.get("type") in CROSSREF_TYPES:
        values["work_type"] = CROSSREF_TYPES[message["type"]]
    notices = []
    for update in message.get("updated-by") or []:
        status = UPDATE_STATUS.get(str(update.get("type", "")).replace("-", "_"))
        if status is None:
            continue
        parts = _date_parts(update.get("updated"))
        notice_date = date(*parts[:3]) if len(parts) >= 3 else None
        try:
            notice_doi = normalize_doi(update.get("DOI"))
        except IdentifierError:
            notice_doi = ""
        label = update.get("label") or str(update.get("type")).replace("_", " ").capitalize()
        notices.append(Notice(status, label, notice_doi, notice_date, str(update.get("source") or "")))
    doi = values.get("doi", "")
    return Found(CROSSREF, crossref_url(doi) if doi else CROSSREF_WORKS, values, notices)


# --- PubMed (NCBI E-utilities) ------------------------------------------------------------------------------


def pubmed_summary(pmid: str, *, fresh: bool = False) -> Found:
    """PubMed's summary of a PMID (digits); ``fresh`` skips the cache. Raises LookupDisabled or LookupFailed."""
    what = f"PMID {pmid}"

    def fetch() -> Any:
        params = {"db": "pubmed", "id": pmid, "retmode": "json", "tool": "evidence-review"}
        if settings.EVIDENCE_LOOKUP_MAILTO:
            params["email"] = settings.EVIDENCE_LOOKUP_MAILTO
        if settings.NCBI_API_KEY:
            params["api_key"] = settings.NCBI_API_KEY
        return _get_json(PUBMED, NCBI_ESUMMARY, params, what)

    body = _cached(f"evidence:lookup:pubmed:{pmid}", fetch, fresh=fresh)
    record = (body.get("result") or {}).get(pmid) if isinstance(body, dict) else None
    if not isinstance(record, dict) or record.get("error"):
        raise LookupFailed(f"{PUBMED} has no record of {what}.")
    return parse_pubmed(pmid, record)


def medline_pages(pages: str) -> str:
    """MEDLINE's short page ranges in full: "351-4" → "351-354"."""
    match = re.fullmatch(r"(\d+)-(\d+)", pages)
    if not match or len(match[2]) >= len(match[1]):
        return pages
    start, end = match[1], match[2]
    return f"{start}-{start[: len(start) - len(end)]}{end}"


def medline_author(name: str) -> dict[str, str]:
    """ "Berman RM" → {"family": "Berman", "given": "R. M."}; a collective name stays literal."""
    family, _, initials = name.rpartition(" ")
    if family and initials.isupper() and initials.isalpha() and len(initials) <= 4:
        return {"family": family, "given": " ".join(f"{letter}." for letter in initials)}
    return {"literal": name}


def parse_pubmed(pmid: str, record: dict[str, Any]) -> Found:
    values: dict[str, Any] = {"pmid": pmid}
    if title := _first(record.get("title")).rstrip("."):
        values["title"] = title
    if journal := _first(record.get("fulljournalname") or record.get("source")):
        values["container_title"] = journal
    for name in ("volume", "issue"):
        if text := _first(record.get(name)):
            values[name] = text
    if pages := _first(record.get("pages")):
        values["pages"] = medline_pages(pages)
    authors = [
        medline_author(a["name"]) for a in record.get("authors") or [] if a.get("authtype", "Author") == "Author"
    ]
    if authors:
        values["authors"] = authors
    words = str(record.get("pubdate") or "").split()
    if words and words[0].isdigit():
        values["year"] = int(words[0])
        if len(words) > 1 and words[1] in _MONTHS:
            values["month"] = _MONTHS[words[1]]
            if len(words) > 2 and words[2].isdigit():
                values["day"] = int(words[2])
    for article_id in record.get("articleids") or []:
        if article_id.get("idtype") == "doi":
            try:
                values["doi"] = normalize_doi(article_id.get("value"))
            except IdentifierError:
                pass
    notices = [
        Notice(status, pubtype)
        for pubtype, status in PUBTYPE_STATUS.items()
        if pubtype in (record.get("pubtype") or [])
    ]
    return Found(PUBMED, f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/", values, notices)
