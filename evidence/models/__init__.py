"""Articles, the claims they make, the studies that bear on them, and the links between the two.

Invariants a single row must satisfy live here as named database constraints, so that the admin, the
importers and the API cannot store what the product would be unable to show. This is evidence's own
domain: it knows nothing of the review workflow (reviews builds on it; evidence.signals says what changed).
By subject: choices (the vocabularies and the rules on single values), library (articles, claims,
studies, citations and the named rules readers and queues share), jobs (background imports and retraction
checks), pages (the site's own texts).
"""

from evidence.models.choices import (
    RELATION_VERBS,
    RELIANT_RELATIONS,
    AnchorState,
    ClaimKind,
    ClaimStatus,
    ClaimType,
    Directness,
    Relation,
    RetractionStatus,
    StudyDesign,
    choices_check,
    sees_internal_notes,
    validate_csl_names,
)
from evidence.models.jobs import ImportJob, JobState, RetractionChange, RetractionCheck
from evidence.models.library import (
    Article,
    ArticleRevision,
    Citation,
    CitationQuerySet,
    Claim,
    ClaimManager,
    ClaimQuerySet,
    DataVersion,
    PageVersion,
    Study,
    WithoutSearchVector,
    subquery_count,
)
from evidence.models.pages import SitePage

__all__ = [
    "AnchorState",
    "Article",
    "ArticleRevision",
    "choices_check",
    "Citation",
    "CitationQuerySet",
    "Claim",
    "ClaimKind",
    "ClaimManager",
    "ClaimQuerySet",
    "ClaimStatus",
    "ClaimType",
    "DataVersion",
    "Directness",
    "ImportJob",
    "JobState",
    "PageVersion",
    "Relation",
    "RELATION_VERBS",
    "RELIANT_RELATIONS",
    "RetractionChange",
    "RetractionCheck",
    "RetractionStatus",
    "sees_internal_notes",
    "SitePage",
    "Study",
    "StudyDesign",
    "subquery_count",
    "validate_csl_names",
    "WithoutSearchVector",
]
