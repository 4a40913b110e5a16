"""Every named database constraint refuses what it should, and allows its deliberate exceptions.

Each rejection is asserted by the constraint's name, so a test fails if the row is refused for some other
reason. Rows are written with the ORM's create() or update(), which skip model validation: the database
itself must refuse them. Also: the pure helpers in evidence.identifiers and evidence.anchoring.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from evidence import anchoring
from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.models import ArticleRevision, Citation, Claim, Study
from reviews.models import Consensus, Flag, Review
from tests import builders

pytestmark = pytest.mark.django_db


@contextmanager
def violates(constraint: str) -> Iterator[None]:
    """The block must fail on the named constraint; the savepoint keeps the test's transaction usable."""
    with pytest.raises(IntegrityError, match=f'"{constraint}"'):
        with transaction.atomic():
            yield


# --- Studies: identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second",
    [
        ("10.1016/S0006-3223(99)00230-9", "10.1016/s0006-3223(99)00230-9"),
        ("10.1016/s0006-3223(99)00230-9", "https://doi.org/10.1016/S0006-3223(99)00230-9"),
        ("doi:10.1016/S0006-3223(99)00230-9", "http://dx.doi.org/10.1016/s0006-3223(99)00230-9"),
    ],
)
def test_a_doi_differing_only_in_case_or_resolver_is_a_duplicate(first: str, second: str):
    builders.study(doi=normalize_doi(first))
    with violates("evidence_study_doi_unique"):
        builders.study(doi=normalize_doi(second))


@pytest.mark.parametrize("raw", ["10.1016/S0006-3223(99)00230-9", "https://doi.org/10.1016/s0006-3223(99)00230-9"])
def test_a_doi_written_without_normalising_is_refused(raw: str):
    with violates("evidence_study_doi_normalised"):
        builders.study(doi=raw)


def test_a_normalised_doi_is_stored_and_studies_without_one_do_not_collide():
    stored = builders.study(doi=normalize_doi("https://doi.org/10.1/ABC"))
    assert Study.objects.get(pk=stored.pk).doi == "10.1/abc"
    builders.study(doi="")
    builders.study(doi="")
    assert Study.objects.filter(doi="").count() == 2


def test_a_duplicate_pmid_is_refused_but_empty_pmids_do_not_collide():
    builders.study(pmid="10686270")
    with violates("evidence_study_pmid_unique"):
        builders.study(pmid="10686270")
    builders.study(pmid="")
    builders.study(pmid="")


@pytest.mark.parametrize("pmid", ["12a", "PMID:123", "0123", " 123", "12345678901"])
def test_a_pmid_that_is_not_digits_is_refused(pmid: str):
    with violates("evidence_study_pmid_digits"):
        builders.study(pmid=pmid)


def test_a_study_needs_a_title_doi_or_pmid():
    with violates("evidence_study_identifiable"):
        builders.study(title="", doi="", pmid="")
    # any one of the three is enough: the seed keeps a study whose title nobody could confirm
    builders.study(title="", doi="10.1/only-a-doi")
    builders.study(title="", pmid="42")


@pytest.mark.parametrize(
    "field, value, constraint",
    [
        ("month", 0, "evidence_study_month_valid"),
        ("month", 13, "evidence_study_month_valid"),
        ("day", 0, "evidence_study_day_valid"),
        ("day", 32, "evidence_study_day_valid"),
    ],
)
def test_impossible_dates_are_refused(field: str, value: int, constraint: str):
    with violates(constraint):
        builders.study(**{field: value})


# --- Choices ------------------------------------------------------------------------------------------------


def _claim() -> Claim:
    return builders.claim()


def _study() -> Study:
    return builders.study()


def _citation() -> Citation:
    return builders.citation(builders.claim(), builders.study())


def _review() -> Review:
    return builders.review(builders.claim(), builders.user())


def _consensus() -> Consensus:
    return Consensus.objects.create(claim=builders.claim())


def _flag() -> Flag:
    return builders.flag(builders.claim())


def _closed_flag() -> Flag:
    """Closed, so an unknown status breaks only the choices check, not the open/resolved one."""
    return builders.flag(builders.claim(), status=Flag.Status.RESOLVED, resolved_at=timezone.now())


@pytest.mark.parametrize(
    "make, field, constraint",
    [
        (_claim, "claim_type", "evidence_claim_type_valid"),
        (_claim, "kind", "evidence_claim_kind_valid"),
        (_claim, "status", "evidence_claim_status_valid"),
        (_study, "design", "evidence_study_design_valid"),
        (_study, "retraction_status", "evidence_study_retraction_valid"),
        (_citation, "relation", "evidence_citation_relation_valid"),
        (_citation, "directness", "evidence_citation_directness_valid"),
        (_review, "certainty", "reviews_review_certainty_valid"),
        (_review, "verdict", "reviews_review_verdict_valid"),
        (_review, "evidence_design", "reviews_review_design_valid"),
        (_review, "imprecision", "reviews_review_imprecision_valid"),
        (_review, "large_effect", "reviews_review_large_effect_valid"),
        (_review, "conflict_of_interest", "reviews_review_conflict_valid"),
        (_consensus, "certainty", "reviews_consensus_certainty_valid"),
        (_consensus, "verdict", "reviews_consensus_verdict_valid"),
        (_flag, "reason", "reviews_flag_reason_valid"),
        (_closed_flag, "status", "reviews_flag_status_valid"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_an_invalid_choice_is_refused(make, field: str, constraint: str):
    row: Model = make()
    valid = row._meta.get_field(field).choices
    assert "bogus" not in {value for value, _ in valid}
    with violates(constraint):
        type(row).objects.filter(pk=row.pk).update(**{field: "bogus"})


def test_choice_values_differing_only_in_case_are_refused():
    """The database compares exactly; "RCT" is not the stored value "rct"."""
    study = builders.study()
    with violates("evidence_study_design_valid"):
        Study.objects.filter(pk=study.pk).update(design="RCT")


# --- Claims -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end", [(10, 10), (10, 9)])
def test_a_claim_span_must_not_be_empty_or_reversed(start: int, end: int):
    with violates("evidence_claim_span_nonempty"):
        builders.claim(start=start, end=end)


def test_a_claim_needs_a_quote():
    with violates("evidence_claim_quote_nonempty"):
        Claim.objects.create(article=builders.article(), quote="", start=0, end=1, claim_type="efficacy")


def test_a_claim_key_is_unique_within_its_article_only():
    first = builders.claim(key="K1")
    with violates("evidence_claim_key_unique"):
        builders.claim(on=first.article, quote="Both drugs raise blood pressure.", key="K1")
    # the same key in another article is another claim
    builders.claim(key="K1")
    # blank keys never collide
    builders.claim(on=first.article, quote="Both drugs raise blood pressure.", key="")
    builders.claim(on=first.article, quote="MDMA makes people feel close to each other.", key="")
    assert first.article.claims.filter(key="").count() == 2


def test_a_study_is_cited_once_per_claim():
    claim, study = builders.claim(), builders.study()
    builders.citation(claim, study, relation=Citation.Relation.SUPPORTS)
    with violates("evidence_citation_once_per_claim"):
        builders.citation(claim, study, relation=Citation.Relation.CONTRADICTS)
    # the same study on another claim is fine
    builders.citation(builders.claim(on=claim.article, quote="Both drugs raise blood pressure."), study)


def test_revision_numbers_are_unique_per_article():
    article = builders.article()
    ArticleRevision.objects.create(article=article, number=1, text="old")
    with violates("evidence_revision_number_unique"):
        ArticleRevision.objects.create(article=article, number=1, text="older")
    ArticleRevision.objects.create(article=builders.article(), number=1, text="another article's first")


# --- Reviews ----------------------------------------------------------------------------------------------


def test_a_reviewer_reviews_a_claim_once_per_round():
    claim, reviewer = builders.claim(), builders.user()
    builders.review(claim, reviewer)
    with violates("reviews_review_one_per_round"):
        builders.review(claim, reviewer, verdict="unsupported")
    with violates("reviews_review_round_positive"):
        builders.review(claim, reviewer, round=0)
    # another reviewer on the same claim, the same reviewer in the claim's next round or on another claim, are fine
    builders.review(claim, builders.user())
    builders.review(claim, reviewer, round=2)
    builders.review(builders.claim(on=claim.article, quote="Both drugs raise blood pressure."), reviewer)


def test_a_review_needs_a_rationale():
    with violates("reviews_review_rationale_required"):
        builders.review(builders.claim(), builders.user(), rationale="")


def test_only_observational_evidence_is_upgraded():
    with violates("reviews_review_upgrades_observational"):
        builders.review(builders.claim(), builders.user(), evidence_design="randomised", dose_response=True)
    builders.review(builders.claim(), builders.user(), evidence_design="observational", dose_response=True)


def test_a_declared_conflict_says_what_it_is_and_none_says_nothing():
    with violates("reviews_review_conflict_statement"):
        builders.review(builders.claim(), builders.user(), conflict_of_interest="declared")
    with violates("reviews_review_conflict_statement"):
        builders.review(builders.claim(), builders.user(), conflict_of_interest="none", conflict_statement="A tie.")
    builders.review(builders.claim(), builders.user(), conflict_of_interest="declared", conflict_statement="A tie.")


# --- Flags ------------------------------------------------------------------------------------------------


def test_a_closed_flag_records_when_and_an_open_one_does_not():
    claim = builders.claim()
    with violates("reviews_flag_resolution_consistent"):
        builders.flag(claim, status=Flag.Status.RESOLVED, resolved_at=None)
    with violates("reviews_flag_resolution_consistent"):
        builders.flag(claim, status=Flag.Status.DISMISSED, resolved_at=None)
    with violates("reviews_flag_resolution_consistent"):
        builders.flag(claim, status=Flag.Status.OPEN, resolved_at=timezone.now())
    builders.flag(claim, status=Flag.Status.RESOLVED, resolved_at=timezone.now())


def test_one_open_flag_per_reason_on_a_claim():
    claim = builders.claim()
    first = builders.flag(claim, reason=Flag.Reason.OVERSTATED)
    with violates("reviews_flag_one_open_per_reason"):
        builders.flag(claim, reason=Flag.Reason.OVERSTATED)
    # another reason, or the same reason on another claim, is another problem
    builders.flag(claim, reason=Flag.Reason.OUTDATED)
    builders.flag(builders.claim(), reason=Flag.Reason.OVERSTATED)
    # once the first is resolved, the problem may be raised again
    Flag.objects.filter(pk=first.pk).update(status=Flag.Status.RESOLVED, resolved_at=timezone.now())
    builders.flag(claim, reason=Flag.Reason.OVERSTATED)


def test_retracted_source_flags_are_one_per_study():
    claim = builders.claim()
    one, two = builders.study(), builders.study()
    builders.flag(claim, reason=Flag.Reason.RETRACTED_SOURCE, study=one)
    builders.flag(claim, reason=Flag.Reason.RETRACTED_SOURCE, study=two)
    with violates("reviews_flag_one_open_per_study"):
        builders.flag(claim, reason=Flag.Reason.RETRACTED_SOURCE, study=one)
    assert claim.flags.filter(status=Flag.Status.OPEN).count() == 2


# --- Consensus ----------------------------------------------------------------------------------------------


def test_a_published_verdict_comes_with_its_certainty_date_and_nothing_half_published():
    now = timezone.now()
    claim = builders.claim()
    with violates("reviews_consensus_published_complete"):
        Consensus.objects.create(claim=claim, published_verdict="supported", published_certainty="high")
    with violates("reviews_consensus_published_complete"):
        Consensus.objects.create(claim=claim, published_verdict="supported", published_at=now)
    with violates("reviews_consensus_published_complete"):
        Consensus.objects.create(claim=claim, published_at=now)
    with violates("reviews_consensus_published_complete"):
        Consensus.objects.create(claim=claim, published_verdict="bogus", published_certainty="high", published_at=now)
    Consensus.objects.create(claim=claim, published_verdict="supported", published_certainty="high", published_at=now)


def test_an_adjudication_is_complete_or_absent():
    now = timezone.now() - timedelta(minutes=1)
    complete = {
        "adjudicated_verdict": "unsupported",
        "adjudicated_certainty": "low",
        "adjudication_rationale": "The two trials measured different outcomes.",
        "adjudicated_at": now,
    }
    claim = builders.claim()
    for missing in ("adjudicated_certainty", "adjudication_rationale", "adjudicated_at"):
        partial = {**complete, missing: None if missing == "adjudicated_at" else ""}
        with violates("reviews_consensus_adjudication_complete"):
            Consensus.objects.create(claim=claim, **partial)
    with violates("reviews_consensus_adjudication_complete"):
        Consensus.objects.create(claim=claim, adjudicated_at=now)
    Consensus.objects.create(claim=claim, **complete)
    Consensus.objects.create(claim=builders.claim())  # nothing adjudicated, nothing published


# --- evidence.identifiers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("10.1016/S0006-3223(99)00230-9", "10.1016/s0006-3223(99)00230-9"),
        ("https://doi.org/10.1016/S0006-3223(99)00230-9", "10.1016/s0006-3223(99)00230-9"),
        ("http://dx.doi.org/10.1/ABC", "10.1/abc"),
        ("doi:10.1/ABC", "10.1/abc"),
        ("  10.1/x  ", "10.1/x"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_doi(raw: str | None, normalised: str):
    assert normalize_doi(raw) == normalised


@pytest.mark.parametrize("raw", ["not a doi", "10.1", "https://example.org/paper"])
def test_normalize_doi_rejects_what_is_not_a_doi(raw: str):
    with pytest.raises(IdentifierError, match="is not a DOI"):
        normalize_doi(raw)


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("10686270", "10686270"),
        (10686270, "10686270"),
        ("PMID: 10686270", "10686270"),
        ("pmid:123", "123"),
        ("https://pubmed.ncbi.nlm.nih.gov/10686270/", "10686270"),
        ("https://www.ncbi.nlm.nih.gov/pubmed/10686270", "10686270"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_pmid(raw: str | int | None, normalised: str):
    assert normalize_pmid(raw) == normalised


@pytest.mark.parametrize("raw", ["0123", "12a", "12345678901", "10.1/abc"])
def test_normalize_pmid_rejects_what_is_not_a_pmid(raw: str):
    with pytest.raises(IdentifierError, match="is not a PubMed identifier"):
        normalize_pmid(raw)


def test_every_normalised_identifier_satisfies_the_check_constraints():
    """What the normaliser returns, the database accepts: the two agree on the format."""
    builders.study(doi=normalize_doi("https://doi.org/10.1/MiXeD"), pmid=normalize_pmid("PMID: 1"))


# --- evidence.anchoring -------------------------------------------------------------------------------------

TEXT = "Title\nIntro\nKetamine works fast. It works. MDMA works slowly.\nSafety\nIt works.\n"


def test_locate_anchors_a_quote_that_occurs_once():
    anchor = anchoring.locate(TEXT, "Ketamine works fast.")
    assert TEXT[anchor.start : anchor.end] == "Ketamine works fast."
    assert anchor.prefix == TEXT[: anchor.start]  # shorter than the context length at the top
    assert anchor.suffix == TEXT[anchor.end : anchor.end + anchoring.CONTEXT_LENGTH]
    assert len(anchor.suffix) == anchoring.CONTEXT_LENGTH


@pytest.mark.parametrize(
    "quote, reason",
    [
        ("Ketamine works slowly.", "does not occur"),
        ("It works.", "occurs 2 times"),
        ("works", "occurs 4 times"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_locate_refuses_a_missing_ambiguous_or_empty_quote(quote: str, reason: str):
    with pytest.raises(anchoring.AnchorError, match=reason):
        anchoring.locate(TEXT, quote)


def test_occurrences_include_overlapping_ones():
    assert anchoring.occurrences("aaaa", "aa") == [0, 1, 2]


def test_relocate_follows_the_quote_after_an_edit():
    old = anchoring.locate(TEXT, "MDMA works slowly.")
    revised = "Title\nA new paragraph was added here.\n" + TEXT[6:]
    moved = anchoring.relocate(revised, "MDMA works slowly.", old.prefix, old.suffix, old.start)
    assert moved is not None
    assert revised[moved.start : moved.end] == "MDMA works slowly."
    assert moved.start == old.start + len("A new paragraph was added here.\n")


def test_relocate_prefers_the_occurrence_whose_context_matches():
    """ "It works." occurs twice; the claim was the one under Safety, even though the other is nearer."""
    second = TEXT.rindex("It works.")
    old = anchoring.anchor_at(TEXT, second, second + len("It works."))
    revised = TEXT.replace("Intro\n", "Intro\n" + "Filler sentence. " * 10 + "\n")
    moved = anchoring.relocate(revised, "It works.", old.prefix, old.suffix, hint=revised.index("It works."))
    assert moved is not None
    assert moved.start == revised.rindex("It works.")
    # with no context to go on, the nearest occurrence to the old position wins
    near = anchoring.relocate(revised, "It works.", "", "", hint=0)
    assert near is not None and near.start == revised.index("It works.")


def test_relocate_returns_none_when_the_quote_is_gone():
    old = anchoring.locate(TEXT, "Ketamine works fast.")
    assert (
        anchoring.relocate(TEXT.replace("fast", "quickly"), "Ketamine works fast.", old.prefix, old.suffix, 0) is None
    )


def test_infer_headings_takes_short_lines_that_do_not_end_like_a_sentence():
    text = "The title\n\nFirst section\nA sentence ends here.\nAsked?\nSecond section\n" + "x" * 151 + "\n"
    assert anchoring.infer_headings(text) == ["First section", "Second section"]


def test_section_at_names_the_heading_above_an_offset():
    headings = ["Intro", "Safety"]
    assert anchoring.section_at(TEXT, headings, 0) == ""  # the title, before any heading
    assert anchoring.section_at(TEXT, headings, TEXT.index("Ketamine")) == "Intro"
    assert anchoring.section_at(TEXT, headings, TEXT.rindex("It works.")) == "Safety"
    assert anchoring.section_at(TEXT, headings, TEXT.index("Safety")) == "Safety"  # the heading line itself
    # a line that is not listed as a heading does not start a section
    assert anchoring.section_at(TEXT, ["Safety"], TEXT.index("Ketamine")) == ""


def test_lines_with_offsets_exclude_line_breaks():
    lines = anchoring.lines_with_offsets("ab\r\ncd\n\nef")
    assert [(line.start, line.end, line.text) for line in lines] == [
        (0, 2, "ab"),
        (4, 6, "cd"),
        (7, 7, ""),
        (8, 10, "ef"),
    ]


def test_doi_links_with_www_are_normalised():
    from evidence.identifiers import normalize_doi

    assert normalize_doi("https://www.doi.org/10.1016/S0006-3223(99)00230-9") == "10.1016/s0006-3223(99)00230-9"
