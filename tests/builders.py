"""Rows for tests, valid by default: each test overrides only the fields it is about.

Plain functions over the ORM rather than factories, so what a test stores is visible at the call.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from django.contrib.auth.models import User

from evidence import anchoring
from evidence.models import Article, Citation, Claim, Study
from reviews.models import Flag, Review

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
