"""Who may do what through the API: the pages' permission matrix (tests/test_reviews_permissions.py), with
the API's answers. Where a page sends an anonymous visitor to sign in, the API answers 401; where a page
answers 403, so does the API. Each write is checked by its effect on the database, not only its status.

Roles: anonymous, a reviewer, another reviewer (who has already reviewed the claim), a curator, an
editor and an administrator (superuser). Clients authenticate with a token, as scripts do; session
authentication (the browser's) is tested at the end, with its CSRF check.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from evidence.models import Citation, Claim, Study
from reviews.models import Consensus, Flag, Review
from tests.builders import OTHERS_RATIONALE, RoleWorld, grade_fields, rate, trial

ROLES = ["anonymous", "reviewer", "other_reviewer", "curator", "editor", "admin"]

OK = "ok"
UNAUTHENTICATED = "401"  # the pages: sent to sign in
DENIED = "403"

# the pages' matrices (tests/test_reviews_permissions.py), in the API's words
REVIEWING = {"anonymous": UNAUTHENTICATED, "reviewer": OK, "other_reviewer": OK, "curator": DENIED}
REVIEWING |= {"editor": DENIED, "admin": OK}
EDITING = {"anonymous": UNAUTHENTICATED, "reviewer": DENIED, "other_reviewer": DENIED, "curator": DENIED}
EDITING |= {"editor": OK, "admin": OK}
# studies and citations: the admin's model permissions, which Curators hold
CURATING = {"anonymous": UNAUTHENTICATED, "reviewer": DENIED, "other_reviewer": DENIED, "curator": OK}
CURATING |= {"editor": DENIED, "admin": OK}


class World(RoleWorld):
    def client(self, role: str) -> Client:
        user = self.users[role]
        if user is None:
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


@pytest.fixture
def world(make_user) -> World:
    return World.build(make_user)


def assert_outcome(response, expected: str, ok_status: int = 200) -> None:
    body = response.json() if response.content else None
    if expected == UNAUTHENTICATED:
        assert response.status_code == 401, response.content[:300]
        assert response["WWW-Authenticate"] == "Token"
        assert body["code"] == "not_authenticated"
    elif expected == DENIED:
        assert response.status_code == 403, response.content[:300]
        assert body["code"] == "permission_denied"
    else:
        assert response.status_code == ok_status, response.content[:500]


def review_data(**overrides) -> dict:
    data = {**grade_fields("low"), "certainty": "low", "verdict": "partly_supported", "rationale": "Open-label, small."}
    data.update(overrides)
    return data


# --- Reading: public -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_the_public_lists(world, role):
    client = world.client(role)
    for name in ("article", "claim", "study", "citation", "flag", "review"):
        assert client.get(reverse(f"api:{name}-list")).status_code == 200, name
    assert client.get(reverse("api:claim-detail", args=[world.claim.pk])).status_code == 200


# --- Reviews ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_submit_a_review(world, role):
    response = world.client(role).put(
        reverse("api:claim-review", args=[world.claim.pk]), review_data(), content_type="application/json"
    )
    expected = REVIEWING[role]
    # other_reviewer already had a review: for them this replaces it (200); for the others it is new (201)
    assert_outcome(response, expected, ok_status=200 if role == "other_reviewer" else 201)
    user = world.users[role]
    mine = Review.objects.filter(claim=world.claim, reviewer=user).first() if user else None
    assert (mine is not None and mine.rationale == "Open-label, small.") == (expected == OK)
    assert Review.objects.filter(claim=world.claim).count() == 1 + (role in {"reviewer", "admin"})
    if expected == OK:
        body = response.json()
        assert body["is_own"] and body["verdict"] == "partly_supported"
        world.claim.refresh_from_db()
        assert world.claim.status == Claim.Status.IN_REVIEW  # the service moved it, as the page does
        assert Consensus.objects.get(claim=world.claim).n_reviews == Review.objects.filter(claim=world.claim).count()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_edit_own_review(world, role):
    user = world.users[role]
    if user is not None and role != "other_reviewer":
        rate(world.claim, user, "high", "supported", rationale="First thoughts.")
    response = world.client(role).put(
        reverse("api:claim-review", args=[world.claim.pk]),
        review_data(rationale="Second thoughts.", imprecision="serious", certainty="", read_full_text=True),
        content_type="application/json",
    )
    assert_outcome(response, REVIEWING[role])
    if user is not None:
        own = Review.objects.get(claim=world.claim, reviewer=user)
        edited = REVIEWING[role] == OK
        assert (own.rationale == "Second thoughts.") == edited
        assert (own.imprecision == "serious") == own.read_full_text == edited
        assert (own.certainty == "moderate") == edited  # the certainty the ratings give
        assert own.history.count() == (2 if edited else 1)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_read_own_review(world, role):
    response = world.client(role).get(reverse("api:claim-review", args=[world.claim.pk]))
    if role == "other_reviewer":
        assert_outcome(response, OK)
        assert response.json()["rationale"] == OTHERS_RATIONALE
    elif REVIEWING[role] == OK:
        assert response.status_code == 404  # no review of theirs yet
        assert response.json()["code"] == "not_found"
    else:
        assert_outcome(response, REVIEWING[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_nobody_edits_another_reviewers_review(world, role):
    """The review endpoint always writes the caller's own review: no id of someone else's is accepted,
    and a reviewer field smuggled into the body is ignored."""
    client = world.client(role)
    client.put(
        reverse("api:claim-review", args=[world.claim.pk]),
        review_data(rationale="Overwritten!", reviewer=world.others_review.reviewer_id),
        content_type="application/json",
    )
    review_url = reverse("api:review-detail", args=[world.others_review.pk])
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(review_url, {}, content_type="application/json").status_code == 405
    world.others_review.refresh_from_db()
    if role != "other_reviewer":
        assert world.others_review.rationale == OTHERS_RATIONALE
        assert world.others_review.history.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_see_others_reviews_before_and_after_submitting(world, role):
    """Blind review, as on the pages: the other reviewer's review is visible to editors, the
    administrator and its author at once, and to a reviewer only after they submitted their own."""
    client = world.client(role)

    def sees_others() -> bool:
        rows = client.get(reverse("api:review-list"), {"claim": world.claim.pk}).json()["results"]
        detail = client.get(reverse("api:review-detail", args=[world.others_review.pk]))
        found = any(row["id"] == world.others_review.pk for row in rows)
        assert found == (detail.status_code == 200)
        return found

    before = sees_others()
    client.put(reverse("api:claim-review", args=[world.claim.pk]), review_data(), content_type="application/json")
    after = sees_others()
    expected_before = role in {"editor", "admin", "other_reviewer"}
    expected_after = role in {"editor", "admin", "other_reviewer", "reviewer"}
    assert (before, after) == (expected_before, expected_after)


# --- Editors: flags, adjudication, publication ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_raise_a_flag(world, role):
    response = world.client(role).post(
        reverse("api:flag-list"),
        {"claim": world.claim.pk, "reason": "overstated", "note": "Says 'cures'."},
        content_type="application/json",
    )
    assert_outcome(response, EDITING[role], ok_status=201)
    flag = Flag.objects.filter(claim=world.claim, reason="overstated").first()
    assert (flag is not None) == (EDITING[role] == OK)
    if flag is not None:
        assert flag.raised_by == world.users[role] and response.json()["id"] == flag.pk


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "status"), [("api:flag-resolve", "resolved"), ("api:flag-dismiss", "dismissed")])
def test_resolve_or_dismiss_a_flag(world, role, action, status):
    flag = Flag.objects.create(claim=world.claim, reason="unsupported", note="No RCT.", raised_by=world.users["editor"])
    response = world.client(role).post(
        reverse(action, args=[flag.pk]), {"note": "Checked it."}, content_type="application/json"
    )
    assert_outcome(response, EDITING[role])
    flag.refresh_from_db()
    assert flag.status == (status if EDITING[role] == OK else "open")
    if EDITING[role] == OK:
        assert (flag.resolved_by, flag.resolution_note) == (world.users[role], "Checked it.")
        # closing it again is refused by the service, with its reason
        again = world.client(role).post(reverse(action, args=[flag.pk]), {}, content_type="application/json")
        assert again.status_code == 400 and "already" in again.json()["errors"]["non_field_errors"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_adjudicate(world, role):
    rate(world.claim, world.users["reviewer"], "very_low", "contradicted")
    response = world.client(role).post(
        reverse("api:claim-adjudicate", args=[world.claim.pk]),
        {**grade_fields("low"), "certainty": "low", "verdict": "partly_supported", "rationale": "Reading both."},
        content_type="application/json",
    )
    assert_outcome(response, EDITING[role])
    row = Consensus.objects.get(claim=world.claim)
    assert row.is_adjudicated == (EDITING[role] == OK)
    if EDITING[role] == OK:
        assert row.adjudicated_by == world.users[role]
        assert response.json()["adjudicated_verdict"] == "partly_supported"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_publish(world, role):
    rate(world.claim, world.users["reviewer"], "high", "supported")
    response = world.client(role).post(
        reverse("api:claim-publish", args=[world.claim.pk]),
        {"rationale": "Two reviewers agree."},
        content_type="application/json",
    )
    assert_outcome(response, EDITING[role])
    assert Consensus.objects.get(claim=world.claim).is_published == (EDITING[role] == OK)


@pytest.mark.django_db
def test_each_editor_action_checks_its_own_permission(world, make_user):
    """As on the pages: the desk's permissions alone do not let anyone publish."""
    rate(world.claim, world.users["reviewer"], "high", "supported")
    desk_only = make_user("Curators")
    desk_only.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_consensus", "view_others_reviews", "adjudicate_claim"])
    )
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=desk_only).key}")
    publish = client.post(reverse("api:claim-publish", args=[world.claim.pk]), {}, content_type="application/json")
    assert publish.status_code == 403
    flag = client.post(
        reverse("api:flag-list"), {"claim": world.claim.pk, "reason": "outdated"}, content_type="application/json"
    )
    assert flag.status_code == 403
    adjudicate = client.post(
        reverse("api:claim-adjudicate", args=[world.claim.pk]),
        {**grade_fields("low"), "certainty": "low", "verdict": "unsupported", "rationale": "Mine to decide."},
        content_type="application/json",
    )
    assert adjudicate.status_code == 200
    assert not Consensus.objects.get(claim=world.claim).is_published


# --- Curators: studies and citations -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_create_a_study(world, role):
    response = world.client(role).post(
        reverse("api:study-list"),
        {
            "title": "A new trial",
            "doi": "https://doi.org/10.5555/API.Test.1",
            "pmid": "PMID: 123456",
            "authors": [{"family": "Tester", "given": "Ada"}],
            "year": 2024,
            "design": "rct",
            "sample_size": 120,
        },
        content_type="application/json",
    )
    assert_outcome(response, CURATING[role], ok_status=201)
    created = Study.objects.filter(title="A new trial").first()
    assert (created is not None) == (CURATING[role] == OK)
    if created is not None:
        # stored normalised (evidence.identifiers), and the history says who
        assert (created.doi, created.pmid) == ("10.5555/api.test.1", "123456")
        assert response.json()["doi"] == "10.5555/api.test.1"
        assert created.history.get().history_user == world.users[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_edit_a_study_and_retract_it(world, role):
    cited = world.claim.citations.get().study
    response = world.client(role).patch(
        reverse("api:study-detail", args=[cited.pk]),
        {"sample_size": 99, "retraction_status": "retracted", "retraction_note": "Data fabricated."},
        content_type="application/json",
    )
    assert_outcome(response, CURATING[role])
    cited.refresh_from_db()
    edited = CURATING[role] == OK
    assert (cited.sample_size == 99) == edited and cited.is_retracted == edited
    # a claim relying on a study that becomes retracted is flagged (evidence.services.study_set_retraction)
    flagged = Flag.objects.filter(claim=world.claim, reason=Flag.Reason.RETRACTED_SOURCE, study=cited).exists()
    assert flagged == edited
    if edited:
        assert cited.retraction_note == "Data fabricated."
        assert response.json()["retraction_status"] == "retracted"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_cite_a_study(world, role):
    other = trial(title="Another trial", retraction_status=Study.RetractionStatus.RETRACTED)
    response = world.client(role).post(
        reverse("api:citation-list"),
        {"claim": world.claim.pk, "study": other.pk, "relation": "supports", "note": "Shows it."},
        content_type="application/json",
    )
    assert_outcome(response, CURATING[role], ok_status=201)
    citation = Citation.objects.filter(claim=world.claim, study=other).first()
    assert (citation is not None) == (CURATING[role] == OK)
    if citation is not None:
        assert citation.added_by == world.users[role]
        # now relying on a retracted study: flagged, as the admin's citation forms do
        assert Flag.objects.filter(claim=world.claim, study=other, reason=Flag.Reason.RETRACTED_SOURCE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_edit_and_remove_a_citation(world, role):
    citation = world.claim.citations.get()
    client = world.client(role)
    url = reverse("api:citation-detail", args=[citation.pk])
    response = client.patch(url, {"relation": "mixed", "note": "Partly."}, content_type="application/json")
    assert_outcome(response, CURATING[role])
    citation.refresh_from_db()
    assert (citation.relation == "mixed") == (CURATING[role] == OK)
    response = client.delete(url)
    assert_outcome(response, CURATING[role], ok_status=204)
    assert Citation.objects.filter(pk=citation.pk).exists() == (CURATING[role] != OK)


# --- Sessions: the browser's way in, with its CSRF check -------------------------------------------------------


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["editor"])
    url = reverse("api:flag-list")
    data = {"claim": world.claim.pk, "reason": "outdated"}
    refused = client.post(url, data, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Flag.objects.filter(reason="outdated").exists()
    # the token a page of the site hands out (here: the sign-in page sets the cookie)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, data, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    # reads need no token
    assert client.get(reverse("api:flag-list")).status_code == 200


@pytest.mark.django_db
def test_a_wrong_token_is_401_even_for_a_public_read(world):
    client = Client(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(reverse("api:claim-list"))
    assert response.status_code == 401
    assert response.json() == {"status": 401, "code": "authentication_failed", "detail": "Invalid token."}
