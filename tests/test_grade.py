"""GRADE as GRADEpro records it (issue 19 §4) and the conflict-of-interest declaration (§3): the pure rules of
reviews.grade, their enforcement by the services (one at a time and in bulk), the review form's field errors,
the API, the pages that show a review, and the migration from the old downgrade booleans."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.grade import (
    DOWNGRADE_DOMAINS,
    Certainty,
    Concern,
    EvidenceDesign,
    Grading,
    LargeEffect,
    certainty_errors,
    computed_certainty,
    grading_errors,
)
from reviews.models import Review
from reviews.services import ReviewSubmission, review_submit, reviews_submit_bulk
from tests.builders import article_with_claims, grade_fields, graded, publish, rate

RCT, OBS = EvidenceDesign.RANDOMISED, EvidenceDesign.OBSERVATIONAL
ALL_SERIOUS = dict.fromkeys(DOWNGRADE_DOMAINS, Concern.SERIOUS)

# --- The rules ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grading", "expected"),
    [
        (Grading(RCT), "high"),
        (Grading(OBS), "low"),
        (Grading(RCT, risk_of_bias=Concern.SERIOUS), "moderate"),
        (Grading(RCT, imprecision=Concern.VERY_SERIOUS), "low"),
        (Grading(RCT, risk_of_bias=Concern.SERIOUS, imprecision=Concern.VERY_SERIOUS), "very_low"),
        (Grading(RCT, **ALL_SERIOUS), "very_low"),  # five levels down from high: no lower than very low
        (Grading(OBS, large_effect=LargeEffect.LARGE), "moderate"),
        (Grading(OBS, large_effect=LargeEffect.VERY_LARGE), "high"),
        (Grading(OBS, large_effect=LargeEffect.VERY_LARGE, dose_response=True), "high"),  # no higher than high
        (Grading(OBS, dose_response=True, plausible_confounding=True), "high"),
        (Grading(OBS, indirectness=Concern.SERIOUS, dose_response=True), "low"),  # one down, one up
        (Grading(OBS, publication_bias=Concern.SERIOUS), "very_low"),
    ],
)
def test_the_certainty_follows_from_the_starting_level_the_downgrades_and_the_upgrades(grading, expected):
    assert grading_errors(grading) == {}
    assert computed_certainty(grading) == expected


def test_upgrades_are_for_observational_evidence_only():
    assert grading_errors(Grading(RCT, large_effect=LargeEffect.LARGE)).keys() == {"large_effect"}
    assert grading_errors(Grading(RCT, dose_response=True, plausible_confounding=True)).keys() == {
        "dose_response",
        "plausible_confounding",
    }
    assert grading_errors(Grading(OBS, large_effect=LargeEffect.LARGE, dose_response=True)) == {}


def test_ratings_outside_the_scale_are_errors_on_their_fields():
    errors = grading_errors(Grading("", risk_of_bias="serious-ish", large_effect="huge"))
    assert errors.keys() == {"evidence_design", "risk_of_bias", "large_effect"}


def test_high_with_five_serious_downgrades_is_refused_on_the_certainty_even_with_a_reason():
    errors = certainty_errors(Grading(RCT, **ALL_SERIOUS), "high", "I trust these trials.")
    assert errors.keys() == {"certainty"}
    assert errors["certainty"].startswith("High is 3 levels from the very low certainty your ratings give")


def test_one_level_from_the_computed_certainty_needs_a_reason():
    moderate = Grading(RCT, imprecision=Concern.SERIOUS)
    assert certainty_errors(moderate, "moderate", "") == {}
    assert certainty_errors(moderate, "low", "").keys() == {"certainty_reason"}
    assert certainty_errors(moderate, "low", "  ").keys() == {"certainty_reason"}
    assert certainty_errors(moderate, "low", "Two borderline concerns, in two domains.") == {}
    assert certainty_errors(moderate, "very_low", "Far too weak.").keys() == {"certainty"}


gradings = st.builds(
    Grading,
    evidence_design=st.sampled_from(EvidenceDesign.values),
    **{name: st.sampled_from(Concern.values) for name in DOWNGRADE_DOMAINS},
    large_effect=st.sampled_from(LargeEffect.values),
    dose_response=st.booleans(),
    plausible_confounding=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(gradings)
def test_every_valid_rating_gives_one_grade_level_and_downgrading_never_raises_it(grading):
    if grading_errors(grading):
        assert grading.evidence_design == RCT and grading.upgraded  # the only way a complete rating is invalid
        return
    certainty = computed_certainty(grading)
    assert certainty in Certainty.values
    assert certainty_errors(grading, certainty, "") == {}  # the computed certainty needs no reason
    for name in DOWNGRADE_DOMAINS:
        worse = Grading(**{**grading.values(), name: Concern.VERY_SERIOUS})
        assert Certainty.rank(computed_certainty(worse)) <= Certainty.rank(certainty)
    if grading.evidence_design == RCT:
        assert Certainty.rank(certainty) == max(
            1, 4 - sum(Concern.values.index(getattr(grading, n)) for n in DOWNGRADE_DOMAINS)
        )


# --- The services -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_service_refuses_high_with_five_serious_downgrades_on_the_certainty_field(make_user):
    claim = article_with_claims(1).claims.get()
    with pytest.raises(ValidationError) as refused:
        review_submit(
            claim=claim,
            reviewer=make_user("Reviewers"),
            certainty="high",
            certainty_reason="The trials look fine to me.",
            verdict="supported",
            rationale="Trials.",
            grading=Grading(RCT, **ALL_SERIOUS),
            conflict_of_interest="none",
        )
    assert list(refused.value.message_dict) == ["certainty"]
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_the_bulk_service_refuses_the_same_and_writes_nothing(make_user):
    claims = list(article_with_claims(2).claims.order_by("start"))
    reviewer, at = make_user("Reviewers"), datetime(2024, 3, 1, tzinfo=UTC)
    with pytest.raises(ValidationError) as refused:
        reviews_submit_bulk(
            items=[
                ReviewSubmission(claims[0], reviewer, "high", "supported", "Fine.", at, **graded("high")),
                ReviewSubmission(
                    claims[1],
                    reviewer,
                    "high",
                    "supported",
                    "Fine.",
                    at,
                    grading=Grading(RCT, **ALL_SERIOUS),
                    conflict_of_interest="none",
                ),
            ]
        )
    assert list(refused.value.message_dict) == [f"claim {claims[1].pk}, review by {reviewer}: certainty"]
    assert not Review.objects.exists()
    # without a declaration, refused too
    with pytest.raises(ValidationError) as refused:
        reviews_submit_bulk(
            items=[ReviewSubmission(claims[0], reviewer, "high", "supported", "Fine.", at, grading=Grading(RCT))]
        )
    assert list(refused.value.message_dict) == [f"claim {claims[0].pk}, review by {reviewer}: conflict_of_interest"]


@pytest.mark.django_db
def test_no_certainty_chosen_means_the_computed_one_and_another_is_kept_with_its_reason(make_user):
    claim = article_with_claims(1).claims.get()
    reviewer = make_user("Reviewers")
    grading = Grading(OBS, large_effect=LargeEffect.LARGE)
    review = review_submit(
        claim=claim,
        reviewer=reviewer,
        certainty="",
        verdict="supported",
        rationale="Cohorts.",
        grading=grading,
        conflict_of_interest="none",
    )
    assert (review.certainty, review.computed_certainty, review.large_effect) == ("moderate", "moderate", "large")
    assert review.upgrade_reasons == ["Large effect: large (+1)"]
    with pytest.raises(ValidationError) as refused:
        rate(claim, reviewer, "low", grading=grading)
    assert list(refused.value.message_dict) == ["certainty_reason"]
    review = rate(claim, reviewer, "low", grading=grading, certainty_reason="Confounding by indication likely.")
    assert (review.certainty, review.computed_certainty) == ("low", "moderate")
    assert review.certainty_reason == "Confounding by indication likely."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("declaration", "field"),
    [
        ({"conflict_of_interest": ""}, "conflict_of_interest"),
        ({"conflict_of_interest": "maybe"}, "conflict_of_interest"),
        ({"conflict_of_interest": "declared", "conflict_statement": "  "}, "conflict_statement"),
        ({"conflict_of_interest": "none", "conflict_statement": "I consult for the maker."}, "conflict_statement"),
    ],
)
def test_a_declaration_is_required_and_a_declared_conflict_says_what_it_is(make_user, declaration, field):
    claim = article_with_claims(1).claims.get()
    with pytest.raises(ValidationError) as refused:
        rate(claim, make_user("Reviewers"), "high", **declaration)
    assert list(refused.value.message_dict) == [field]
    assert not Review.objects.exists()


# --- The review form ----------------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert summary, "no error summary"
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary.group(1))


@pytest.mark.django_db
def test_the_form_shows_each_refusal_on_its_field_and_in_the_summary(make_user):
    claim = article_with_claims(1).claims.get()
    url = reverse("reviews:review-claim", args=[claim.pk])
    data = {
        **grade_fields("high"),
        **ALL_SERIOUS,
        "certainty": "high",
        "verdict": "supported",
        "rationale": "Trials.",
        "conflict_of_interest": "declared",
        "conflict_statement": "",
        "dose_response": "on",
    }
    client = signed_in(make_user("Reviewers"))
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    links = summary_links(html)
    assert [target for target, _ in links] == ["id_dose_response", "id_conflict_statement"]
    assert "raises the certainty of observational evidence only" in links[0][1]
    assert links[1][1] == "Say what the conflict of interest is."
    for target, _ in links:
        assert re.search(rf'id="{target}_error"', html)  # the message beside its field too
    assert not Review.objects.exists()

    # the upgrade gone and the conflict named, the certainty is what is left to refuse
    data.update(dose_response="", conflict_statement="I consult for the maker.")
    response = client.post(url, data)
    assert [target for target, _ in summary_links(response.content.decode())] == ["id_certainty_0"]
    assert "High is 3 levels from the very low certainty your ratings give" in response.content.decode()


@pytest.mark.django_db
def test_a_review_submitted_through_the_form_keeps_every_rating_and_shows_the_computed_certainty(make_user):
    claim = article_with_claims(1).claims.get()
    client = signed_in(make_user("Reviewers"))
    url = reverse("reviews:review-claim", args=[claim.pk])
    data = {
        "evidence_design": "observational",
        "risk_of_bias": "not_serious",
        "inconsistency": "not_serious",
        "indirectness": "serious",
        "imprecision": "not_serious",
        "publication_bias": "not_serious",
        "large_effect": "very_large",
        "dose_response": "on",
        "certainty": "",
        "verdict": "partly_supported",
        "rationale": "Cohorts with a large effect.",
        "conflict_of_interest": "declared",
        "conflict_statement": "I ran one of the cohorts.",
    }
    response = client.post(url, data, follow=True)
    assert response.redirect_chain == [(url, 302)]
    review = Review.objects.get()
    assert (review.evidence_design, review.indirectness, review.large_effect, review.dose_response) == (
        "observational",
        "serious",
        "very_large",
        True,
    )
    assert review.certainty == "high"  # low + 2 + 1 - 1
    assert (review.conflict_of_interest, review.conflict_statement) == ("declared", "I ran one of the cohorts.")
    html = response.content.decode()
    assert "Your saved ratings give <strong>high</strong> certainty." in html
    assert re.search(r'value="very_large"[^>]*checked', html) and re.search(r'value="declared"[^>]*checked', html)


# --- Pages: the claim page and the editor's page ------------------------------------------------------------


@pytest.mark.django_db
def test_declarations_show_with_published_reviews_and_the_editor_sees_a_conflict_before_adjudicating(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers", username="rosa"), "moderate", "supported")
    rate(
        claim,
        make_user("Reviewers", username="tariq"),
        "very_low",
        "unsupported",
        conflict_of_interest="declared",
        conflict_statement="Paid speaker for <b>the maker</b>.",
    )
    public = reverse("evidence:claim-detail", args=[claim.pk])
    assert "Paid speaker" not in Client().get(public).content.decode()  # blind until published

    editor_page = signed_in(make_user("Editors")).get(reverse("reviews:editor-claim", args=[claim.pk]))
    html = editor_page.content.decode()
    warning = re.search(r'<div class="conflict-warning".*?</div>', html, re.S)
    assert warning, "no conflict warning on the editor's page"
    assert "tariq" in warning.group(0) and "Paid speaker for &lt;b&gt;the maker&lt;/b&gt;." in warning.group(0)
    assert html.index(warning.group(0)) < html.index('id="adjudicate-heading"')

    publish(claim)
    page = Client().get(public).content.decode()
    assert "Conflict of interest declared:</strong> Paid speaker for &lt;b&gt;the maker&lt;/b&gt;." in page
    assert "No conflict of interest declared." in page
    assert "Downgraded for: Risk of bias: serious (−1); Imprecision: very serious (−2)" in page


# --- The API ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_takes_the_ratings_and_puts_the_services_refusals_on_their_fields(make_user):
    claim = article_with_claims(1).claims.get()
    client = signed_in(make_user("Reviewers"))
    url = reverse("api:claim-review", args=[claim.pk])
    body = {**grade_fields("high"), **ALL_SERIOUS, "certainty": "high", "verdict": "supported", "rationale": "x"}
    response = client.put(url, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"certainty"}

    body = {"evidence_design": "observational", "verdict": "supported", "rationale": "Cohorts.", "dose_response": True}
    response = client.put(url, body, content_type="application/json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"conflict_of_interest"}

    response = client.put(url, {**body, "conflict_of_interest": "none"}, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["certainty"], data["computed_certainty"], data["dose_response"]) == ("moderate", "moderate", True)
    assert data["risk_of_bias"] == "not_serious" and data["conflict_of_interest"] == "none"


# --- The migration ------------------------------------------------------------------------------------------


def grade_migration() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The reviews migrations just before the GRADE migration, and the GRADE migration itself, found by name
    in the graph, so the test follows the migration wherever it is chained."""
    loader = MigrationLoader(connection)
    (after,) = [
        key for key in loader.graph.nodes if key[0] == "reviews" and key[1].endswith("_grade_ratings_and_conflicts")
    ]
    before = [dep for dep in loader.get_migration(*after).dependencies if dep[0] == "reviews"]
    return before, [after]


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_each_ticked_downgrade_into_a_serious_one():
    before, after = grade_migration()
    # the claim and the reviewer in today's tables, which the migration does not touch
    claim = article_with_claims(1).claims.get()
    reviewer = get_user_model().objects.create(username="legacy")
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("reviews", "Review").objects.create(
        claim_id=claim.pk,
        reviewer_id=reviewer.pk,
        certainty="low",
        verdict="supported",
        rationale="Old.",
        downgrade_risk_of_bias=True,
        downgrade_imprecision=True,
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    review = new.get_model("reviews", "Review").objects.get()
    assert (review.risk_of_bias, review.imprecision, review.inconsistency) == ("serious", "serious", "not_serious")
    assert (review.evidence_design, review.conflict_of_interest) == ("", "")  # not recorded then
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# --- The admin ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_shows_the_same_refusals_on_their_fields(make_user):
    claim = article_with_claims(1).claims.get()
    client = signed_in(make_user("Reviewers"))
    data = {
        **grade_fields("high"),
        **ALL_SERIOUS,
        "claim": str(claim.pk),
        "certainty": "high",
        "verdict": "supported",
        "rationale": "Trials.",
        "conflict_of_interest": "declared",
    }
    response = client.post(reverse("admin:reviews_review_add"), data)
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"conflict_statement", "certainty"}
    assert errors["certainty"][0].startswith("High is 3 levels from the very low certainty")
    assert not Review.objects.exists()
