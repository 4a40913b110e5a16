"""A synthetic evidence library for benchmarks and load tests, drawn from a seed and written through the
services.

``generate()`` draws what happened to the library and when: articles with the claims their text makes
(benchmarks.dataset.articles), studies and the retraction notices some receive (.studies), the citations
curators linked, the reviews a pool of reviewers wrote (some revised), the adjudications and publications
editors made, the flags they raised and closed. Everything comes from ``random.Random(seed)`` and every
moment is counted back from the fixed ``REFERENCE_TIME``, so one seed always gives the same library;
only primary keys depend on the database's sequences.

Then it writes that history through the services (benchmarks.dataset.replay), in batches the bulk
services take at the events' own moments (benchmarks.dataset.events says how the order is kept). So the
library obeys the services' rules because the services wrote it: claims anchored by the article service,
consensus computed by reviews.consensus.compute, verdicts published only where publish_blockers allows,
claims relying on a retracted study flagged by reviews when the study is retracted or cited, sent back
for re-review if they had been reviewed, evidence_changed_at stamped as the services stamp it, and a
history row with its reason, user and moment for every row and every change.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.color import no_style
from django.db import connection, models

from benchmarks.dataset.articles import BENCHMARK_ARTICLE_CLAIMS, ArticleDrafts, PlannedArticle, PlannedClaim
from benchmarks.dataset.draw import REFERENCE_TIME, Dice
from benchmarks.dataset.events import KINDS, Event, exclusive, shared
from benchmarks.dataset.replay import (
    PlannedAdjudication,
    PlannedCitation,
    PlannedClosing,
    PlannedFlag,
    PlannedPublication,
    PlannedReview,
    Replay,
)
from benchmarks.dataset.studies import StudyDrafts
from benchmarks.dataset.vocabulary import (
    ADJUDICATIONS,
    CERTAINTIES,
    CITATION_NOTES,
    CITATIONS_PER_CLAIM,
    DIRECTNESS_NOTES,
    EDITOR_FLAG_REASONS,
    FAMILY_NAMES,
    FLAG_NOTES,
    GIVEN_NAMES,
    MECHANISM_OF,
    PUBLISHED_RATIONALES,
    RATIONALES,
    RELATION_WEIGHTS,
    RESOLUTION_NOTES,
    STRONG_DESIGNS,
)
from evidence.models import (
    RELIANT_RELATIONS,
    Article,
    ArticleRevision,
    Citation,
    Claim,
    Directness,
    Relation,
    RetractionChange,
    Study,
)
from reviews.consensus import compute, publish_blockers
from reviews.models import (
    DOWNGRADE_REASONS,
    Certainty,
    Comment,
    Consensus,
    Flag,
    FlagStatus,
    Notification,
    ReaderReport,
    Review,
    ReviewAssignment,
    ReviewRound,
    Verdict,
    VerdictVersion,
)

# what benchmarks.dataset.command, bench.py and the tests use
__all__ = [
    "BENCHMARK_ARTICLE_CLAIMS",
    "DEFAULT_PASSWORD",
    "REFERENCE_TIME",
    "VERSION",
    "MissingRoles",
    "Result",
    "Size",
    "analyze",
    "empty_library",
    "generate",
    "library_is_empty",
    "library_models",
    "study_records",
]

# Bump when the generator's output changes, so cached benchmark databases are rebuilt.
VERSION = 4  # 4: review rounds and verdict versions (issue 19)
# Every generated account gets this password (hashed once), so benchmarks can sign in as a reviewer.
DEFAULT_PASSWORD = "synthetic-library-password"
MAX_CITATIONS = 8
MAX_REVIEWS = 4
TRACKED: list[type[models.Model]] = [Flag, Consensus, Review, Citation, Claim, Study, Article]


@dataclass(frozen=True)
class Size:
    articles: int
    claims: int
    studies: int
    reviews: int

    def problems(self) -> list[str]:
        found = [f"--{name} must not be negative" for name, value in vars(self).items() if value < 0]
        if self.claims and not self.articles:
            found.append("claims need at least one article")
        if self.claims and not self.studies:
            found.append("claims need studies to cite (every claim cites 1 to 8)")
        if self.reviews > MAX_REVIEWS * self.claims:
            found.append(f"--reviews {self.reviews} is more than {MAX_REVIEWS} per claim allows ({self.claims} claims)")
        return found


class MissingRoles(LookupError):
    """The Reviewers, Editors and Curators groups are missing: the database is not migrated."""


@dataclass
class Result:
    counts: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # table → rows in it afterwards
    batches: dict[str, int] = field(default_factory=dict)  # kind of event → service calls
    benchmark_article: str = ""

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.timings)


class Generator:
    def __init__(
        self, size: Size, seed: int, *, password: str = DEFAULT_PASSWORD, on_phase: Callable[[str, float], None] | None
    ) -> None:
        self.size, self.seed, self.password, self.on_phase = size, seed, password, on_phase
        self.dice = Dice(seed)
        self.rng = self.dice.rng
        self.result = Result()
        self.events: list[Event] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.result.timings.append((name, seconds))
        if self.on_phase is not None:
            self.on_phase(name, seconds)

    def run(self) -> Result:
        with self.phase("users"):
            self.make_users()
        with self.phase("draw the library"):
            # what is already in the database (with --append), so identifiers stay unique
            used_slugs = set(Article.objects.values_list("slug", flat=True))
            used_dois = set(Study.objects.exclude(doi="").values_list("doi", flat=True))
            used_pmids = set(Study.objects.exclude(pmid="").values_list("pmid", flat=True))
            articles = ArticleDrafts(self.dice, used_slugs, self.editors).articles(self.size.articles, self.size.claims)
            self.claims = [claim for article in articles for claim in article.claims]
            drafts = StudyDrafts(self.dice, used_dois, used_pmids, self.curators)
            self.studies = drafts.studies(self.size.studies)
            self.plan_articles_and_studies(articles)
            self.plan_citations(drafts)
            self.plan_reviews()
            self.plan_flags()
        replay = Replay(User.objects.in_bulk([*self.reviewers, *self.editors, *self.curators]))
        with self.phase("write through the services"):
            replay.run(self.events)
        for kind, label in KINDS.items():
            self.result.timings.append((f"write {label}", replay.seconds[kind]))
            if self.on_phase is not None:
                self.on_phase(f"  {label}", replay.seconds[kind])
        self.result.batches = {label: replay.calls[kind] for kind, label in KINDS.items()}
        self.result.benchmark_article = next(
            (a.values["slug"] for a in articles if len(a.claims) == BENCHMARK_ARTICLE_CLAIMS), ""
        )
        self.count(replay)
        return self.result

    def count(self, replay: Replay) -> None:
        """What the library holds now, as the database says (with --append, the earlier rows too)."""
        self.result.tables = {model._meta.db_table: model.objects.count() for model in library_models()}
        self.result.counts = {
            "users": len(self.reviewers) + len(self.editors) + len(self.curators),
            "articles": Article.objects.count(),
            "claims": Claim.objects.count(),
            "studies": Study.objects.count(),
            "retracted studies": Study.objects.filter(retraction_status=Study.RetractionStatus.RETRACTED).count(),
            "citations": Citation.objects.count(),
            "reviews": Review.objects.count(),
            "consensus rows": Consensus.objects.count(),
            "published verdicts": Consensus.objects.exclude(published_verdict="").count(),
            "publications the rules refused": replay.refused_publications,
            "claims back in re-review": Claim.objects.filter(status=Claim.Status.NEEDS_REREVIEW).count(),
            "flags": Flag.objects.count(),
            "open flags": Flag.objects.open().count(),
            "history rows": sum(model.history.count() for model in TRACKED),
        }

    def make_users(self) -> None:
        """Pools of reviewers, editors and curators, in their groups. Existing accounts of the same
        name are reused (--append, --force), so their passwords are left alone."""
        reviews, claims, studies = self.size.reviews, self.size.claims, self.size.studies
        pools = {
            "Reviewers": ("synthetic-reviewer", max(MAX_REVIEWS, math.ceil(reviews / 1500)) if reviews else 0),
            "Editors": ("synthetic-editor", max(2, math.ceil(claims / 2000)) if claims else 0),
            "Curators": ("synthetic-curator", max(2, math.ceil(studies / 10_000)) if studies else 0),
        }
        # hashing is slow on purpose (PBKDF2); every generated account shares one hash
        hashed = make_password(self.password)
        made: dict[str, list[int]] = {}
        groups = {group.name: group for group in Group.objects.filter(name__in=pools)}
        if len(groups) < len(pools):
            raise MissingRoles(
                f"the {', '.join(sorted(set(pools) - set(groups)))} group(s) are missing; run `manage.py migrate`"
            )
        for group_name, (prefix, n) in pools.items():
            group = groups[group_name]
            names = [f"{prefix}-{i:03d}" for i in range(1, n + 1)]
            existing = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
            # drawn for every name, created or not, so that the rest of the library does not depend on
            # which accounts already existed
            accounts = [
                User(
                    username=name,
                    email=f"{name}@example.org",
                    password=hashed,
                    first_name=self.rng.choice(GIVEN_NAMES),
                    last_name=self.rng.choice(FAMILY_NAMES),
                    is_staff=True,
                    date_joined=self.dice.days_ago(900, 1200),
                )
                for name in names
            ]
            # accounts are Django's, not the library's: no service of ours writes them
            new = [user for user in accounts if user.username not in existing]
            User.objects.bulk_create(new)
            ids = dict(existing)
            ids.update(User.objects.filter(username__in=[u.username for u in new]).values_list("username", "pk"))
            group.user_set.add(*ids.values())
            made[group_name] = [ids[name] for name in names]
        self.reviewers = made["Reviewers"]
        self.editors = made["Editors"]
        self.curators = made["Curators"]
        # some reviewers do far more reviews than others
        self.reviewer_weights = [1 / (rank + 1) ** 0.6 for rank in range(len(self.reviewers))]

    # --- what happened, as events ------------------------------------------------------------------------

    def plan_articles_and_studies(self, articles: list[PlannedArticle]) -> None:
        for article in articles:
            touches = [exclusive(("claim", claim.index)) for claim in article.claims]
            self.events.append(Event("article", article.at, article, touches))
        for study in self.studies:
            self.events.append(Event("study", study.at, study, [exclusive(("study", study.index))]))

    def plan_citations(self, drafts: StudyDrafts) -> None:
        r = self.rng
        self.citations_of: list[list[PlannedCitation]] = []
        cited_by: dict[int, list[PlannedCitation]] = {}
        for claim in self.claims:
            n = r.choices(range(1, MAX_CITATIONS + 1), weights=CITATIONS_PER_CLAIM)[0]
            mine = []
            for index in drafts.cited_by(claim.substance, n):
                study = self.studies[index]
                relation = self.dice.pick(RELATION_WEIGHTS)
                words = self.dice.words(claim.substance if claim.substance in MECHANISM_OF else "ketamine")
                directness = r.choices(list(Directness.values), weights=[40, 35, 15, 10])[0]
                at = self.dice.later(max(claim.at, study.at), 0.1)
                values = {
                    "relation": relation,
                    "note": r.choice(CITATION_NOTES[relation]).format_map(words),
                    "directness": directness,
                    "directness_note": r.choice(DIRECTNESS_NOTES).format_map(words)
                    if directness in (Directness.PARTLY_INDIRECT, Directness.INDIRECT)
                    else "",
                }
                user_id = r.choice(self.curators) if self.curators else None
                citation = PlannedCitation(claim.index, index, at, values, user_id)
                touches = [shared(("claim", claim.index), "cite"), shared(("study", index), "cite")]
                if self.relies(citation) and study.retracted_at is not None and study.retracted_at <= at:
                    touches.append(exclusive(("retracted", claim.index, index)))  # flagged as it is linked
                self.events.append(Event("citation", at, citation, touches))
                mine.append(citation)
                cited_by.setdefault(index, []).append(citation)
            self.citations_of.append(mine)
        for study in self.studies:
            if study.notice is None:
                continue
            # the notice changes the evidence of every claim citing the study by then, and flags those relying on it
            touches = [exclusive(("study", study.index))]
            for citation in cited_by.get(study.index, []):
                if citation.at < study.notice.at:
                    touches.append(shared(("claim", citation.claim), "retract"))
                    if self.relies(citation) and study.retracted_at is not None:
                        touches.append(exclusive(("retracted", citation.claim, study.index)))
            self.events.append(Event("retraction", study.notice.at, study, touches))

    @staticmethod
    def relies(citation: PlannedCitation) -> bool:
        return citation.values["relation"] in RELIANT_RELATIONS

    def reviews_per_claim(self) -> list[int]:
        """0 to 4 reviews per claim adding up to exactly --reviews; about a tenth of claims unreviewed."""
        r = self.rng
        n_claims, total = self.size.claims, self.size.reviews
        if not n_claims:
            return []
        mean = total / n_claims
        unreviewed = min(0.1, max(0.0, 1 - mean / MAX_REVIEWS))
        p = min(1.0, mean / (MAX_REVIEWS * (1 - unreviewed))) if unreviewed < 1 else 0
        counts = [
            0 if r.random() < unreviewed else sum(r.random() < p for _ in range(MAX_REVIEWS)) for _ in range(n_claims)
        ]
        difference = total - sum(counts)
        step = 1 if difference > 0 else -1
        while difference:
            i = r.randrange(n_claims)
            if 0 <= counts[i] + step <= MAX_REVIEWS and (step > 0 or counts[i] > 1 or r.random() < 0.1):
                counts[i] += step
                difference -= step
        return counts

    def supporting(self, citations: list[PlannedCitation]) -> list[PlannedCitation]:
        """What a reviewer counts as support: a retracted study supports nothing (by the time anyone reads
        the claim, most notices are in)."""
        return [
            c
            for c in citations
            if c.values["relation"] == Relation.SUPPORTS and self.studies[c.study].retracted_at is None
        ]

    def latent_rank(self, citations: list[PlannedCitation]) -> float:
        """How strong a careful reviewer would find the evidence, 1 (very low) to 4 (high), before noise."""
        supports = self.supporting(citations)
        contradicts = sum(c.values["relation"] == Relation.CONTRADICTS for c in citations)
        strong = any(self.studies[c.study].values["design"] in STRONG_DESIGNS for c in supports)
        rank = 1.3 + 1.2 * strong + 0.5 * (len(supports) >= 2)
        return rank - 0.7 * (contradicts > 0) + self.rng.gauss(0, 0.5)

    def verdict_for(self, citations: list[PlannedCitation]) -> str:
        support = len(self.supporting(citations))
        mixed = sum(c.values["relation"] == Relation.MIXED for c in citations)
        against = sum(c.values["relation"] == Relation.CONTRADICTS for c in citations)
        if support and not against and mixed <= support:
            return Verdict.SUPPORTED
        if support > against:
            return Verdict.PARTLY_SUPPORTED
        if against > support:
            return Verdict.CONTRADICTED
        return Verdict.UNSUPPORTED

    def plan_reviews(self) -> None:
        r = self.rng
        verdict_order = list(Verdict.values)
        for claim, n in zip(self.claims, self.reviews_per_claim(), strict=True):
            if not n:
                continue
            cited = self.citations_of[claim.index]
            latent = self.latent_rank(cited)
            typical = self.verdict_for(cited)
            reviewers: list[int] = []
            while len(reviewers) < n:
                who = r.choices(self.reviewers, weights=self.reviewer_weights)[0]
                if who not in reviewers:
                    reviewers.append(who)
            start = max(c.at for c in cited)
            ratings, last = [], start
            for reviewer in reviewers:
                rank = max(1, min(4, round(latent + r.gauss(0, 0.55))))
                verdict = typical
                if r.random() < 0.2:
                    shifted = verdict_order.index(verdict) + r.choice([-1, 1])
                    verdict = verdict_order[max(0, min(3, shifted))]
                created = self.dice.later(start, 0.4)
                revised = self.dice.later(created, 0.2) if r.random() < 0.2 else None
                review = PlannedReview(
                    claim=claim.index,
                    reviewer_id=reviewer,
                    at=created,
                    certainty=CERTAINTIES[rank - 1],
                    verdict=verdict,
                    read_full_text=r.random() < 0.4,
                    rationale=" ".join(
                        t.format_map(self.dice.words("ketamine")) for t in r.sample(RATIONALES, k=r.randint(1, 3))
                    ),
                    # randomised evidence rated down once per level below high, in the domains drawn first
                    serious=downgraded(4 - rank, [r.random() < (4 - rank) * 0.22 for _ in DOWNGRADE_REASONS]),
                )
                touches = [shared(("claim", claim.index), "review"), exclusive(("review", claim.index, reviewer))]
                if revised is not None:
                    # the first version said less; the reviewer came back and completed the rationale
                    first = review.rationale.split(". ")[0].rstrip(".") + "."
                    self.events.append(
                        Event("review", created, PlannedReview(**{**vars(review), "rationale": first}), touches)
                    )
                    review.at = revised
                self.events.append(Event("review", review.at, review, touches))
                ratings.append((review.certainty, review.verdict))
                last = max(last, review.at)
            self.plan_decisions(claim, ratings, last)

    def plan_decisions(self, claim: PlannedClaim, ratings: list[tuple[str, str]], last: datetime) -> None:
        """An editor's adjudication where reviewers disagree or one review is all there is (half the time),
        and a publication where the rules would allow it once the reviews are in (60%)."""
        r = self.rng
        values = compute(ratings)
        expected = Consensus(**vars(values), last_reviewed_at=last)
        when = last
        if (values.disputed or values.n_reviews < 2) and self.editors and r.random() < 0.5:
            when = self.dice.later(when, 0.2)
            rank = Certainty.rank(values.certainty) - (
                1 if values.disputed and Certainty.rank(values.certainty) > 1 else 0
            )
            adjudication = PlannedAdjudication(
                claim.index,
                r.choice(self.editors),
                when,
                CERTAINTIES[rank - 1],
                values.verdict,
                r.choice(ADJUDICATIONS),
            )
            self.events.append(
                Event("adjudication", when, adjudication, [shared(("claim", claim.index), "adjudicate")])
            )
            expected.adjudicated_certainty, expected.adjudicated_verdict = adjudication.certainty, values.verdict
            expected.adjudication_rationale, expected.adjudicated_at = adjudication.rationale, when
        if not publish_blockers(Claim(status=Claim.Status.IN_REVIEW), expected) and self.editors and r.random() < 0.6:
            when = self.dice.later(when, 0.2)
            editor = r.choice(self.editors)
            rationale = "" if expected.decision.rationale else r.choice(PUBLISHED_RATIONALES)
            publication = PlannedPublication(claim.index, editor, when, rationale)
            self.events.append(Event("publication", when, publication, [shared(("claim", claim.index), "publish")]))

    def plan_flags(self) -> None:
        r = self.rng
        for claim in self.claims:
            # the system flags each retracted study a claim relies on; editors close some of those flags
            for citation in self.citations_of[claim.index]:
                retracted = self.studies[citation.study].retracted_at
                if not self.relies(citation) or retracted is None:
                    continue
                if r.random() < 0.25 and self.editors:
                    key = ("retracted", claim.index, citation.study)
                    closing = self.closing(
                        key, max(retracted, citation.at), "Verdict re-reviewed without the retracted study."
                    )
                    self.events.append(Event("flag_close", closing.at, closing, [exclusive(key)]))
            # editors' flags on some claims
            if self.editors and r.random() < 0.07:
                for reason in r.sample(EDITOR_FLAG_REASONS, k=1 if r.random() < 0.9 else 2):
                    key = ("flag", claim.index, reason)
                    raised = self.dice.later(claim.at, 0.6)
                    flag = PlannedFlag(key, claim.index, r.choice(self.editors), raised, reason, FLAG_NOTES[reason])
                    self.events.append(Event("flag", raised, flag, [exclusive(key)]))
                    if r.random() < 0.55:
                        closing = self.closing(key, raised, r.choice(RESOLUTION_NOTES))
                        self.events.append(Event("flag_close", closing.at, closing, [exclusive(key)]))

    def closing(self, key: tuple, raised: datetime, note: str) -> PlannedClosing:
        status = FlagStatus.RESOLVED if self.rng.random() < 0.65 else FlagStatus.DISMISSED
        editor = self.rng.choice(self.editors)
        return PlannedClosing(key, editor, self.dice.later(raised, 0.3), status, note)


def downgraded(steps: int, drawn: list[bool]) -> list[str]:
    """``steps`` downgrade domains rated serious, those ``drawn`` first (in DOWNGRADE_REASONS' order), so that
    randomised evidence comes out ``steps`` levels below high (reviews.grade.computed_certainty)."""
    names = list(DOWNGRADE_REASONS)
    order = [n for n, hit in zip(names, drawn, strict=True) if hit] + [
        n for n, hit in zip(names, drawn, strict=True) if not hit
    ]
    return order[:steps]


def generate(
    *,
    size: Size,
    seed: int,
    password: str = DEFAULT_PASSWORD,
    on_phase: Callable[[str, float], None] | None = None,
) -> Result:
    """Draw and write the library; the caller holds the transaction (and checks the database is empty).
    ``on_phase(name, seconds)`` is called as each phase ends."""
    return Generator(size, seed, password=password, on_phase=on_phase).run()


def study_records(n: int, seed: int) -> list[Study]:
    """``n`` studies as the generator draws them, unsaved, with their notices: for the import benchmark's file."""
    drafts = StudyDrafts(Dice(seed), set(), set(), curators=[])
    return [study.record() for study in drafts.studies(n)]


def library_models() -> list[type[models.Model]]:
    """The tables the generator fills (with their history), children first: what --force empties."""
    # verdict versions and re-review rounds are kept without history: they are records themselves; readers'
    # reports, the retraction check's changes, assignments, notifications and discussions point at claims and
    # studies, so they go too
    return [
        Notification,
        ReviewAssignment.history.model,
        ReviewAssignment,
        Comment.history.model,
        Comment,
        ReaderReport,
        RetractionChange,
        Flag,
        Consensus,
        VerdictVersion,
        ReviewRound,
        *TRACKED[2:],
        ArticleRevision,
        *(m.history.model for m in TRACKED),
    ]


def library_is_empty() -> bool:
    return not any(model.objects.exists() for model in TRACKED)


def empty_library() -> None:
    """Delete every article, claim, study, citation, review, consensus row and flag, and their history,
    as `manage.py flush` would, but only those tables (the data version row stays: the services move it).
    A reset of the whole library for --force, not a write of the workflow: nothing is left to keep a rule about."""
    tables = [model._meta.db_table for model in library_models()]
    if connection.vendor != "postgresql":
        for model in library_models():
            model.objects.all().delete()
        return
    with connection.cursor() as cursor:
        # TRUNCATE refuses tables with foreign-key checks still deferred in this transaction
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # no CASCADE: a table elsewhere that points at these makes this fail rather than lose rows
        for sql in connection.ops.sql_flush(no_style(), tables, reset_sequences=True):
            cursor.execute(sql)


def analyze() -> None:
    """Fresh planner statistics for the tables just filled (PostgreSQL only; outside the transaction)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(quote(model._meta.db_table) for model in library_models())}")
