"""A synthetic evidence library for benchmarks and load tests, generated from a seed and written in bulk.

``generate()`` builds articles whose claims are anchored in their text, studies, citations, reviews by a
pool of reviewers, the Consensus rows those reviews add up to (some adjudicated, some published), flags
(editors' and the system's, open and closed) and the initial history of every row, then writes them with
COPY on PostgreSQL (``bulk_create`` elsewhere). Everything comes from ``random.Random(seed)`` and dates
are counted back from the fixed ``REFERENCE_TIME``, so one seed always gives the same library; only the
primary keys depend on the database's sequences.

The rows obey the same rules the services keep (reviews.services, reviews.consensus):

* a claim's quote is ``article.text[start:end]``, occurs once in the text, and its prefix and suffix are
  the 32 characters around it (evidence.anchoring.anchor_at);
* a claim with no review is awaiting review and has no Consensus row; a reviewed one has the Consensus
  that reviews.consensus.compute() gives for its reviews; a verdict is published only when
  publish_blockers() would allow it, and the claim is then "verdict published";
* a claim relying on a retracted study (cited as supporting or mixed) has a system flag naming it, and
  goes back to re-review if it was reviewed before the retraction, as claims_flag_retracted_reliance()
  does;
* a claim's ``evidence_changed_at`` is the latest moment the services would have stamped it
  (ClaimQuerySet.mark_evidence_changed): a citation added, a cited study's retraction notice, the claim
  sent back for re-review.

History: bulk inserts bypass django-simple-history's signals, so the generator writes the history rows
itself, in the same COPY: a "+" row when each row was created, and a "~" row for each later change it
simulates (a claim entering review, being published or sent back; a study retracted; a review revised;
an adjudication or publication; a flag closed). The claim page's changelog then sees what it would see
in a library built through the application, and the history tables have a realistic size.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection, models
from django.utils.text import slugify

from benchmarks.dataset.vocabulary import (
    ABSTRACT_PARTS,
    ADJUDICATIONS,
    BOTH_TEMPLATES,
    CERTAINTIES,
    CITATION_NOTES,
    CITATIONS_PER_CLAIM,
    CLAIM_TEMPLATES,
    CLAIM_TYPE_WEIGHTS,
    DESIGNS,
    DIRECTNESS_NOTES,
    EDITOR_FLAG_REASONS,
    ELABORATIONS,
    EVIDENCE_NOTES,
    FAMILY_NAMES,
    FILLERS,
    FLAG_NOTES,
    GIVEN_NAMES,
    HEADINGS,
    JOURNALS,
    MECHANISM_OF,
    OUTLETS,
    PUBLISHED_RATIONALES,
    QUOTATIONS,
    RATIONALES,
    RELATION_WEIGHTS,
    RESOLUTION_NOTES,
    STRONG_DESIGNS,
    SUBSTANCES,
    TITLE_OPENINGS,
    TITLE_QUALIFIERS,
    TITLES,
    Words,
)
from evidence import caching
from evidence.anchoring import anchor_at
from evidence.bulk import allocate_ids, copy_rows
from evidence.models import (
    RELIANT_RELATIONS,
    Article,
    Citation,
    Claim,
    ClaimKind,
    ClaimStatus,
    ClaimType,
    Directness,
    Relation,
    RetractionStatus,
    Study,
    StudyDesign,
)
from reviews.consensus import compute, publish_blockers
from reviews.models import DOWNGRADE_REASONS, Certainty, Consensus, Flag, FlagReason, FlagStatus, Review, Verdict

# Bump when the generator's output changes, so cached benchmark databases are rebuilt.
VERSION = 2
# Every date is counted back from here, not from now, so a seed always gives the same rows.
REFERENCE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
# Every generated account gets this password (hashed once), so benchmarks can sign in as a reviewer.
DEFAULT_PASSWORD = "synthetic-library-password"
# The benchmark's "article page with 100 claims": one article gets exactly this many when there are enough.
BENCHMARK_ARTICLE_CLAIMS = 100
MAX_CITATIONS = 8
MAX_REVIEWS = 4

T = TypeVar("T")


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
    # table → (rows written, seconds)
    tables: dict[str, tuple[int, float]] = field(default_factory=dict)
    benchmark_article: str = ""

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.timings)


# --- Writing rows in bulk ---------------------------------------------------------------------------------


@contextmanager
def _timestamps_as_given(model: type[models.Model]) -> Iterator[None]:
    """bulk_create lets auto_now/auto_now_add overwrite the generated dates; switch them off meanwhile."""
    switched = [
        (f, f.auto_now, f.auto_now_add)
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    for f, _, _ in switched:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in switched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class BulkWriter:
    """Inserts model instances fast: COPY on PostgreSQL, bulk_create elsewhere. Sets their primary keys.

    COPY checks CHECK and UNIQUE constraints row by row like INSERT does; foreign keys are checked at
    commit, as Django declares them DEFERRABLE INITIALLY DEFERRED.
    """

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def insert(self, model: type[models.Model], objs: Sequence[models.Model]) -> None:
        if not objs:
            return
        started = time.perf_counter()
        for obj in objs:
            # copy the primary keys of related objects written earlier into the *_id attributes
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
        if self.copy:
            self._copy(model, objs)
        else:
            with _timestamps_as_given(model):
                model.objects.bulk_create(objs, batch_size=500)
        table = model._meta.db_table
        self.rows[table] = self.rows.get(table, 0) + len(objs)
        self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - started

    def _copy(self, model: type[models.Model], objs: Sequence[models.Model]) -> None:
        if isinstance(model._meta.pk, models.AutoField):
            missing = [obj for obj in objs if obj.pk is None]
            for obj, pk in zip(missing, allocate_ids(model, len(missing)), strict=True):
                obj.pk = pk
        fields = list(model._meta.concrete_fields)
        for f in fields:
            if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add):
                for obj in objs:
                    if getattr(obj, f.attname) is None:
                        setattr(obj, f.attname, REFERENCE_TIME)
        copy_rows(model, fields, ([getattr(obj, f.attname) for f in fields] for obj in objs))

    def insert_values(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        """Insert rows given as {attname: value}: skips building model instances, which for the history's
        few hundred thousand rows takes longer than writing them."""
        if not self.copy:
            self.insert(model, [model(**row) for row in rows])
            return
        if not rows:
            return
        started = time.perf_counter()
        pk = model._meta.pk
        if isinstance(pk, models.AutoField):
            for row, value in zip(rows, allocate_ids(model, len(rows)), strict=True):
                row[pk.attname] = value
        fields = list(model._meta.concrete_fields)
        defaults = {f.attname: f.get_default() for f in fields if f.has_default()}
        copy_rows(model, fields, ([row.get(f.attname, defaults.get(f.attname)) for f in fields] for row in rows))
        table = model._meta.db_table
        self.rows[table] = self.rows.get(table, 0) + len(rows)
        self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - started


# --- The generator ------------------------------------------------------------------------------------------


@dataclass
class _Change:
    """A later version of a row for its history: when, what changed, who did it and why."""

    when: datetime
    values: dict[str, Any]
    user_id: int | None
    reason: str


class Generator:
    def __init__(
        self,
        size: Size,
        seed: int,
        *,
        password: str = DEFAULT_PASSWORD,
        on_phase: Callable[[str, float], None] | None = None,
    ) -> None:
        self.size = size
        self.on_phase = on_phase
        self.seed = seed
        self.password = password
        self.rng = random.Random(seed)
        self.result = Result()
        self.writer = BulkWriter()
        # what is already in the database (with --append), so identifiers stay unique
        self.used_slugs: set[str] = set(Article.objects.values_list("slug", flat=True))
        self.used_dois: set[str] = set(Study.objects.exclude(doi="").values_list("doi", flat=True))
        self.used_pmids: set[str] = set(Study.objects.exclude(pmid="").values_list("pmid", flat=True))
        # rows and their later versions, for the history
        self.history: dict[type[models.Model], list[tuple[models.Model, datetime, int | None, list[_Change]]]] = {}

    # --- small helpers ---------------------------------------------------------------------------------

    def pick(self, weights: dict[T, float]) -> T:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def days_ago(self, low: float, high: float) -> datetime:
        return REFERENCE_TIME - timedelta(seconds=int(self.rng.uniform(low, high) * 86400))

    def later(self, when: datetime, share: float = 0.3) -> datetime:
        """A moment after ``when`` and before REFERENCE_TIME: up to ``share`` of the time left."""
        left = (REFERENCE_TIME - when).total_seconds()
        return when + timedelta(seconds=max(60, int(left * self.rng.uniform(0.01, share))))

    def person(self) -> str:
        return f"{self.rng.choice(GIVEN_NAMES)} {self.rng.choice(FAMILY_NAMES)}"

    def words(self, substance: str) -> Words:
        """Values for the templates' placeholders, each drawn when a template first asks for it."""
        return Words(self.rng, substance, self.person)

    def remember(
        self, obj: models.Model, created: datetime, user_id: int | None, changes: list[_Change] | None = None
    ) -> None:
        self.history.setdefault(type(obj), []).append((obj, created, user_id, changes or []))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.result.timings.append((name, seconds))
        if self.on_phase is not None:
            self.on_phase(name, seconds)

    # --- the phases --------------------------------------------------------------------------------------

    def run(self) -> Result:
        with self.phase("users"):
            self.make_users()
        with self.phase("articles and claims"):
            articles, claims = self.make_articles()
        with self.phase("studies"):
            studies = self.make_studies()
        with self.phase("citations"):
            citations = self.make_citations(claims, studies)
        with self.phase("reviews and consensus"):
            reviews, consensus = self.make_reviews(claims, citations)
        with self.phase("flags"):
            flags = self.make_flags(claims, citations, consensus)
            self.stamp_evidence_changes(claims)
        with self.phase("write rows"):
            for model, objs in (
                (Article, articles),
                (Claim, claims),
                (Study, studies),
                (Citation, citations),
                (Review, reviews),
                (Consensus, consensus),
                (Flag, flags),
            ):
                self.writer.insert(model, objs)
        with self.phase("write history"):
            self.write_history()
        self.result.tables = {
            table: (rows, round(self.writer.seconds[table], 2)) for table, rows in self.writer.rows.items()
        }
        self.result.counts = {
            "users": len(self.reviewers) + len(self.editors) + len(self.curators),
            "articles": len(articles),
            "claims": len(claims),
            "studies": len(studies),
            "retracted studies": sum(s.retraction_status == RetractionStatus.RETRACTED for s in studies),
            "citations": len(citations),
            "reviews": len(reviews),
            "consensus rows": len(consensus),
            "published verdicts": sum(bool(c.published_verdict) for c in consensus),
            "flags": len(flags),
            "open flags": sum(f.status == FlagStatus.OPEN for f in flags),
            "history rows": sum(
                rows for table, rows in self.writer.rows.items() if table.split("_", 1)[-1].startswith("historical")
            ),
        }
        return self.result

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
                    date_joined=self.days_ago(900, 1200),
                )
                for name in names
            ]
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

    def claims_per_article(self) -> list[int]:
        articles, claims = self.size.articles, self.size.claims
        if not articles:
            return []
        counts = [0] * articles
        reserved = -1
        rest = claims
        if claims >= 2 * BENCHMARK_ARTICLE_CLAIMS and articles >= 2:
            reserved = self.rng.randrange(articles)
            counts[reserved] = BENCHMARK_ARTICLE_CLAIMS
            rest -= BENCHMARK_ARTICLE_CLAIMS
        others = [i for i in range(articles) if i != reserved]
        # long-tailed, capped so that no article is absurdly long
        weights = [min(self.rng.lognormvariate(0, 0.8), 4.0) for _ in others]
        floor = 1 if rest >= len(others) else 0
        spare = rest - floor * len(others)
        total = sum(weights)
        shares = [spare * w / total for w in weights]
        for i, share in zip(others, shares, strict=True):
            counts[i] = floor + int(share)
        # hand out what rounding down left, largest remainders first
        leftover = rest - sum(counts[i] for i in others)
        by_remainder = sorted(zip(others, shares, strict=True), key=lambda pair: pair[1] - int(pair[1]), reverse=True)
        for i, _ in by_remainder[:leftover]:
            counts[i] += 1
        return counts

    def make_articles(self) -> tuple[list[Article], list[Claim]]:
        articles: list[Article] = []
        claims: list[Claim] = []
        counts = self.claims_per_article()
        for index, n_claims in enumerate(counts):
            article, article_claims = self.make_article(index, n_claims)
            articles.append(article)
            claims.extend(article_claims)
            if n_claims == BENCHMARK_ARTICLE_CLAIMS and not self.result.benchmark_article:
                self.result.benchmark_article = article.slug
        return articles, claims

    def sentence(self, templates: Sequence[str], substance: str, seen: set[str], tries: int = 50) -> str | None:
        """A sentence the article does not contain yet, or None when ``tries`` draws found none."""
        for _ in range(tries):
            text = self.rng.choice(templates).format_map(self.words(substance))
            if text not in seen:
                seen.add(text)
                return text
        return None

    def prose(self, templates: Sequence[str], substance: str, seen: set[str]) -> str:
        """A sentence around the claims: new to the article if possible, else a repeat (prose templates
        never produce a claim's words, so a repeat cannot make a quote ambiguous)."""
        text = self.sentence(templates, substance, seen, tries=20)
        return text if text is not None else self.rng.choice(templates).format_map(self.words(substance))

    def make_article(self, index: int, n_claims: int) -> tuple[Article, list[Claim]]:
        r = self.rng
        main = self.pick({key: weight for key, (_, weight) in SUBSTANCES.items()})
        title = r.choice(TITLES).format_map(self.words(main))
        base = slugify(title)[:180]
        slug = base
        suffix = 1
        while slug in self.used_slugs:
            suffix += 1
            slug = f"{base}-{suffix}"
        self.used_slugs.add(slug)
        published = (REFERENCE_TIME - timedelta(days=r.randint(30, 1500))).date()
        created = datetime(published.year, published.month, published.day, tzinfo=UTC) + timedelta(
            days=r.randint(1, 20), seconds=r.randint(0, 86399)
        )
        n_sections = max(3, min(14, 2 + n_claims // 10))
        seen: set[str] = set()
        headings: list[str] = []
        while len(headings) < n_sections:
            headings.append(self.sentence(HEADINGS, main, seen, tries=200) or f"Part {len(headings) + 1}")
        # which section each claim goes in: a couple in the introduction, the rest spread in order
        intro = min(n_claims, r.randint(0, 2))
        placement = [-1] * intro + sorted(r.randrange(n_sections) for _ in range(n_claims - intro))

        parts: list[str] = [title, "\n\n"]
        offset = len(title) + 2
        specs: list[tuple[int, int, str]] = []  # start, end, section
        claim_texts: list[tuple[str, str, str, str]] = []  # quote, substance, claim type, kind

        def paragraph(items: list[tuple[str, bool]], section: str) -> None:
            nonlocal offset
            for position, (text, is_claim) in enumerate(items):
                if position:
                    parts.append(" ")
                    offset += 1
                if is_claim:
                    specs.append((offset, offset + len(text), section))
                parts.append(text)
                offset += len(text)
            parts.append("\n\n")
            offset += 2

        for section_index in range(-1, n_sections):
            section = headings[section_index] if section_index >= 0 else ""
            if section_index >= 0:
                parts.append(f"{section}\n\n")
                offset += len(section) + 2
            items: list[tuple[str, bool]] = []
            n_here = placement.count(section_index)
            # short sections still get a few paragraphs of prose around their claims
            fillers = max(0, r.randint(3, 6) - n_here)
            for _ in range(n_here):
                drawn = self.claim_sentence(r.choice([main, main, self.pick_substance()]), seen)
                claim_texts.append(drawn)
                items.extend((self.prose(FILLERS, main, seen), False) for _ in range(r.choice([0, 1, 1, 2])))
                items.append((drawn[0], True))
            items.extend((self.prose(FILLERS, main, seen), False) for _ in range(fillers))
            while items:
                size = r.randint(2, 5)
                paragraph(items[:size], section)
                items = items[size:]
        text = "".join(parts).rstrip("\n") + "\n"

        article = Article(
            slug=slug,
            title=title,
            author=self.person(),
            publisher=r.choice(OUTLETS),
            url=f"https://news.example.org/{published.year}/{slug}",
            published_on=published,
            text=text,
            headings=headings,
            created_at=created,
            updated_at=created,
        )
        self.remember(article, created, r.choice(self.editors) if self.editors else None)
        claims = []
        for number, ((start, end, section), (quote, substance, claim_type, kind)) in enumerate(
            zip(specs, claim_texts, strict=True), start=1
        ):
            anchor = anchor_at(text, start, end)
            when = created + timedelta(minutes=r.randint(5, 600))
            claim = Claim(
                article=article,
                key=f"C{number}",
                quote=quote,
                start=anchor.start,
                end=anchor.end,
                prefix=anchor.prefix,
                suffix=anchor.suffix,
                section=section,
                kind=kind,
                substance=substance,
                claim_type=claim_type,
                secondary_types=[r.choice(list(ClaimType.values))] if r.random() < 0.2 else [],
                evidence_note=r.choice(EVIDENCE_NOTES) if r.random() < 0.6 else "",
                status=ClaimStatus.AWAITING_REVIEW,
                created_at=when,
                updated_at=when,
            )
            if kind == ClaimKind.QUOTATION:
                claim.attributed_to = quote.rsplit("said ", 1)[-1].rstrip(".")
                claim.attribution_status = r.choice(["documented", "documented (wording varies)", "unverified"])
                claim.attribution_note = "Checked against the interview transcript." if r.random() < 0.5 else ""
            claims.append(claim)
        return article, claims

    def pick_substance(self) -> str:
        return self.pick({key: weight for key, (_, weight) in SUBSTANCES.items()})

    def claim_sentence(self, substance: str, seen: set[str]) -> tuple[str, str, str, str]:
        """A new claim for the article: (quote, substance, claim type, kind)."""
        r = self.rng
        if r.random() < 0.03:
            text = self.sentence(QUOTATIONS, substance, seen)
            if text is not None:
                return text, substance, ClaimType.OTHER, ClaimKind.QUOTATION
        for _ in range(20):
            if substance == "both":
                claim_type, template = r.choice(BOTH_TEMPLATES)
                text = self.sentence([template], substance, seen, tries=5)
            else:
                claim_type = self.pick(CLAIM_TYPE_WEIGHTS)
                text = self.sentence(CLAIM_TEMPLATES[claim_type], substance, seen, tries=10)
            if text is None:
                # this kind of claim about this substance is used up in this article; draw another
                substance = self.pick_substance()
                continue
            if r.random() < 0.1:
                # a claim quoted over two sentences
                # the first sentence is new to the article, so the pair is too
                text = f"{text} {r.choice(ELABORATIONS).format_map(self.words(substance))}"
                seen.add(text)
            return text, substance, claim_type, ClaimKind.CLAIM
        raise RuntimeError("could not draw a claim the article does not already contain")

    def make_studies(self) -> list[Study]:
        r = self.rng
        design_weights = {design: weight for design, (weight, _, _) in DESIGNS.items()}
        studies = []
        self.studies_by_substance: dict[str, list[int]] = {key: [] for key in SUBSTANCES}
        # 1% retracted, 0.3% with an expression of concern, 0.5% corrected: exact shares (at least one
        # retraction in any library of 50 studies or more), at random places
        n = self.size.studies
        notices = r.sample(range(n), k=round(n * 0.018))
        retracted = max(round(n * 0.01), 1 if n >= 50 else 0)
        notice_of = {index: RetractionStatus.RETRACTED for index in notices[:retracted]}
        notice_of |= {index: RetractionStatus.EXPRESSION_OF_CONCERN for index in notices[retracted : round(n * 0.013)]}
        notice_of |= {index: RetractionStatus.CORRECTED for index in notices[round(n * 0.013) :]}
        for index in range(n):
            substance = self.pick_substance()
            if substance == "both":
                substance = r.choice(["ketamine", "MDMA"])
            self.studies_by_substance[substance].append(index)
            design = self.pick(design_weights)
            _, sizes, templates = DESIGNS[design]
            words = self.words(substance)
            title = r.choice(TITLE_OPENINGS) + r.choice(templates).format_map(words)
            if r.random() < 0.9:
                title += r.choice(TITLE_QUALIFIERS).format_map(words)
            if design in (StudyDesign.RCT, StudyDesign.COHORT) and r.random() < 0.5:
                acronym = "".join(r.choice("ABCDEFGHIJKLMNOPRSTUVW") for _ in range(r.randint(3, 6)))
                title += f" (the {acronym}-{r.randint(1, 9)} {'trial' if design == StudyDesign.RCT else 'study'})"
            title = title[0].upper() + title[1:]
            year = max(1965, 2026 - int(r.expovariate(1 / 9)))
            journal, code = r.choice(JOURNALS)
            n_authors = 1 if design == StudyDesign.REGULATORY else r.choice([1, 2, 3, 3, 4, 5, 6, 6, 8, 10, 14])
            if design == StudyDesign.REGULATORY:
                authors = [{"literal": words["agency"]}]
            else:
                authors = [
                    {"family": r.choice(FAMILY_NAMES), "given": f"{r.choice(GIVEN_NAMES)} {chr(65 + r.randrange(26))}."}
                    for _ in range(n_authors)
                ]
                if r.random() < 0.02:
                    authors.append({"literal": f"The {words['Sub']} Trials Group"})
            doi = self.unique_doi(code, year) if r.random() < 0.92 else ""
            pmid = self.unique_pmid() if design != StudyDesign.REGULATORY and r.random() < 0.75 else ""
            # a few records whose title nobody could confirm: known by their identifier only
            if (doi or pmid) and r.random() < 0.005:
                title = ""
            created = self.days_ago(30, 1100)
            month = r.randint(1, 12) if r.random() < 0.7 else None
            study = Study(
                citation_key=f"{slugify(authors[0].get('family', 'anon'))}{year}{chr(97 + r.randrange(26))}",
                work_type="report" if design == StudyDesign.REGULATORY else "article-journal",
                title=title,
                authors=authors,
                author_list_complete=r.random() < 0.9,
                container_title="" if design == StudyDesign.REGULATORY else journal,
                publisher=words["agency"] if design == StudyDesign.REGULATORY else "",
                year=year,
                month=month,
                day=r.randint(1, 28) if month and r.random() < 0.5 else None,
                volume=str(r.randint(1, 120)) if design != StudyDesign.REGULATORY else "",
                issue=str(r.randint(1, 12)) if r.random() < 0.8 else "",
                pages=self.pages(),
                doi=doi,
                pmid=pmid,
                url="" if doi else f"https://reports.example.org/{code}/{index}",
                abstract=self.abstract(substance) if r.random() < 0.75 else "",
                design=design,
                sample_size=r.randint(*sizes) if sizes and r.random() < 0.9 else None,
                population=f"Adults with {words['cond']}" if sizes and design != StudyDesign.PRECLINICAL else "",
                verified=r.random() < 0.7,
                created_at=created,
                updated_at=created,
            )
            if study.verified:
                study.verified_from = ["crossref"] if not pmid else ["crossref", "pubmed"]
            changes: list[_Change] = []
            notice = notice_of.get(index, RetractionStatus.NONE)
            if notice == RetractionStatus.RETRACTED:
                # retracted after it entered the library: the history holds both versions
                study.retraction_status = notice
                study.retraction_doi = f"10.5555/retraction.{study.doi or index}".lower()
                study.retraction_note = "Retracted by the publisher: the data could not be verified."
            elif notice == RetractionStatus.EXPRESSION_OF_CONCERN:
                study.retraction_status = notice
                study.retraction_note = "The editors have raised concerns about the reported outcomes."
            elif notice == RetractionStatus.CORRECTED:
                study.retraction_status = notice
                study.retraction_note = "A correction was published for a table of adverse events."
            if study.retraction_status != RetractionStatus.NONE:
                noticed = self.later(created, 0.9)
                study.retraction_date = noticed.date()
                study.updated_at = noticed
                changes.append(
                    _Change(
                        noticed,
                        {
                            "retraction_status": study.retraction_status,
                            "retraction_date": study.retraction_date,
                            "retraction_doi": study.retraction_doi,
                            "retraction_note": study.retraction_note,
                            "updated_at": noticed,
                        },
                        None,
                        "retraction notice imported",
                    )
                )
                # the first version did not know yet
                study._history_first = {  # type: ignore[attr-defined]
                    "retraction_status": RetractionStatus.NONE,
                    "retraction_date": None,
                    "retraction_doi": "",
                    "retraction_note": "",
                }
            self.remember(study, created, r.choice(self.curators) if self.curators else None, changes)
            studies.append(study)
        # landmark studies are cited far more often: the front of each list is the popular end
        for indices in self.studies_by_substance.values():
            r.shuffle(indices)
        self.all_studies = list(range(len(studies)))
        r.shuffle(self.all_studies)
        return studies

    def unique_doi(self, code: str, year: int) -> str:
        while True:
            doi = f"10.5555/{code}.{year}.{self.rng.randrange(10**6, 10**7)}"
            if doi not in self.used_dois:
                self.used_dois.add(doi)
                return doi

    def unique_pmid(self) -> str:
        while True:
            pmid = str(self.rng.randrange(1_000_000, 40_000_000))
            if pmid not in self.used_pmids:
                self.used_pmids.add(pmid)
                return pmid

    def pages(self) -> str:
        r = self.rng
        if r.random() < 0.15:
            return f"e{r.randint(100000, 999999)}"
        first = r.randint(1, 2400)
        return f"{first}-{first + r.randint(3, 18)}"

    def abstract(self, substance: str) -> str:
        r = self.rng
        sections = []
        words = self.words(substance)  # one set of numbers for the whole abstract
        for heading, options in ABSTRACT_PARTS.items():
            picked = r.sample(options, k=min(len(options), r.randint(1, 3)))
            sections.append(f"{heading}: " + " ".join(t.format_map(words) for t in picked))
        return " ".join(sections)

    def draw_studies(self, substance: str, n: int) -> list[int]:
        """n distinct studies for a claim: mostly on its substance, popular ones more often."""
        r = self.rng
        chosen: list[int] = []
        pools = [
            self.studies_by_substance.get(s, []) for s in (["ketamine", "MDMA"] if substance == "both" else [substance])
        ]
        n = min(n, len(self.all_studies))
        while len(chosen) < n:
            pool = r.choice(pools)
            if not pool or r.random() < 0.15:
                pool = self.all_studies
            index = pool[int(len(pool) * r.random() ** 2.5)]
            if index not in chosen:
                chosen.append(index)
        return chosen

    def make_citations(self, claims: list[Claim], studies: list[Study]) -> list[Citation]:
        r = self.rng
        citations = []
        self.citations_of: list[list[Citation]] = []
        for claim in claims:
            n = r.choices(range(1, MAX_CITATIONS + 1), weights=CITATIONS_PER_CLAIM)[0]
            mine = []
            for index in self.draw_studies(claim.substance, n):
                study = studies[index]
                relation = self.pick(RELATION_WEIGHTS)
                words = self.words(claim.substance if claim.substance in MECHANISM_OF else "ketamine")
                directness = r.choices(list(Directness.values), weights=[40, 35, 15, 10])[0]
                when = self.later(max(claim.created_at, study.created_at), 0.1)
                citation = Citation(
                    claim=claim,
                    study=study,
                    relation=relation,
                    note=r.choice(CITATION_NOTES[relation]).format_map(words),
                    directness=directness,
                    directness_note=r.choice(DIRECTNESS_NOTES).format_map(words)
                    if directness in (Directness.PARTLY_INDIRECT, Directness.INDIRECT)
                    else "",
                    added_by_id=r.choice(self.curators) if self.curators else None,
                    created_at=when,
                    updated_at=when,
                )
                self.remember(citation, when, citation.added_by_id)
                mine.append(citation)
            citations.extend(mine)
            self.citations_of.append(mine)
        return citations

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

    def latent_rank(self, citations: list[Citation]) -> float:
        """How strong a careful reviewer would find the evidence, 1 (very low) to 4 (high), before noise."""
        supports = [
            c
            for c in citations
            if c.relation == Relation.SUPPORTS and c.study.retraction_status != RetractionStatus.RETRACTED
        ]
        contradicts = sum(c.relation == Relation.CONTRADICTS for c in citations)
        rank = 1.3 + 1.2 * any(c.study.design in STRONG_DESIGNS for c in supports) + 0.5 * (len(supports) >= 2)
        return rank - 0.7 * (contradicts > 0) + self.rng.gauss(0, 0.5)

    def verdict_for(self, citations: list[Citation]) -> str:
        support = sum(
            c.relation == Relation.SUPPORTS and c.study.retraction_status != RetractionStatus.RETRACTED
            for c in citations
        )
        mixed = sum(c.relation == Relation.MIXED for c in citations)
        against = sum(c.relation == Relation.CONTRADICTS for c in citations)
        if support and not against and mixed <= support:
            return Verdict.SUPPORTED
        if support > against:
            return Verdict.PARTLY_SUPPORTED
        if against > support:
            return Verdict.CONTRADICTED
        return Verdict.UNSUPPORTED

    def make_reviews(self, claims: list[Claim], citations: list[Citation]) -> tuple[list[Review], list[Consensus]]:
        r = self.rng
        reviews: list[Review] = []
        consensus_rows: list[Consensus] = []
        self.claim_changes: list[list[_Change]] = [[] for _ in claims]
        self.last_reviewed: list[datetime | None] = [None] * len(claims)
        verdict_order = list(Verdict.values)
        for i, (claim, n) in enumerate(zip(claims, self.reviews_per_claim(), strict=True)):
            if not n:
                continue
            cited = self.citations_of[i]
            latent = self.latent_rank(cited)
            typical = self.verdict_for(cited)
            reviewers: list[int] = []
            while len(reviewers) < n:
                who = r.choices(self.reviewers, weights=self.reviewer_weights)[0]
                if who not in reviewers:
                    reviewers.append(who)
            start = max(c.created_at for c in cited)
            mine = []
            for reviewer in reviewers:
                rank = max(1, min(4, round(latent + r.gauss(0, 0.55))))
                verdict = typical
                if r.random() < 0.2:
                    shifted = verdict_order.index(verdict) + r.choice([-1, 1])
                    verdict = verdict_order[max(0, min(3, shifted))]
                created = self.later(start, 0.4)
                updated = self.later(created, 0.2) if r.random() < 0.2 else created
                review = Review(
                    claim=claim,
                    reviewer_id=reviewer,
                    certainty=CERTAINTIES[rank - 1],
                    verdict=verdict,
                    read_full_text=r.random() < 0.4,
                    rationale=" ".join(
                        t.format_map(self.words("ketamine")) for t in r.sample(RATIONALES, k=r.randint(1, 3))
                    ),
                    created_at=created,
                    updated_at=updated,
                    # lower certainty comes with more of GRADE's downgrade reasons
                    **{name: r.random() < (4 - rank) * 0.22 for name in DOWNGRADE_REASONS},
                )
                changes = []
                if updated != created:
                    changes.append(_Change(updated, {"updated_at": updated}, reviewer, "revised: rationale"))
                    # the first version said something slightly different
                    review._history_first = {"rationale": review.rationale.split(". ")[0].rstrip(".") + "."}  # type: ignore[attr-defined]
                self.remember(review, created, reviewer, changes)
                mine.append(review)
            reviews.extend(mine)
            consensus_rows.append(self.make_consensus(i, claim, mine))
        return reviews, consensus_rows

    def make_consensus(self, i: int, claim: Claim, reviews: list[Review]) -> Consensus:
        """The row reviews.consensus.consensus_refresh() would leave, then maybe an editor's decisions."""
        r = self.rng
        values = compute((review.certainty, review.verdict) for review in reviews)
        first = min(review.created_at for review in reviews)
        last = max(review.updated_at for review in reviews)
        self.last_reviewed[i] = last
        consensus = Consensus(
            claim=claim,
            n_reviews=values.n_reviews,
            certainty=values.certainty,
            verdict=values.verdict,
            certainty_spread=values.certainty_spread,
            verdict_split=values.verdict_split,
            disputed=values.disputed,
            last_reviewed_at=last,
            updated_at=last,
        )
        claim.status = ClaimStatus.IN_REVIEW
        first_reviewer = min(reviews, key=lambda review: review.created_at).reviewer_id
        self.claim_changes[i].append(
            _Change(first, {"status": ClaimStatus.IN_REVIEW}, first_reviewer, "review submitted")
        )
        changes: list[_Change] = []
        first_values = {
            "adjudicated_certainty": "",
            "adjudicated_verdict": "",
            "adjudication_rationale": "",
            "adjudicated_by_id": None,
            "adjudicated_at": None,
            "published_certainty": "",
            "published_verdict": "",
            "published_rationale": "",
            "published_by_id": None,
            "published_at": None,
        }
        when = last
        needs_editor = values.disputed or values.n_reviews < 2
        if needs_editor and self.editors and r.random() < 0.5:
            when = self.later(when, 0.2)
            editor = r.choice(self.editors)
            rank = Certainty.rank(values.certainty) - (
                1 if values.disputed and Certainty.rank(values.certainty) > 1 else 0
            )
            consensus.adjudicated_certainty = CERTAINTIES[rank - 1]
            consensus.adjudicated_verdict = values.verdict
            consensus.adjudication_rationale = r.choice(ADJUDICATIONS)
            consensus.adjudicated_by_id = editor
            consensus.adjudicated_at = when
            changes.append(
                _Change(
                    when,
                    {key: getattr(consensus, key) for key in first_values if key.startswith("adjudicat")}
                    | {"updated_at": when},
                    editor,
                    f"adjudicated by synthetic editor {editor}",
                )
            )
        if not publish_blockers(claim, consensus) and self.editors and r.random() < 0.6:
            when = self.later(when, 0.2)
            editor = r.choice(self.editors)
            decision = consensus.decision
            consensus.published_certainty = decision.certainty
            consensus.published_verdict = decision.verdict
            consensus.published_rationale = decision.rationale or r.choice(PUBLISHED_RATIONALES)
            consensus.published_by_id = editor
            consensus.published_at = when
            changes.append(
                _Change(
                    when,
                    {key: getattr(consensus, key) for key in first_values if key.startswith("published")}
                    | {"updated_at": when},
                    editor,
                    f"published by synthetic editor {editor}",
                )
            )
            claim.status = ClaimStatus.PUBLISHED
            self.claim_changes[i].append(_Change(when, {"status": ClaimStatus.PUBLISHED}, editor, "verdict published"))
        consensus.updated_at = when
        consensus._history_first = first_values | {"updated_at": last}  # type: ignore[attr-defined]
        self.remember(consensus, first, None, changes)
        return consensus

    def make_flags(self, claims: list[Claim], citations: list[Citation], consensus: list[Consensus]) -> list[Flag]:
        r = self.rng
        flags: list[Flag] = []
        for i, claim in enumerate(claims):
            # the system's flags: one per retracted study the claim relies on, as the import raises them
            for citation in self.citations_of[i]:
                study = citation.study
                if citation.relation not in RELIANT_RELATIONS or study.retraction_status != RetractionStatus.RETRACTED:
                    continue
                raised = max(study.updated_at, citation.created_at)
                flag = Flag(
                    claim=claim,
                    study=study,
                    reason=FlagReason.RETRACTED_SOURCE,
                    note=f"Cites a retracted study as evidence: {study}.",
                    raised_at=raised,
                )
                if r.random() < 0.25 and self.editors:
                    self.close_flag(flag, "Verdict re-reviewed without the retracted study.")
                self.remember(flag, raised, None, self.flag_changes(flag))
                flags.append(flag)
                reviewed = self.last_reviewed[i]
                if claim.status in (ClaimStatus.IN_REVIEW, ClaimStatus.PUBLISHED) and reviewed and raised > reviewed:
                    claim.status = ClaimStatus.NEEDS_REREVIEW
                    self.claim_changes[i].append(
                        _Change(raised, {"status": ClaimStatus.NEEDS_REREVIEW}, None, "relies on a retracted study")
                    )
            # editors' flags on some claims
            if self.editors and r.random() < 0.07:
                for reason in r.sample(EDITOR_FLAG_REASONS, k=1 if r.random() < 0.9 else 2):
                    raised = self.later(claim.created_at, 0.6)
                    flag = Flag(
                        claim=claim,
                        reason=reason,
                        note=FLAG_NOTES[reason],
                        raised_by_id=r.choice(self.editors),
                        raised_at=raised,
                    )
                    if r.random() < 0.55:
                        self.close_flag(flag, r.choice(RESOLUTION_NOTES))
                    self.remember(flag, raised, flag.raised_by_id, self.flag_changes(flag))
                    flags.append(flag)
        # every status change a claim went through, in order; updated_at is the last one
        for claim, changes in zip(claims, self.claim_changes, strict=True):
            changes.sort(key=lambda change: change.when)
            status = ClaimStatus.AWAITING_REVIEW
            for change in changes:
                change.values["updated_at"] = change.when
                status = change.values["status"]
            claim.status = status
            if changes:
                claim.updated_at = changes[-1].when
            claim._history_first = {"status": ClaimStatus.AWAITING_REVIEW, "updated_at": claim.created_at}  # type: ignore[attr-defined]
            self.remember(claim, claim.created_at, None, changes)
        return flags

    def stamp_evidence_changes(self, claims: list[Claim]) -> None:
        """Each claim's ``evidence_changed_at``, as the services would have set it: the latest of its
        citations being added, a retraction notice of a study it cites (its only change of status) and
        its being sent back for re-review. Called once the claims' status changes are known."""
        for claim, citations, changes in zip(claims, self.citations_of, self.claim_changes, strict=True):
            moments = [citation.updated_at for citation in citations]
            moments += [c.study.updated_at for c in citations if c.study.retraction_status != RetractionStatus.NONE]
            moments += [change.when for change in changes if change.values["status"] == ClaimStatus.NEEDS_REREVIEW]
            claim.evidence_changed_at = max(moments, default=None)

    def close_flag(self, flag: Flag, note: str) -> None:
        flag.status = FlagStatus.RESOLVED if self.rng.random() < 0.65 else FlagStatus.DISMISSED
        flag.resolved_by_id = self.rng.choice(self.editors)
        flag.resolved_at = self.later(flag.raised_at, 0.3)
        flag.resolution_note = note
        flag._history_first = {  # type: ignore[attr-defined]
            "status": FlagStatus.OPEN,
            "resolved_by_id": None,
            "resolved_at": None,
            "resolution_note": "",
        }

    def flag_changes(self, flag: Flag) -> list[_Change]:
        if flag.status == FlagStatus.OPEN:
            return []
        values = {"status": flag.status, "resolved_by_id": flag.resolved_by_id, "resolved_at": flag.resolved_at}
        return [_Change(flag.resolved_at, values, flag.resolved_by_id, f"{flag.status} by an editor")]

    def write_history(self) -> None:
        """A "+" row per row as it was first written, then a "~" row per later change, oldest first.

        The final values are on the object; ``_history_first`` holds the fields whose first version
        differed, and each change lists the fields it set, so every version in between is rebuilt by
        applying the changes in order.
        """
        reason = f"synthetic data set (generate_dataset --seed {self.seed})"
        for model, entries in self.history.items():
            history_model = model.history.model
            tracked = [f.attname for f in history_model.tracked_fields]
            rows: list[dict[str, Any]] = []
            for obj, created, user_id, changes in entries:
                values = {name: getattr(obj, name) for name in tracked}
                values.update(getattr(obj, "_history_first", {}))
                rows.append(
                    values
                    | {
                        "history_date": created,
                        "history_type": "+",
                        "history_user_id": user_id,
                        "history_change_reason": reason,
                    }
                )
                for change in sorted(changes, key=lambda change: change.when):
                    values = values | change.values
                    rows.append(
                        values
                        | {
                            "history_date": change.when,
                            "history_type": "~",
                            "history_user_id": change.user_id,
                            "history_change_reason": change.reason,
                        }
                    )
            self.writer.insert_values(history_model, rows)


def generate(
    *,
    size: Size,
    seed: int,
    password: str = DEFAULT_PASSWORD,
    on_phase: Callable[[str, float], None] | None = None,
) -> Result:
    """Generate and write the library; the caller holds the transaction (and checks the database is empty).
    ``on_phase(name, seconds)`` is called as each phase ends."""
    result = Generator(size, seed, password=password, on_phase=on_phase).run()
    # COPY bypasses the model signals that move the data version: move it once, when the transaction
    # commits, so that no cache keeps serving pages from before the library changed
    caching.touch()
    return result


def library_models() -> list[type[models.Model]]:
    """The tables the generator fills (with their history), children first: what --force empties."""
    tracked = [Flag, Consensus, Review, Citation, Claim, Study, Article]
    from evidence.models import ArticleRevision

    return [*tracked, ArticleRevision, *(model.history.model for model in tracked)]


def library_is_empty() -> bool:
    return not any(model.objects.exists() for model in (Article, Claim, Study, Citation, Review, Consensus, Flag))


def empty_library() -> None:
    """Delete every article, claim, study, citation, review, consensus row and flag, and their history
    (the data version row stays: generate() moves it)."""
    tables = library_models()
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # TRUNCATE refuses tables with foreign-key checks still deferred in this transaction
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            # no CASCADE: a table elsewhere that points at these makes this fail rather than lose rows
            cursor.execute(f"TRUNCATE {', '.join(quote(model._meta.db_table) for model in tables)} RESTART IDENTITY")
        return
    for model in tables:
        model.objects.all().delete()


def analyze() -> None:
    """Fresh planner statistics for the tables just filled (PostgreSQL only; outside the transaction)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(quote(model._meta.db_table) for model in library_models())}")
