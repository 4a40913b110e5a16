"""Writes to reviews, consensus and flags: one keyword-only function per action, each in a transaction.

The review pages, the editor's desk, the admin and the API call these and nothing else, so the
rules hold whatever made the change: a review always refreshes its claim's consensus, an adjudication
always records who and why, a published verdict is always a snapshot of the decision at that moment.
By subject: flags, rounds (re-review), reviews, verdicts (adjudication and publication), bulk (many
actions at once, each at its own moment), readers (reader reports, reviewer profiles), discussion (comments
on a claim and the emails their mentions send), assignments (editors assigning reviewers, the due-date
reminders) and notifications (email, at once or in a digest).
"""

from reviews.services.assignments import (
    ArticleAssignment,
    article_assign,
    assignment_change_due,
    assignment_create,
    assignment_reassign,
    assignment_refusal,
    assignment_remove,
    assignments_remind_due,
    claim_assign,
    editors_of,
)
from reviews.services.bulk import (
    Adjudication,
    FlagClose,
    FlagRaise,
    Publication,
    ReviewSubmission,
    claims_adjudicate_bulk,
    consensus_refresh_bulk,
    flags_close_bulk,
    flags_raise_bulk,
    reviews_submit_bulk,
    verdicts_publish_bulk,
    verdicts_restore,
)
from reviews.services.discussion import (
    PostedComment,
    comment_delete,
    comment_edit,
    comment_post,
    discussion_notify_mentions,
    discussion_url,
)
from reviews.services.flags import (
    claims_flag_concern_reliance,
    claims_flag_retracted_reliance,
    concern_source_note,
    flag_close,
    flag_raise,
    retracted_source_note,
)
from reviews.services.notifications import (
    digests_send,
    notify,
    preferences_of,
    preferences_update,
    unsubscribe,
    unsubscribe_token,
    unsubscription_of,
)
from reviews.services.readers import reader_report_close, reader_report_submit, reviewer_profile_update
from reviews.services.reviews import SubmittedReview, review_delete, review_submit, review_upsert, review_values_checked
from reviews.services.rounds import ROUND_RESET, claims_send_back, current_round
from reviews.services.verdicts import PUBLISHED_FIELDS, claim_adjudicate, verdict_publish

__all__ = [
    "claim_assign",
    "ArticleAssignment",
    "article_assign",
    "assignment_change_due",
    "assignment_create",
    "assignment_reassign",
    "assignment_refusal",
    "assignment_remove",
    "assignments_remind_due",
    "editors_of",
    "digests_send",
    "notify",
    "preferences_of",
    "preferences_update",
    "unsubscribe",
    "unsubscribe_token",
    "unsubscription_of",
    "Adjudication",
    "claim_adjudicate",
    "claims_adjudicate_bulk",
    "claims_flag_concern_reliance",
    "claims_flag_retracted_reliance",
    "claims_send_back",
    "comment_delete",
    "comment_edit",
    "comment_post",
    "concern_source_note",
    "consensus_refresh_bulk",
    "current_round",
    "discussion_notify_mentions",
    "discussion_url",
    "flag_close",
    "flag_raise",
    "FlagClose",
    "FlagRaise",
    "flags_close_bulk",
    "flags_raise_bulk",
    "PostedComment",
    "Publication",
    "PUBLISHED_FIELDS",
    "reader_report_close",
    "reader_report_submit",
    "retracted_source_note",
    "review_delete",
    "review_submit",
    "review_upsert",
    "review_values_checked",
    "reviewer_profile_update",
    "reviews_submit_bulk",
    "ReviewSubmission",
    "ROUND_RESET",
    "SubmittedReview",
    "verdict_publish",
    "verdicts_publish_bulk",
    "verdicts_restore",
]
