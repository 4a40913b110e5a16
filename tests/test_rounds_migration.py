"""reviews/migrations/0005: existing reviews are round 1, each published verdict becomes verdict 1, and a
published claim that was back in review goes into round 2 with the reviews saved since its publication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


def evidence_latest() -> list[tuple[str, str]]:
    """evidence's latest migration: its tables stay as they are now (no evidence migration depends on
    reviews), so the historical models must have all their columns."""
    return [node for node in MigrationExecutor(connection).loader.graph.leaf_nodes() if node[0] == "evidence"]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_publications_become_verdict_1_and_a_claim_back_in_review_round_2():
    apps = migrate([("reviews", "0004_review_queue_index"), *evidence_latest()])
    try:
        User = apps.get_model("auth", "User")
        Article = apps.get_model("evidence", "Article")
        Claim = apps.get_model("evidence", "Claim")
        Review = apps.get_model("reviews", "Review")
        Consensus = apps.get_model("reviews", "Consensus")
        editor = User.objects.create(username="migration-editor")
        reviewers = [User.objects.create(username=f"migration-reviewer-{i}") for i in range(2)]
        article = Article.objects.create(slug="migration", title="Migration", text="One. Two. Three.")
        published_at = timezone.now() - timedelta(days=10)
        claims = {}
        for key, status, start in (("STAYS", "published", 0), ("BACK", "in_review", 5), ("NEVER", "in_review", 10)):
            claims[key] = Claim.objects.create(
                article=article,
                key=key,
                quote=article.text[start : start + 4],
                start=start,
                end=start + 4,
                claim_type="efficacy",
                status=status,
            )
            for reviewer in reviewers:
                Review.objects.create(
                    claim=claims[key], reviewer=reviewer, certainty="moderate", verdict="supported", rationale="Why."
                )
        for key in ("STAYS", "BACK"):
            Consensus.objects.create(
                claim=claims[key],
                n_reviews=2,
                certainty="moderate",
                verdict="supported",
                published_certainty="moderate",
                published_verdict="supported",
                published_rationale="Published.",
                published_by=editor,
                published_at=published_at,
            )
        # BACK's first reviewer re-reviewed after the publication (it was sent back)
        Review.objects.filter(claim=claims["BACK"], reviewer=reviewers[0]).update(updated_at=timezone.now())
        Review.objects.exclude(claim=claims["BACK"], reviewer=reviewers[0]).update(
            updated_at=published_at - timedelta(days=1)
        )

        apps = migrate([("reviews", "0005_rounds_and_verdict_versions"), *evidence_latest()])
        Review = apps.get_model("reviews", "Review")
        Consensus = apps.get_model("reviews", "Consensus")
        VerdictVersion = apps.get_model("reviews", "VerdictVersion")
        ReviewRound = apps.get_model("reviews", "ReviewRound")
        for key in ("STAYS", "BACK"):
            version = VerdictVersion.objects.get(claim_id=claims[key].pk)
            assert (version.number, version.round, version.verdict, version.n_reviews) == (1, 1, "supported", 2)
            assert version.published_at == published_at and version.published_by_id == editor.pk
            assert Consensus.objects.get(claim_id=claims[key].pk).published_version_id == version.pk
        assert not VerdictVersion.objects.filter(claim_id=claims["NEVER"].pk).exists()
        assert Consensus.objects.get(claim_id=claims["STAYS"].pk).round == 1
        assert Consensus.objects.get(claim_id=claims["BACK"].pk).round == 2
        assert ReviewRound.objects.get().claim_id == claims["BACK"].pk
        rounds = dict(Review.objects.filter(claim_id=claims["BACK"].pk).values_list("reviewer_id", "round"))
        assert rounds == {reviewers[0].pk: 2, reviewers[1].pk: 1}
        assert set(Review.objects.exclude(claim_id=claims["BACK"].pk).values_list("round", flat=True)) == {1}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
