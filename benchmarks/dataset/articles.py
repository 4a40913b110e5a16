"""Drawing the library's articles: their text, sections and the claims the text makes.

Each article is a title, an introduction and sections of prose in which its claims stand, each claim's
words occurring exactly once in the text (evidence.services.bulk.articles_create_bulk anchors them there
and refuses a quote that is missing or ambiguous). Lengths follow a long tail; with enough claims, one
article gets exactly BENCHMARK_ARTICLE_CLAIMS, the benchmark's "article page with 100 claims".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.text import slugify

from benchmarks.dataset.draw import REFERENCE_TIME, Dice
from benchmarks.dataset.vocabulary import (
    BOTH_TEMPLATES,
    CLAIM_TEMPLATES,
    CLAIM_TYPE_WEIGHTS,
    ELABORATIONS,
    EVIDENCE_NOTES,
    FILLERS,
    HEADINGS,
    OUTLETS,
    QUOTATIONS,
    SUBSTANCES,
    TITLES,
)
from evidence.models import ClaimKind, ClaimType

BENCHMARK_ARTICLE_CLAIMS = 100


@dataclass
class PlannedClaim:
    index: int  # the claim's place in the whole library: events name claims by it
    quote: str
    substance: str
    at: datetime
    values: dict[str, Any]  # what articles_create_bulk takes besides the quote: key, kind, claim_type, …


@dataclass
class PlannedArticle:
    values: dict[str, Any]  # slug, title, author, publisher, url, published_on, text, headings
    at: datetime
    user_id: int | None
    claims: list[PlannedClaim] = field(default_factory=list)


class ArticleDrafts:
    """Draws articles with their claims; ``used_slugs`` holds the slugs already taken (--append)."""

    def __init__(self, dice: Dice, used_slugs: set[str], editors: list[int]) -> None:
        self.dice = dice
        self.rng = dice.rng
        self.used_slugs = used_slugs
        self.editors = editors

    def claims_per_article(self, articles: int, claims: int) -> list[int]:
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

    def articles(self, articles: int, claims: int) -> list[PlannedArticle]:
        planned: list[PlannedArticle] = []
        first_claim = 0
        for n_claims in self.claims_per_article(articles, claims):
            article = self.article(n_claims, first_claim)
            first_claim += len(article.claims)
            planned.append(article)
        return planned

    def sentence(self, templates: Sequence[str], substance: str, seen: set[str], tries: int = 50) -> str | None:
        """A sentence the article does not contain yet, or None when ``tries`` draws found none."""
        for _ in range(tries):
            text = self.rng.choice(templates).format_map(self.dice.words(substance))
            if text not in seen:
                seen.add(text)
                return text
        return None

    def prose(self, templates: Sequence[str], substance: str, seen: set[str]) -> str:
        """A sentence around the claims: new to the article if possible, else a repeat (prose templates
        never produce a claim's words, so a repeat cannot make a quote ambiguous)."""
        text = self.sentence(templates, substance, seen, tries=20)
        return text if text is not None else self.rng.choice(templates).format_map(self.dice.words(substance))

    def article(self, n_claims: int, first_claim: int) -> PlannedArticle:
        r = self.rng
        main = self.pick_substance()
        title = r.choice(TITLES).format_map(self.dice.words(main))
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
        claim_texts: list[tuple[str, str, str, str]] = []  # quote, substance, claim type, kind, in text order
        for section_index in range(-1, n_sections):
            if section_index >= 0:
                parts.append(f"{headings[section_index]}\n\n")
            items: list[str] = []
            n_here = placement.count(section_index)
            # short sections still get a few paragraphs of prose around their claims
            fillers = max(0, r.randint(3, 6) - n_here)
            for _ in range(n_here):
                drawn = self.claim_sentence(r.choice([main, main, self.pick_substance()]), seen, claim_texts)
                claim_texts.append(drawn)
                items.extend(self.prose(FILLERS, main, seen) for _ in range(r.choice([0, 1, 1, 2])))
                items.append(drawn[0])
            items.extend(self.prose(FILLERS, main, seen) for _ in range(fillers))
            while items:
                size = r.randint(2, 5)
                parts.append(" ".join(items[:size]) + "\n\n")
                items = items[size:]
        text = "".join(parts).rstrip("\n") + "\n"

        article = PlannedArticle(
            values={
                "slug": slug,
                "title": title,
                "author": self.dice.person(),
                "publisher": r.choice(OUTLETS),
                "url": f"https://news.example.org/{published.year}/{slug}",
                "published_on": published,
                "text": text,
                "headings": headings,
            },
            at=created,
            user_id=r.choice(self.editors) if self.editors else None,
        )
        for number, (quote, substance, claim_type, kind) in enumerate(claim_texts, start=1):
            values = {
                "key": f"C{number}",
                "kind": kind,
                "substance": substance,
                "claim_type": claim_type,
                "secondary_types": [r.choice(list(ClaimType.values))] if r.random() < 0.2 else [],
                "evidence_note": r.choice(EVIDENCE_NOTES) if r.random() < 0.6 else "",
            }
            at = created + timedelta(minutes=r.randint(5, 600))
            if kind == ClaimKind.QUOTATION:
                values["attributed_to"] = quote.rsplit("said ", 1)[-1].rstrip(".")
                values["attribution_status"] = r.choice(["documented", "documented (wording varies)", "unverified"])
                values["attribution_note"] = "Checked against the interview transcript." if r.random() < 0.5 else ""
            index = first_claim + number - 1
            article.claims.append(PlannedClaim(index=index, quote=quote, substance=substance, at=at, values=values))
        return article

    def pick_substance(self) -> str:
        return self.dice.pick({key: weight for key, (_, weight) in SUBSTANCES.items()})

    def claim_sentence(
        self, substance: str, seen: set[str], claims: list[tuple[str, str, str, str]]
    ) -> tuple[str, str, str, str]:
        """A new claim for the article, (quote, substance, claim type, kind), whose words occur once in it:
        not inside another claim of ``claims`` ("LSD changes X." stands in "In rats, LSD changes X."), and
        not around one."""
        r = self.rng

        def alone(text: str | None) -> str | None:
            if text is None or any(text in quote or quote in text for quote, *_ in claims):
                return None
            return text

        if r.random() < 0.03:
            text = alone(self.sentence(QUOTATIONS, substance, seen))
            if text is not None:
                return text, substance, ClaimType.OTHER, ClaimKind.QUOTATION
        for _ in range(20):
            if substance == "both":
                claim_type, template = r.choice(BOTH_TEMPLATES)
                text = alone(self.sentence([template], substance, seen, tries=5))
            else:
                claim_type = self.dice.pick(CLAIM_TYPE_WEIGHTS)
                text = alone(self.sentence(CLAIM_TEMPLATES[claim_type], substance, seen, tries=10))
            if text is None:
                # this kind of claim about this substance is used up in this article (or the draw stands
                # inside another claim); draw another
                substance = self.pick_substance()
                continue
            if r.random() < 0.1:
                # a claim quoted over two sentences
                # the first sentence is new to the article, so the pair is too
                text = f"{text} {r.choice(ELABORATIONS).format_map(self.dice.words(substance))}"
                seen.add(text)
            return text, substance, claim_type, ClaimKind.CLAIM
        raise RuntimeError("could not draw a claim the article does not already contain")
