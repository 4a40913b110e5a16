"""Reviewers' ratings of claims, the consensus and published verdicts, editors' flags, readers' reports,
the discussion of each claim.

By subject: ratings (reviews, their GRADE ratings and declarations, and who may read them), verdicts (the
per-claim consensus, the decision that counts, review rounds and numbered verdict versions), flags,
readers (reader reports, reviewer profiles), discussion (comments on a claim, not public), and
assignments (editors assigning reviewers, and the email notifications people receive).
"""

from reviews.models.assignments import (
    AssignmentStatus,
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreference,
    ReviewAssignment,
    ReviewAssignmentQuerySet,
)
from reviews.models.discussion import Comment
from reviews.models.flags import Flag, FlagQuerySet, FlagReason, FlagStatus
from reviews.models.ratings import (
    DOWNGRADE_REASONS,
    UPGRADE_REASONS,
    Certainty,
    Conflict,
    Review,
    ReviewQuerySet,
    Verdict,
    evidence_changed_since_review,
    reviews_are_public,
)
from reviews.models.readers import ReaderReport, ReaderReportKind, ReaderReportStatus, ReviewerProfile, public_profile
from reviews.models.verdicts import (
    Consensus,
    ConsensusQuerySet,
    Decision,
    ReviewRound,
    VerdictVersion,
    consensus_of,
    decision,
    decision_expressions,
    readjudication_needed,
)

__all__ = [
    "AssignmentStatus",
    "Delivery",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "ReviewAssignment",
    "ReviewAssignmentQuerySet",
    "Certainty",
    "Comment",
    "Conflict",
    "Consensus",
    "consensus_of",
    "ConsensusQuerySet",
    "Decision",
    "decision",
    "decision_expressions",
    "DOWNGRADE_REASONS",
    "evidence_changed_since_review",
    "Flag",
    "FlagQuerySet",
    "FlagReason",
    "FlagStatus",
    "ReaderReport",
    "ReaderReportKind",
    "ReaderReportStatus",
    "readjudication_needed",
    "Review",
    "ReviewerProfile",
    "public_profile",
    "ReviewQuerySet",
    "ReviewRound",
    "reviews_are_public",
    "UPGRADE_REASONS",
    "Verdict",
    "VerdictVersion",
]
