"""Red-team defects that only show under concurrency (issue 17): requests racing each other over real
PostgreSQL connections, each thread with its own, released together (tests.test_concurrency.run_together)."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from reviews.models import Review
from tests.reviewing import article_with_claims
from tests.test_concurrency import run_together


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL (CI uses it)")


# --- 27: created or updated, decided under the claim's lock ----------------------------------------------


def test_concurrent_puts_of_one_review_answer_201_once(make_user):
    """Twenty PUTs of the same reviewer's review at once (a retrying script, a double submit): one row, so
    exactly one answer may say it was created (201), whichever got the claim's lock first; the rest 200."""
    claims = article_with_claims(3).claims.order_by("pk")
    reviewer = make_user("Reviewers")
    for claim in claims:

        def put(n: int, claim=claim) -> int:
            client = APIClient()
            client.force_authenticate(reviewer)
            body = {"certainty": "moderate", "verdict": "supported", "rationale": f"Submission {n}."}
            return client.put(f"/api/claims/{claim.pk}/review/", body, format="json").status_code

        statuses = run_together(*(lambda n=n: put(n) for n in range(20)))
        assert sorted(statuses) == [200] * 19 + [201], statuses
        assert Review.objects.filter(claim=claim, reviewer=reviewer).count() == 1
