"""Helpers for the review-workflow tests: plain functions, so each test shows what it stores."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from django.contrib.auth.models import AbstractBaseUser

from evidence.models import Article, Citation, Claim, Study
from reviews.grade import Concern, EvidenceDesign, Grading
from reviews.models import Conflict, Review
from reviews.services import review_submit

_serial = count(1)


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


def study(**fields) -> Study:
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
