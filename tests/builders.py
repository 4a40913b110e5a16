"""Rows for tests, valid by default: each test overrides only the fields it is about. The one module of
test builders, in three parts:

- plain rows: functions over the ORM (``article``, ``claim``, ``study``, ``citation``, ``user``, ``review``,
  ``flag``), so what a test stores is visible at the call;
- data sets of any size: factory_boy factories, ``add_claim``, ``publish`` and ``grow`` (the query-budget
  tests' data);
- the review workflow: articles with many claims, ``trial``, ``cite``, ``rate`` (through the review service),
  and the permission matrices' scene (``users_by_role``, ``RoleWorld``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from itertools import count
from typing import Any

import factory
from django.contrib.auth.models import AbstractBaseUser, User
from django.utils import timezone

from evidence import anchoring
from evidence.models import Article, Citation, Claim, Study
from reviews.consensus import how_reached
from reviews.grade import Concern, EvidenceDesign, Grading
from reviews.models import Conflict, Consensus, Flag, Review, VerdictVersion
from reviews.services import review_submit

_serial = count(1)

TEXT = (
    "A test article\n"
    "Background\n"
    "Ketamine lifts mood within hours. MDMA makes people feel close to each other.\n"
    "Risks\n"
    "Both drugs raise blood pressure. Ketamine can cause bladder damage with heavy use.\n"
)
HEADINGS = ["Background", "Risks"]


def article(**fields: Any) -> Article:
    n = next(_serial)
    values: dict[str, Any] = {"slug": f"article-{n}", "title": f"Article {n}", "text": TEXT, "headings": HEADINGS}
    values.update(fields)
    return Article.objects.create(**values)


def claim(on: Article | None = None, quote: str = "Ketamine lifts mood within hours.", **fields: Any) -> Claim:
    """A claim anchored where its quote occurs in the article's text, as the import and the admin do."""
    on = on or article()
    anchor = anchoring.locate(on.text, quote)
    values: dict[str, Any] = {
        "article": on,
        "quote": quote,
        "start": anchor.start,
        "end": anchor.end,
        "prefix": anchor.prefix,
        "suffix": anchor.suffix,
        "section": anchoring.section_at(on.text, on.headings, anchor.start),
        "claim_type": Claim.ClaimType.EFFICACY,
    }
    values.update(fields)
    return Claim.objects.create(**values)


def study(**fields: Any) -> Study:
    n = next(_serial)
    values: dict[str, Any] = {"title": f"A trial of something, part {n}", "year": 2020}
    values.update(fields)
    return Study.objects.create(**values)


def citation(on: Claim, of: Study, **fields: Any) -> Citation:
    values: dict[str, Any] = {"relation": Citation.Relation.SUPPORTS}
    values.update(fields)
    return Citation.objects.create(claim=on, study=of, **values)


def user(username: str | None = None) -> User:
    """A user who cannot sign in; enough to own reviews and flags (and no slow password hashing)."""
    name = username or f"person{next(_serial)}"
    return User.objects.create_user(name, f"{name}@example.org", password=None)


def review(on: Claim, by: User, **fields: Any) -> Review:
    values: dict[str, Any] = {
        "certainty": "moderate",
        "verdict": "supported",
        "rationale": "Two randomised trials agree.",
        # GRADE ratings that give moderate certainty, and no conflict of interest (reviews.grade)
        "evidence_design": "randomised",
        "imprecision": "serious",
        "conflict_of_interest": "none",
    }
    values.update(fields)
    return Review.objects.create(claim=on, reviewer=by, **values)


def flag(on: Claim, **fields: Any) -> Flag:
    values: dict[str, Any] = {"reason": Flag.Reason.OVERSTATED}
    values.update(fields)
    return Flag.objects.create(claim=on, **values)


# --- Data sets of any size: factory_boy factories -------------------------------------------------------


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Test article {n}")
    slug = factory.Sequence(lambda n: f"test-article-{n}")
    text = "Title\n\nSection one\n"
    headings = factory.LazyFunction(lambda: ["Section one"])


_claim_numbers = itertools.count(1)


def add_claim(article: Article, sentence: str | None = None, **fields) -> Claim:
    """Append a sentence to the article's text and create the claim that quotes it."""
    n = next(_claim_numbers)
    sentence = sentence or f"Claim sentence number {n} of {article.slug} says something testable."
    article.text = f"{article.text}{sentence}\n"
    article.save(update_fields=["text"])
    anchor = anchoring.locate(article.text, sentence)
    defaults = {"key": f"C{n}", "claim_type": Claim.ClaimType.EFFICACY, "substance": "ketamine"}
    defaults.update(fields)
    return Claim.objects.create(
        article=article,
        quote=sentence,
        start=anchor.start,
        end=anchor.end,
        prefix=anchor.prefix,
        suffix=anchor.suffix,
        section="Section one",
        **defaults,
    )


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    title = factory.Sequence(lambda n: f"A randomised trial number {n} of something")
    authors = factory.LazyFunction(lambda: [{"family": "Tester", "given": "Ada"}, {"family": "Prober", "given": "Bo"}])
    container_title = "Journal of Tests"
    year = 2020
    # 10.5555 is the DOI prefix reserved for examples and tests
    doi = factory.Sequence(lambda n: f"10.5555/test.{n}")
    design = Study.Design.RCT
    sample_size = 40
    verified = True


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    study = factory.SubFactory(StudyFactory)
    relation = Citation.Relation.SUPPORTS
    note = "Shows it."


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    certainty = "moderate"
    verdict = "supported"
    rationale = "Two consistent trials."
    # GRADE ratings that give moderate certainty, and no conflict of interest (reviews.grade)
    evidence_design = "randomised"
    imprecision = "serious"
    conflict_of_interest = "none"


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    reason = Flag.Reason.OVERSTATED
    note = "Too strong."


def publish(claim: Claim, verdict: str = "supported", certainty: str = "moderate", **fields) -> Consensus:
    """A published verdict, as the editor's publish action leaves it: the claim's next verdict version,
    closing its current round, and the consensus's snapshot pointing at it."""
    now = timezone.now()
    values = {
        "n_reviews": 2,
        "certainty": certainty,
        "verdict": verdict,
        "published_certainty": certainty,
        "published_verdict": verdict,
        "published_rationale": "Reviewed against the cited trials.",
        "published_at": now,
        "last_reviewed_at": now,
    }
    values.update(fields)
    consensus, _ = Consensus.objects.update_or_create(claim=claim, defaults=values)
    number = VerdictVersion.objects.filter(claim=claim).count() + 1
    version = VerdictVersion.objects.create(
        claim=claim,
        number=number,
        round=consensus.round,
        certainty=consensus.published_certainty,
        verdict=consensus.published_verdict,
        rationale=consensus.published_rationale,
        how_reached=how_reached(consensus),
        n_reviews=consensus.n_reviews,
        certainty_spread=consensus.certainty_spread,
        verdict_split=consensus.verdict_split,
        last_reviewed_at=consensus.last_reviewed_at,
        adjudicated=consensus.adjudicated_at is not None,
        published_by=consensus.published_by,
        published_at=consensus.published_at,
    )
    Consensus.objects.filter(pk=consensus.pk).update(published_version=version)
    consensus.published_version = version
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PUBLISHED)
    return consensus


def grow(article: Article, n_claims: int, reviewer) -> None:
    """Add claims, each with citations of every relation, a flag, a review and a published verdict: the
    data that makes a page run a query per row if it is going to (the query-budget tests)."""
    for i in range(n_claims):
        c = add_claim(article, substance="MDMA" if i % 2 else "ketamine")
        for relation in ("supports", "mixed", "contradicts", "context"):
            CitationFactory(claim=c, relation=relation)
        FlagFactory(claim=c)
        ReviewFactory(claim=c, reviewer=reviewer)
        publish(c, verdict="supported" if i % 2 else "contradicted")


# --- The review workflow ------------------------------------------------------------------------------------


def article_with_claims(n: int, *, slug: str | None = None) -> Article:
    """An article whose text holds ``n`` one-sentence claims, each anchored on its sentence."""
    number = next(_serial)
    sentences = [f"Claim {i} of article {number} says that a drug works." for i in range(1, n + 1)]
    text = "\n".join(sentences) + "\n"
    article = Article.objects.create(
        slug=slug or f"review-test-article-{number}", title=f"Review test article {number}", text=text
    )
    claims, offset = [], 0
    for i, sentence in enumerate(sentences, start=1):
        claims.append(
            Claim(
                article=article,
                key=f"T{i}",
                quote=sentence,
                start=offset,
                end=offset + len(sentence),
                claim_type=Claim.ClaimType.EFFICACY,
            )
        )
        offset += len(sentence) + 1
    Claim.objects.bulk_create(claims)
    return article


def trial(**fields: Any) -> Study:
    """A randomised trial of 40 people (the review-workflow tests' study)."""
    number = next(_serial)
    values = {"title": f"A randomised trial number {number}", "design": Study.Design.RCT, "sample_size": 40}
    values.update(fields)
    return Study.objects.create(**values)


def cite(claim: Claim, cited: Study, relation: str = Citation.Relation.SUPPORTS) -> Citation:
    """A citation stored as it is, for setting a scene: unlike evidence.services.citation_create, it neither
    flags a claim relying on a retracted study nor marks the claim's evidence changed for its reviewers."""
    return Citation.objects.create(claim=claim, study=cited, relation=relation, note="Shows it.")


# GRADE ratings of randomised evidence that give each certainty (reviews.grade.computed_certainty).
GRADINGS = {
    "high": Grading(evidence_design=EvidenceDesign.RANDOMISED),
    "moderate": Grading(evidence_design=EvidenceDesign.RANDOMISED, imprecision=Concern.SERIOUS),
    "low": Grading(evidence_design=EvidenceDesign.RANDOMISED, imprecision=Concern.VERY_SERIOUS),
    "very_low": Grading(
        evidence_design=EvidenceDesign.RANDOMISED, risk_of_bias=Concern.SERIOUS, imprecision=Concern.VERY_SERIOUS
    ),
}


def grade_fields(certainty: str) -> dict[str, str]:
    """The review form's (and the API's) GRADE fields for ratings that give ``certainty``, with "no
    conflict of interest" declared: what a test posts besides certainty, verdict and rationale."""
    values = GRADINGS[certainty].values()
    return {
        **{name: value for name, value in values.items() if not isinstance(value, bool)},
        "conflict_of_interest": Conflict.NONE,
    }


def graded(certainty: str) -> dict:
    """The service's GRADE and declaration arguments for ratings that give ``certainty`` and no conflict."""
    return {"grading": GRADINGS[certainty], "conflict_of_interest": Conflict.NONE}


def rate(
    claim: Claim, reviewer: AbstractBaseUser, certainty: str = "moderate", verdict: str = "supported", **extra
) -> Review:
    """Submit (or replace) ``reviewer``'s review through the service, as the pages do; unless given, with
    GRADE ratings that give ``certainty`` (GRADINGS) and no conflict of interest declared."""
    extra.setdefault("grading", GRADINGS.get(certainty))
    extra.setdefault("conflict_of_interest", Conflict.NONE)
    return review_submit(
        claim=claim,
        reviewer=reviewer,
        certainty=certainty,
        verdict=verdict,
        rationale=extra.pop("rationale", f"{certainty} and {verdict}: the trials say so."),
        **extra,
    )


# --- One user per role, and a claim another reviewer has rated: the permission matrices' scene -----------

# A string only the other reviewer's rationale holds, so a page or an answer that leaks it is easy to see.
OTHERS_RATIONALE = "The other reviewer wrote this hidden reasoning, unique string 7f3a."


def users_by_role(make_user) -> dict[str, AbstractBaseUser | None]:
    """Anonymous (None), two reviewers, a curator, an editor and an administrator (conftest's make_user)."""
    return {
        "anonymous": None,
        "reviewer": make_user("Reviewers"),
        "other_reviewer": make_user("Reviewers"),
        "curator": make_user("Curators"),
        "editor": make_user("Editors"),
        "admin": make_user(superuser=True),
    }


@dataclass
class RoleWorld:
    """A claim citing one study, every role's user, and the other reviewer's review of the claim.
    Each permission test file says how a role signs in by defining ``client``."""

    claim: Claim
    users: dict[str, AbstractBaseUser | None]
    others_review: Review

    @classmethod
    def build(cls, make_user) -> RoleWorld:
        claim = article_with_claims(1).claims.get()
        cite(claim, study())
        users = users_by_role(make_user)
        others = rate(claim, users["other_reviewer"], "high", "supported", rationale=OTHERS_RATIONALE)
        return cls(claim, users, others)
