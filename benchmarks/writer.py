"""The "under writes" phase's writer: one committed change a second, through the services, while wrk reads.

``python -m benchmarks.writer`` (benchmarks/phases.py starts it with the server's settings and stops it with
SIGTERM) cycles through what people do while readers read:

- a reviewer submits (or revises) a review: reviews.services.review_upsert;
- an editor raises a flag on a claim: reviews.services.flag_raise;
- an editor edits a citation's note: evidence.services.citations.citation_update;
- a curator corrects a study's metadata (a title's final full stop): evidence.services.studies.study_update;
- and once a minute, instead of the step due, an editor publishes a verdict: reviews.services.verdict_publish.

Some of these change what readers see (a flag, a note, a title, a verdict) and some do not (a blind review),
which is what scoped invalidation is measured on. The writer draws its rows with a fixed seed and deletes
nothing, so the read mixes' paths stay valid. On SIGTERM it prints one JSON line: how many of each it made.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

REVIEW, FLAG, NOTE, STUDY, PUBLISH = (
    "review submitted",
    "flag raised",
    "citation note edited",
    "study corrected",
    ("verdict published"),
)
CYCLE = (REVIEW, FLAG, NOTE, STUDY)
# Flags an editor raises by hand (the others are the system's, raised when a study is retracted)
EDITOR_FLAG_REASONS = ("unsupported", "overstated", "misattributed", "source_mismatch", "outdated")
ATTEMPTS = 20


class Writer:
    """Makes one change per step(); ``publish_every``-th steps publish a verdict."""

    def __init__(self, seed: int = 7, publish_every: int = 60) -> None:
        from django.contrib.auth.models import User

        from evidence.models import Claim

        self.rng = random.Random(seed)
        self.publish_every = publish_every
        self.claim_ids = list(Claim.objects.order_by("pk").values_list("pk", flat=True))
        self.reviewers = list(User.objects.filter(groups__name="Reviewers").order_by("pk"))
        self.editors = list(User.objects.filter(groups__name="Editors").order_by("pk"))
        if not (self.claim_ids and self.reviewers and self.editors):
            raise SystemExit("The writer needs claims, reviewers and editors: load the data set first.")
        self.made: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    def action(self, number: int) -> str:
        """What step ``number`` (from 0) does."""
        if self.publish_every and number % self.publish_every == self.publish_every - 1:
            return PUBLISH
        return CYCLE[number % len(CYCLE)]

    def step(self, number: int) -> str:
        """Make step ``number``'s change, committed; returns what it was (or "… refused" when every row tried
        was refused by the services' rules, which the writer counts and moves past)."""
        from django.core.exceptions import ValidationError

        name = self.action(number)
        perform: Callable[[], None] = {
            REVIEW: self.submit_review,
            FLAG: self.raise_flag,
            NOTE: self.edit_note,
            STUDY: self.correct_study,
            PUBLISH: self.publish_verdict,
        }[name]
        for _ in range(ATTEMPTS):
            try:
                perform()
            except (ValidationError, LookupError):
                continue
            self.made[name] += 1
            return name
        self.refused[name] += 1
        return f"{name} refused"

    def _claim(self) -> Any:
        from evidence.models import Claim

        return Claim.objects.get(pk=self.rng.choice(self.claim_ids))

    def submit_review(self) -> None:
        from reviews.grade import EvidenceDesign, Grading
        from reviews.models import Conflict, Verdict
        from reviews.services import review_upsert

        review_upsert(
            claim=self._claim(),
            reviewer=self.rng.choice(self.reviewers),
            certainty="",  # the one the GRADE ratings give
            verdict=self.rng.choice(Verdict.values),
            rationale="Rated by the benchmark's writer against the cited studies.",
            grading=Grading(evidence_design=EvidenceDesign.RANDOMISED),
            conflict_of_interest=Conflict.NONE,
        )

    def raise_flag(self) -> None:
        from reviews.services import flag_raise

        flag_raise(
            claim=self._claim(),
            reason=self.rng.choice(EDITOR_FLAG_REASONS),
            note="Raised by the benchmark's writer.",
            raised_by=self.rng.choice(self.editors),
        )

    def edit_note(self) -> None:
        from evidence.models import Citation
        from evidence.services.citations import citation_update

        citation = Citation.objects.filter(claim_id=self.rng.choice(self.claim_ids)).order_by("pk").first()
        if citation is None:
            raise LookupError("a claim without citations")
        note = f"Checked against the full text (benchmark writer, change {sum(self.made.values()) + 1})."
        citation_update(citation=citation, values={"note": note}, user=self.rng.choice(self.editors))

    def correct_study(self) -> None:
        from evidence.models import Citation, Study
        from evidence.services.studies import study_update

        # a cited study, so that the correction reaches claim pages as well as its own
        citation = Citation.objects.filter(claim_id=self.rng.choice(self.claim_ids)).order_by("pk").first()
        if citation is None:
            raise LookupError("a claim without citations")
        study = Study.objects.get(pk=citation.study_id)
        title = study.title.removesuffix(".") if study.title.endswith(".") else f"{study.title}."
        study_update(study=study, values={"title": title}, user=self.rng.choice(self.editors))

    def publish_verdict(self) -> None:
        from reviews.queues import ready_to_publish
        from reviews.services import verdict_publish

        # ready_to_publish() is publish_blockers() in SQL for an editor who did not review the claim; the
        # service checks the editor drawn and refuses (ValidationError) if they did, and another is drawn
        candidates = list(ready_to_publish().order_by("pk").values_list("pk", flat=True)[:200])
        if not candidates:
            raise LookupError("no claim is ready to publish")
        from evidence.models import Claim

        verdict_publish(
            claim=Claim.objects.get(pk=self.rng.choice(candidates)),
            published_by=self.rng.choice(self.editors),
            rationale="Published by the benchmark's writer.",
        )

    def run(self, interval: float, stop: Callable[[], bool]) -> None:
        """One step every ``interval`` seconds (on a fixed schedule, not after each step) until stop()."""
        started = time.monotonic()
        number = 0
        while not stop():
            self.step(number)
            number += 1
            delay = started + number * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def main() -> None:
    import django

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_settings")
    django.setup()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    writer = Writer(
        seed=int(os.environ.get("BENCH_WRITER_SEED", "7")),
        publish_every=int(os.environ.get("BENCH_WRITER_PUBLISH_EVERY", "60")),
    )
    started = time.monotonic()
    writer.run(float(os.environ.get("BENCH_WRITER_INTERVAL", "1")), lambda: bool(stopping))
    seconds = time.monotonic() - started
    # the one line the benchmark reads back
    print(json.dumps({"seconds": round(seconds, 1), "made": writer.made, "refused": writer.refused}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
