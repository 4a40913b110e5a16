"""Every write with side effects to articles, claims, studies and citations: one keyword-only function per
action, in a transaction. Views, the admin, the API, management commands and imports call these and
nothing else, so a rule such as "a retracted study flags the claims relying on it" holds whatever made
the change. Each write saves only what changed, so repeating an import adds no history entries.

By subject: ``studies`` (matching, creating, editing), ``citations``, ``retractions``, ``articles``
(adding, editing, revisions, article files), ``claims`` (placing one in the text, editing it, re-anchoring an orphan),
``bibliography`` (BibTeX, RIS and CSL-JSON files), ``reports`` (what an import did) and ``pages`` (the site's
own pages editors keep, /about/). What a write
means for the review workflow travels by evidence.signals.
"""

from evidence.services.articles import (
    ArticleImportRejected,
    article_create,
    article_delete,
    article_import,
    article_revise,
    article_update,
)
from evidence.services.bibliography import BibliographyRejected, bibliography_import
from evidence.services.bulk import (
    articles_create_bulk,
    citations_create_bulk,
    studies_create_bulk,
    studies_set_retraction_bulk,
)
from evidence.services.citations import citation_create, citation_delete, citation_update
from evidence.services.claims import (
    claim_accept_suggestion,
    claim_anchor,
    claim_create,
    claim_delete,
    claim_mark,
    claim_requote,
    claim_update,
)
from evidence.services.pages import site_page_update
from evidence.services.reports import ImportReport, ReportLine
from evidence.services.restore import articles_restore, citations_restore, claims_restore, studies_restore
from evidence.services.retractions import retractions_import, study_set_retraction
from evidence.services.studies import (
    normalize_title,
    study_create,
    study_match,
    study_title_key,
    study_update,
    study_upsert,
    title_keys,
)

__all__ = [
    "ArticleImportRejected",
    "BibliographyRejected",
    "ImportReport",
    "ReportLine",
    "article_create",
    "article_delete",
    "article_import",
    "article_revise",
    "article_update",
    "articles_create_bulk",
    "articles_restore",
    "bibliography_import",
    "citation_create",
    "citation_delete",
    "citation_update",
    "citations_create_bulk",
    "citations_restore",
    "claim_accept_suggestion",
    "claim_anchor",
    "claim_create",
    "claim_delete",
    "claim_mark",
    "claim_requote",
    "claim_update",
    "claims_restore",
    "normalize_title",
    "retractions_import",
    "site_page_update",
    "studies_create_bulk",
    "studies_restore",
    "studies_set_retraction_bulk",
    "study_create",
    "study_match",
    "study_set_retraction",
    "study_title_key",
    "study_update",
    "study_upsert",
    "title_keys",
]
