"""What a claim's reviews add up to, and how far reviewers agree: computed here and nowhere else.

Every page, the admin and the API read the result from the :class:`~reviews.models.Consensus`
row that :func:`consensus_refresh` writes, or from :func:`decision` for the verdict that counts.

The rules, each pinned by tests/test_consensus.py:

* **Median certainty** over the ordinal ranks very low = 1 … high = 4. With an even number of reviews
  the median is the midpoint of the two middle ranks *rounded down*: the lower, more conservative level.
  Low and high give moderate; low and moderate give low. GRADE never rounds certainty up.
* **Majority verdict**: the verdict given most often. When two or more verdicts tie for most votes, the
  one least favourable to the claim wins (supported → partly supported → unsupported → contradicted):
  the claim is what is under test, so a split never makes it look better supported than half of its
  reviewers judged. A split is also a dispute, so the claim is on the editor's desk for adjudication.
* **Spread**: highest certainty rank minus lowest. **Disputed**: spread of two levels or more, or the
  verdicts split.
* **Decision**: an editor's adjudication, when there is one, replaces the median and the majority.
* **Agreement**: Krippendorff's alpha for certainty at the ordinal level, per article, over the claims
  that at least two reviewers rated. It is *undefined* (None, shown as such) when no claim has two
  reviews, or when every one of those reviews gave the same certainty (alpha is then 0/0). It is
  computed from any number of claims, but *reported* only from ALPHA_MIN_CLAIMS of them: below that the
  pages say "not enough data" (Agreement.enough_data).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from evidence.models import Claim
from reviews.access import PUBLISH_REFUSAL, current_round_reviewers
from reviews.models import Certainty, Consensus, Review, Verdict

# Reviews a claim needs before its consensus is ready to publish without adjudication: GRADE asks for
# at least two independent reviewers.
REVIEWS_REQUIRED = 2

# Most favourable to the claim first; a tie goes to the later one (see the module docstring).
VERDICT_ORDER: tuple[str, ...] = (
    Verdict.SUPPORTED,
    Verdict.PARTLY_SUPPORTED,
    Verdict.UNSUPPORTED,
    Verdict.CONTRADICTED,
)

# Certainties this many ranks apart make a claim disputed.
DISPUTED_SPREAD = 2

# Claims rated by two or more reviewers that alpha must rest on before a page shows it. From fewer, one
# review swings it across the scale: a single claim rated moderate and very low gives 0.000, which reads
# as "no better than chance" when it says nothing at all.
ALPHA_MIN_CLAIMS = 5

_BY_RANK = {Certainty.rank(value): value for value in Certainty.values}


# --- Pure functions over review values ------------------------------------------------------------------


def median_certainty(certainties: Sequence[str]) -> str:
    """The median certainty; with an even count, the lower of the two middle levels' midpoint."""
    if not certainties:
        return ""
    ranks = sorted(Certainty.rank(value) for value in certainties)
    middle = len(ranks) // 2
    if len(ranks) % 2:
        return _BY_RANK[ranks[middle]]
    # floor division rounds a half-level midpoint down, towards less certainty
    return _BY_RANK[(ranks[middle - 1] + ranks[middle]) // 2]


def majority_verdict(verdicts: Sequence[str]) -> str:
    """The most frequent verdict; a tie for most goes to the verdict least favourable to the claim."""
    if not verdicts:
        return ""
    counts = Counter(Verdict(value) for value in verdicts)
    top = max(counts.values())
    tied = [verdict for verdict, n in counts.items() if n == top]
    return max(tied, key=VERDICT_ORDER.index)


def certainty_spread(certainties: Sequence[str]) -> int:
    """Levels between the highest and the lowest certainty given (0 for one review or none)."""
    if not certainties:
        return 0
    ranks = [Certainty.rank(value) for value in certainties]
    return max(ranks) - min(ranks)


@dataclass(frozen=True)
class ConsensusValues:
    """What the reviews of one claim add up to; the columns of Consensus that reviews determine."""

    n_reviews: int
    certainty: str
    verdict: str
    certainty_spread: int
    verdict_split: bool
    disputed: bool


def compute(ratings: Iterable[tuple[str, str]]) -> ConsensusValues:
    """Consensus of (certainty, verdict) pairs, one per review."""
    ratings = list(ratings)
    certainties = [certainty for certainty, _ in ratings]
    verdicts = [verdict for _, verdict in ratings]
    spread = certainty_spread(certainties)
    split = len(set(verdicts)) > 1
    return ConsensusValues(
        n_reviews=len(ratings),
        certainty=median_certainty(certainties),
        verdict=majority_verdict(verdicts),
        certainty_spread=spread,
        verdict_split=split,
        disputed=spread >= DISPUTED_SPREAD or split,
    )


def publish_blockers(
    claim: Claim,
    consensus: Consensus | None,
    *,
    publisher: AbstractBaseUser | None = None,
    reviewers: Collection[int] | None = None,
) -> list[str]:
    """Why a claim's verdict cannot be published yet (by ``publisher``, when given); empty when it can.

    A claim sent back for re-review waits for a reviewer or an editor to look again. Otherwise:
    - separation of duties: nobody publishes a claim they reviewed in its current round, and an
      adjudication by one of its reviewers does not count (an editor who did not review it decides again);
    - a verdict needs REVIEWS_REQUIRED independent reviews by people other than the publisher, adjudicated
      or not: an adjudication settles what reviewers said, it does not stand in for them;
    - an adjudicated claim can be published unless a review changed since and the reviewers still
      disagree (it is back on the desk to adjudicate again); an unadjudicated one needs reviews that do
      not dispute each other.
    ``reviewers`` are the primary keys of the claim's current-round reviewers
    (reviews.access.current_round_reviewers), looked up here (one query) when a publisher or an
    adjudicator is to be checked and they are not given. queues.ready_to_publish() is the same rule in
    SQL, for any publisher who did not review the claim.
    """
    if claim.anchor_state == Claim.AnchorState.ORPHANED:
        return ["its quote is no longer in the article's text; an editor must re-anchor it first"]
    if claim.status == Claim.Status.NEEDS_REREVIEW:
        return ["its evidence changed and it is waiting for re-review"]
    adjudicated = consensus is not None and consensus.adjudicated_at is not None
    if reviewers is None and (publisher is not None or (adjudicated and consensus.adjudicated_by_id is not None)):
        reviewers = current_round_reviewers([claim]).get(claim.pk, set())
    reviewers = reviewers or set()
    blockers = []
    publisher_reviewed = publisher is not None and publisher.pk in reviewers
    if publisher_reviewed:
        blockers.append(PUBLISH_REFUSAL)
    n_reviews = consensus.n_reviews if consensus is not None else 0
    independent = n_reviews - (1 if publisher_reviewed else 0)
    if n_reviews == 0:
        blockers.append("nobody has reviewed this claim yet")
    elif independent < REVIEWS_REQUIRED:
        yours = ", not counting yours" if publisher_reviewed else ""
        instead = "; an adjudication does not stand in for reviewers" if adjudicated else ""
        blockers.append(f"it has {independent} of the {REVIEWS_REQUIRED} reviews a verdict needs{yours}{instead}")
    if adjudicated:
        if consensus.adjudicated_by_id in reviewers:
            blockers.append(
                "it was adjudicated by one of its own reviewers; an editor who did not review it must adjudicate it"
            )
        elif consensus.needs_readjudication:
            blockers.append(
                "a review changed after the adjudication and the reviewers still disagree; adjudicate again"
            )
    elif consensus is not None and consensus.disputed:
        blockers.append("its reviewers disagree; adjudicate it first")
    return blockers


# --- How a published verdict was reached, in one sentence --------------------------------------------------

_NUMBER_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


def how_reached(consensus: Consensus) -> str:
    """The public sentence saying how the decision about to be published was reached, from what happened:
    how many reviewers, whether they agreed (and how far apart), and whether an editor adjudicated or only
    published. "Two reviewers agreed; published by an editor." · "Three reviewers disagreed (certainties 2
    levels apart); an editor decided: Partly supported, low certainty." It never claims an adjudication that
    did not happen. reviews.services freezes it into the verdict version at publication
    (VerdictVersion.how_reached), which the claim page, its permalink and the API show; "" when there is
    no decision to publish.

    Reads the decision (reviews.models.decision) and the current round's figures (``n_reviews``,
    ``certainty_spread``, ``verdict_split``, ``disputed``) of ``consensus``.
    """
    decision = consensus.decision
    if not decision:
        return ""
    n = consensus.n_reviews
    count = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    apart = [consensus.spread_in_words] if consensus.certainty_spread else []
    if consensus.verdict_split:
        apart.append("verdicts split")
    if n == 0:
        reviewers = ""
    elif n == 1:
        reviewers = "One reviewer"
    elif consensus.disputed:
        reviewers = f"{count} reviewers disagreed ({', '.join(apart)})"
    else:
        reviewers = f"{count} reviewers agreed" + (f" ({', '.join(apart)})" if apart else "")
    if decision.adjudicated:
        certainty = decision.get_certainty_display().lower()
        editor = f"an editor decided: {decision.get_verdict_display()}, {certainty} certainty"
    else:
        editor = "published by an editor"
    sentence = f"{reviewers}; {editor}" if reviewers else editor[0].upper() + editor[1:]
    return f"{sentence}."


# --- The service that keeps the Consensus row up to date --------------------------------------------------

_REVIEW_COLUMNS = ("n_reviews", "certainty", "verdict", "certainty_spread", "verdict_split", "disputed")


@transaction.atomic
def consensus_refresh(*, claim: Claim, reason: str = "") -> Consensus:
    """Rewrite the claim's Consensus row from its reviews, leaving adjudication and publication alone.

    Two or three queries (the row, locked, created if missing; its round's reviews), plus a write only when
    something changed, so that the row's history holds one entry per real change. Callers that change
    reviews hold the claim's row lock, so two reviewers submitting at once cannot both compute from a
    stale set of reviews.
    """
    consensus, created = Consensus.objects.select_for_update().get_or_create(claim=claim)
    # the current round's reviews only: an earlier round's stay as they were published
    rows = list(
        Review.objects.filter(claim=claim, round=consensus.round).values_list("certainty", "verdict", "updated_at")
    )
    values = compute((certainty, verdict) for certainty, verdict, _ in rows)
    last_reviewed_at = max((updated_at for _, _, updated_at in rows), default=None)
    changed = []
    for name in _REVIEW_COLUMNS:
        if getattr(consensus, name) != getattr(values, name):
            setattr(consensus, name, getattr(values, name))
            changed.append(name)
    if consensus.last_reviewed_at != last_reviewed_at:
        consensus.last_reviewed_at = last_reviewed_at
        changed.append("last_reviewed_at")
    if changed:
        consensus._change_reason = reason or "recomputed from the reviews"
        consensus.save(update_fields=[*changed, "updated_at"])
    return consensus


# --- Agreement between reviewers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """Krippendorff's alpha (ordinal) for certainty, with what it rests on.

    ``alpha`` is None when it is undefined; ``n_claims`` and ``n_reviews`` count only the claims that
    at least two reviewers rated and their reviews, the values alpha is computed from.
    """

    alpha: float | None
    n_claims: int
    n_reviews: int
    n_reviewers: int
    reason: str = ""

    @property
    def defined(self) -> bool:
        return self.alpha is not None

    @property
    def enough_data(self) -> bool:
        """Alpha rests on at least ALPHA_MIN_CLAIMS claims: only then is it shown as a number."""
        return self.n_claims >= ALPHA_MIN_CLAIMS

    @property
    def min_claims(self) -> int:
        return ALPHA_MIN_CLAIMS


def krippendorff_alpha(ratings: Iterable[tuple[object, object, str]]) -> Agreement:
    """Alpha over (reviewer, claim, certainty) triples, one per review.

    The reliability data is a reviewers × claims matrix of certainty ranks with NaN where a reviewer
    did not rate a claim; claims rated by one reviewer only carry no pairable value and are left out.
    """
    by_claim: dict[object, dict[object, int]] = defaultdict(dict)
    for reviewer, claim, certainty in ratings:
        by_claim[claim][reviewer] = Certainty.rank(certainty)
    pairable = {claim: values for claim, values in by_claim.items() if len(values) >= 2}
    reviewers = sorted({reviewer for values in pairable.values() for reviewer in values}, key=str)
    n_reviews = sum(len(values) for values in pairable.values())
    if not pairable:
        return Agreement(None, 0, 0, 0, reason="no claim has been rated by two reviewers yet")
    if len({rank for values in pairable.values() for rank in values.values()}) == 1:
        # Expected disagreement is zero, so alpha is 0/0: perfect agreement on one value says nothing
        # about reliability, and a number here would be made up.
        return Agreement(None, len(pairable), n_reviews, len(reviewers), reason="every review gave the same certainty")
    row = {reviewer: i for i, reviewer in enumerate(reviewers)}
    column = {claim: j for j, claim in enumerate(sorted(pairable, key=str))}
    matrix = np.full((len(reviewers), len(column)), np.nan)
    for claim, values in pairable.items():
        for reviewer, rank in values.items():
            matrix[row[reviewer], column[claim]] = rank
    alpha = float(
        krippendorff.alpha(
            reliability_data=matrix,
            level_of_measurement="ordinal",
            value_domain=sorted(_BY_RANK),
        )
    )
    if math.isnan(alpha):  # pragma: no cover - excluded above; kept so NaN can never reach a page
        return Agreement(None, len(pairable), n_reviews, len(reviewers), reason="undefined")
    return Agreement(alpha, len(pairable), n_reviews, len(reviewers))


def agreement_by_article(article_ids: Iterable[int] | None = None) -> dict[int, Agreement]:
    """Alpha per article, from one query over the reviews (of the given articles, or of all)."""
    reviews = Review.objects.all()
    if article_ids is not None:
        reviews = reviews.filter(claim__article_id__in=list(article_ids))
    triples: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for article_id, reviewer_id, claim_id, certainty in reviews.values_list(
        "claim__article_id", "reviewer_id", "claim_id", "certainty"
    ).order_by():
        triples[article_id].append((reviewer_id, claim_id, certainty))
    return {article_id: krippendorff_alpha(rows) for article_id, rows in triples.items()}
