"""What the API shows of each record, and what it accepts. Input validation and shaping only: every
write is a call to evidence.services or reviews.services (views.py).

Readers see what the pages show them: a claim's consensus only once its verdict is published (and then
only the published snapshot and how far reviewers agreed), flags without who raised them, reviews with
the reviewer's display name. Nothing here runs a query: the views' querysets load what is shown.
By subject: library (articles and studies), claims (claims, their citations, published verdicts and
flags), reviews (reviews, decisions, publication, sign-in tokens).
"""

from evidence.api.serializers.claims import (
    AnchorSerializer,
    CitationCreateSerializer,
    CitationSerializer,
    CitationUpdateSerializer,
    ClaimDetailSerializer,
    ClaimSerializer,
    EditorConsensusSerializer,
    EvidenceCountsSerializer,
    FlagCloseSerializer,
    FlagRaiseSerializer,
    FlagSerializer,
    PublishedConsensusSerializer,
    RereviewSerializer,
    VerdictVersionSerializer,
    published_consensus,
)
from evidence.api.serializers.library import (
    STUDY_FIELDS,
    ArticleDetailSerializer,
    ArticleSerializer,
    CitingClaimSerializer,
    StudyDetailSerializer,
    StudySerializer,
    StudySummarySerializer,
    StudyWriteSerializer,
    absolute_url,
)
from evidence.api.serializers.reviews import (
    DecisionSerializer,
    PublishSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)

__all__ = [
    "absolute_url",
    "AnchorSerializer",
    "ArticleDetailSerializer",
    "ArticleSerializer",
    "CitationCreateSerializer",
    "CitationSerializer",
    "CitationUpdateSerializer",
    "CitingClaimSerializer",
    "ClaimDetailSerializer",
    "ClaimSerializer",
    "DecisionSerializer",
    "EditorConsensusSerializer",
    "EvidenceCountsSerializer",
    "FlagCloseSerializer",
    "FlagRaiseSerializer",
    "FlagSerializer",
    "published_consensus",
    "PublishedConsensusSerializer",
    "PublishSerializer",
    "RereviewSerializer",
    "ReviewSerializer",
    "ReviewWriteSerializer",
    "STUDY_FIELDS",
    "StudyDetailSerializer",
    "StudySerializer",
    "StudySummarySerializer",
    "StudyWriteSerializer",
    "TokenRequestSerializer",
    "TokenSerializer",
    "VerdictVersionSerializer",
]
