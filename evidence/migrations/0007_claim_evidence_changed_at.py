"""Claim.evidence_changed_at: when a claim's evidence last changed, for the reviewer's queue.

"Evidence changed since my review" used to be three EXISTS subqueries per review (a citation touched, a
citation deleted, a cited study's retraction status as of the review, read from the studies' history),
evaluated for every review the reviewer ever wrote: 180 ms for the median reviewer of the benchmark's
library, 700 ms for the busiest (docs/performance.md). Now the services stamp the claim when its evidence
changes (ClaimQuerySet.mark_evidence_changed) and the queue compares two columns.

The existing rows are filled from what the old rule read, so every review keeps its mark: the latest of
- a citation of the claim added or edited (its updated_at),
- a citation of the claim removed (a "-" row of the citations' history),
- a change of retraction status of a study the claim cites (consecutive rows of the studies' history
  with different statuses),
- the claim sent back for re-review (its history entering needs_rereview; for a claim in that status
  now, its updated_at, which is what the old rule compared).
Plain ORM reads and a bulk update, so it runs the same on SQLite: 6 s for the benchmark's 20,000 claims.
The queue's indexes come after (reviews/migrations/0004 has the reviews' one).
"""

from datetime import datetime

from django.db import migrations, models
from django.db.models import Max

NEEDS_REREVIEW = "needs_rereview"


def evidence_changes(claims, citations, citation_history, study_history, claim_history) -> dict[int, datetime]:
    """Claim id → the last moment its evidence changed, read from these models (the migration's
    historical ones, or the real ones: tests/test_reviews_services.py checks the data set generator)."""
    latest: dict[int, datetime] = {}

    def seen(claim_id: int, when: datetime | None) -> None:
        if when is not None and (claim_id not in latest or when > latest[claim_id]):
            latest[claim_id] = when

    touched = citations.objects.order_by().values("claim_id").annotate(at=Max("updated_at"))
    for claim_id, when in touched.values_list("claim_id", "at"):
        seen(claim_id, when)
    removed = citation_history.objects.filter(history_type="-").order_by().values("claim_id")
    for claim_id, when in removed.annotate(at=Max("history_date")).values_list("claim_id", "at"):
        seen(claim_id, when)

    # the last moment each study's retraction status changed
    status_changed: dict[int, datetime] = {}
    previous: tuple[int, str] | None = None
    versions = study_history.objects.order_by("id", "history_date", "history_id").values_list(
        "id", "history_date", "retraction_status"
    )
    for study_id, when, status in versions.iterator(chunk_size=10_000):
        if previous is not None and previous[0] == study_id and previous[1] != status:
            status_changed[study_id] = when
        previous = (study_id, status)
    if status_changed:
        for claim_id, study_id in citations.objects.order_by().values_list("claim_id", "study_id"):
            seen(claim_id, status_changed.get(study_id))

    # sent back for re-review: each time the claim's history enters that status
    previous = None
    versions = claim_history.objects.order_by("id", "history_date", "history_id").values_list(
        "id", "history_date", "status"
    )
    for claim_id, when, status in versions.iterator(chunk_size=10_000):
        if status == NEEDS_REREVIEW and previous != (claim_id, NEEDS_REREVIEW):
            seen(claim_id, when)
        previous = (claim_id, status)
    for claim_id, when in claims.objects.filter(status=NEEDS_REREVIEW).values_list("id", "updated_at"):
        seen(claim_id, when)
    existing = set(claims.objects.values_list("pk", flat=True))  # a removed citation may name a deleted claim
    return {pk: when for pk, when in latest.items() if pk in existing}


def fill(apps, schema_editor):
    Claim = apps.get_model("evidence", "Claim")
    latest = evidence_changes(
        Claim,
        apps.get_model("evidence", "Citation"),
        apps.get_model("evidence", "HistoricalCitation"),
        apps.get_model("evidence", "HistoricalStudy"),
        apps.get_model("evidence", "HistoricalClaim"),
    )
    rows = [Claim(pk=pk, evidence_changed_at=when) for pk, when in latest.items()]
    Claim.objects.bulk_update(rows, ["evidence_changed_at"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0006_stored_search_vectors")]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="evidence_changed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        # after the fill, which would otherwise update them row by row; what each serves: Claim.Meta.indexes
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                condition=models.Q(("status", "published"), _negated=True),
                fields=["id", "status", "article", "start"],
                name="evidence_claim_unpublished_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["id", "evidence_changed_at"], name="evidence_claim_changed_idx"),
        ),
    ]
