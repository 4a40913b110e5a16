"""The benchmark's harness (benchmarks/mixes.py, benchmarks/writer.py) on a tiny generated library: the read
mixes are the same paths for the same seed, and each of the writer's changes is made by the services (seen
in what only they do: history with its reason, the consensus refreshed, evidence_changed_at, a verdict
version)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from benchmarks import mixes
from benchmarks.dataset.command import Command
from benchmarks.writer import CYCLE, FLAG, NOTE, PUBLISH, REVIEW, STUDY, Writer
from evidence.models import Citation, Claim, Study
from reviews.models import Flag, Review, VerdictVersion


@pytest.fixture
def library(make_user) -> None:
    """A tiny synthetic library (make_user recreates the roles' groups after a flushing test)."""
    call_command(Command(), articles=2, claims=30, studies=50, reviews=40, seed=3, stdout=io.StringIO())


def test_the_mixes_are_the_same_paths_for_the_same_seed(library, client):
    first = mixes.draw(seed=5, size=20)
    assert first == mixes.draw(seed=5, size=20)
    assert first != mixes.draw(seed=6, size=20)
    assert set(first) == set(mixes.MIXES)
    claims, studies, lists = (first[name] for name in mixes.MIXES)
    assert len(claims) == len(set(claims)) == 20
    assert all(path.startswith("/claims/") and path.removeprefix("/claims/").rstrip("/").isdigit() for path in claims)
    cited = set(Citation.objects.values_list("study_id", flat=True))
    assert {int(path.split("/")[2]) for path in studies} <= cited
    assert len(lists) == len(set(lists)) == 20
    assert all(path.startswith(("/claims/?", "/studies/?")) for path in lists)
    for path in (claims[0], studies[0], *lists[:5]):
        assert client.get(path).status_code == 200, path


def test_the_writer_changes_through_the_services(library):
    writer = Writer(seed=1, publish_every=len(CYCLE) + 1)
    assert [writer.action(n) for n in range(len(CYCLE) + 1)] == [*CYCLE, PUBLISH]
    reviews_before = Review.history.count()
    flags_before = Flag.objects.count()
    versions_before = VerdictVersion.objects.count()

    assert writer.step(0) == REVIEW
    submitted = Review.history.order_by("-history_date", "-history_id").first()
    assert Review.history.count() == reviews_before + 1
    reason = submitted.history_change_reason
    assert reason in ("submitted", "confirmed unchanged") or reason.startswith("revised")
    # review_upsert refreshes the claim's consensus
    assert Claim.objects.get(pk=submitted.claim_id).consensus.n_reviews >= 1

    assert writer.step(1) == FLAG
    assert Flag.objects.count() == flags_before + 1

    assert writer.step(2) == NOTE
    edited = Citation.objects.filter(note__contains="benchmark writer").get()
    # citation_update marks the claim's evidence as changed; a plain save would not
    assert Claim.objects.get(pk=edited.claim_id).evidence_changed_at is not None
    assert edited.history.first().history_user is not None

    assert writer.step(3) == STUDY
    corrected = Study.history.order_by("-history_date", "-history_id").first()
    assert corrected.history_user is not None
    previous = corrected.prev_record
    assert previous is not None and previous.title != corrected.title
    assert previous.title.rstrip(".") == corrected.title.rstrip(".")  # a full stop added or removed

    published = writer.step(4)
    assert published in (PUBLISH, f"{PUBLISH} refused")
    if published == PUBLISH:
        assert VerdictVersion.objects.count() == versions_before + 1
    assert sum(writer.made.values()) + sum(writer.refused.values()) == 5


def test_the_cold_cache_keeps_nothing_but_counters():
    from benchmarks.cold_cache import ColdCache

    cold = ColdCache("bench-cold-test", {})
    cold.set("page", "rendered")
    cold.set_many({"reference": "formatted"})
    assert cold.get("page") is None and cold.get_many(["reference"]) == {}
    assert cold.get_or_set("aggregate", lambda: 42) == 42 and cold.get("aggregate") is None
    # request rates and sign-in reservations still count (evidence/ratelimit.py, evidence/signin.py)
    assert cold.add("counter", 0)
    assert cold.incr("counter") == 1
