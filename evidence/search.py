"""Text search over claims and studies: the one place that knows which database it runs on.

On PostgreSQL, full-text search (``websearch_to_tsquery``, so readers can type "ketamine -mdma" or
"quoted phrases") over the ``search_vector`` columns, which triggers keep current and GIN indexes serve
(a test checks the query plan): a claim's quote, evidence note, section and its article's title, ranked
in that order (migration 0009; a title change rewrites its claims' vectors); a study's title, authors
and journal (migrations 0006 and 0011). Names are not English words: a study's authors are indexed with
the ``simple`` configuration, unaccented, and the query is read that way too (OR'ed with the English,
stemmed reading, which the title and journal are also indexed in), so "Lodge" finds Lodge, where the
English reading alone looked for "lodg". On SQLite, the zero-setup development database, every word must appear
in one of the same fields.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField, Value

from evidence.identifiers import IdentifierError, normalize_doi

# Longest query we search for; longer input is cut at a word boundary rather than refused.
MAX_QUERY_LENGTH = 200


def clean_query(raw: str | None) -> str:
    """Trim whitespace and over-long input; "" means no search."""
    text = " ".join((raw or "").split())
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH].rsplit(" ", 1)[0]
    return text


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"\W+", text) if word]


def search_claims(claims: QuerySet, raw: str | None, *, rank: bool = True) -> QuerySet:
    query = clean_query(raw)
    if not query:
        return claims
    if is_postgres():
        search = SearchQuery(query, config="english", search_type="websearch")
        claims = claims.filter(search_vector=search)
        return claims.annotate(rank=SearchRank(F("search_vector"), search)).order_by("-rank", "pk") if rank else claims
    condition = Q()
    for word in _words(query):
        condition &= (
            Q(quote__icontains=word)
            | Q(evidence_note__icontains=word)
            | Q(section__icontains=word)
            | Q(article__title__icontains=word)
        )
    return claims.filter(condition)


def search_studies(studies: QuerySet, raw: str | None, *, rank: bool = True) -> QuerySet:
    """Title, authors and journal by full text; a DOI or PMID by exact match."""
    query = clean_query(raw)
    if not query:
        return studies
    try:
        doi = normalize_doi(query) if "10." in query else ""
    except IdentifierError:
        doi = ""
    if doi:
        return studies.filter(doi=doi)
    pmid = query.lower().removeprefix("pmid:").strip()
    if pmid.isdigit():
        return studies.filter(pmid=pmid.lstrip("0"))
    if is_postgres():
        search = SearchQuery(query, config="english", search_type="websearch") | SearchQuery(
            Func(Value(query), function="evidence_unaccent", output_field=TextField()),
            config="simple",
            search_type="websearch",
        )
        studies = studies.filter(search_vector=search)
        return (
            studies.annotate(rank=SearchRank(F("search_vector"), search)).order_by("-rank", "pk") if rank else studies
        )
    condition = Q()
    for word in _words(query):
        condition &= Q(title__icontains=word) | Q(container_title__icontains=word) | Q(authors__icontains=word)
    return studies.filter(condition)
