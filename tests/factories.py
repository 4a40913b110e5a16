"""factory_boy factories for data sets of any size. Claims are anchored in real article text."""

from __future__ import annotations

import itertools

import factory
from django.utils import timezone

from evidence import anchoring
from evidence.models import Article, Citation, Claim, Study
from reviews.models import Consensus, Flag, Review


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
    """A published verdict, as the editor's publish action leaves it."""
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
