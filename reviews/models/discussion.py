"""The discussion of a claim among its editors and the reviewers who have submitted in its current round.

One thread per claim, across its review rounds: each comment records the round it was written in, and who
may read the thread is decided by the claim's current round (reviews.access.may_discuss), so a re-review
round is closed to a reviewer until they submit in it, as its reviews are. Never public.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from evidence.models import Claim


class Comment(models.Model):
    """One message in a claim's discussion. Its author may edit or delete it (reviews.services.discussion):
    every version is kept in its history, a deleted comment keeps its place in the thread with its text
    cleared, and the thread says "edited" or "deleted"."""

    # the longest comment the form takes: a few paragraphs, not a second review
    BODY_MAX = 5000

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="comments")
    # the claim's review round when the comment was written (Consensus.round; 1 before any review)
    round = models.PositiveSmallIntegerField()
    # what someone said is part of the record: their account cannot be deleted while it has comments
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claim_comments")
    body = models.TextField(max_length=BODY_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(round__gte=1), name="reviews_comment_round_positive"),
            # a comment says something until its author deletes it; a deleted one keeps no text (its history does)
            models.CheckConstraint(
                condition=(Q(deleted_at__isnull=True) & ~Q(body="")) | (Q(deleted_at__isnull=False) & Q(body="")),
                name="reviews_comment_body_unless_deleted",
            ),
        ]
        indexes = [
            # a claim's thread, oldest first (the editor's and the reviewer's claim pages)
            models.Index(fields=["claim", "created_at"], name="reviews_comment_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"Comment by {self.author} on claim {self.claim_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
