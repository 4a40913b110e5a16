"""Who may do what, through the pages: every role against every action of the review workflow.

Roles: an anonymous reader, a reviewer, another reviewer (who has already reviewed the claim), a
curator, an editor and an administrator (superuser). The admin site's side of the matrix is in
tests/test_reviews_admin.py.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reviews.models import Consensus, Flag, Review
from tests.builders import OTHERS_RATIONALE, RoleWorld, grade_fields, rate

ROLES = ["anonymous", "reviewer", "other_reviewer", "curator", "editor", "admin"]

LOGIN = "login"  # anonymous: sent to sign in
OK = "ok"
DENIED = "denied"  # signed in without the role: 403


class World(RoleWorld):
    def client(self, role: str) -> Client:
        client = Client()
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client


@pytest.fixture
def world(make_user) -> World:
    return World.build(make_user)


def assert_outcome(response, expected: str, ok_status: int = 200) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif expected == DENIED:
        assert response.status_code == 403
    else:
        assert response.status_code == ok_status, response.content[:500]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # make_user hashes a password per user; the matrix creates hundreds of users
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def review_data(**overrides) -> dict[str, str]:
    data = {**grade_fields("low"), "certainty": "low", "verdict": "partly_supported", "rationale": "Open-label, small."}
    data.update(overrides)
    return data


# --- Reading --------------------------------------------------------------------------------------------

READ_QUEUE = {
    "anonymous": LOGIN,
    "reviewer": OK,
    "other_reviewer": OK,
    "curator": DENIED,
    "editor": DENIED,
    "admin": OK,
}
READ_DESK = {
    "anonymous": LOGIN,
    "reviewer": DENIED,
    "other_reviewer": DENIED,
    "curator": DENIED,
    "editor": OK,
    "admin": OK,
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_the_review_queue_and_form(world, role):
    client = world.client(role)
    assert_outcome(client.get(reverse("reviews:queue")), READ_QUEUE[role])
    assert_outcome(client.get(reverse("reviews:review-claim", args=[world.claim.pk])), READ_QUEUE[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_the_editors_desk(world, role):
    client = world.client(role)
    assert_outcome(client.get(reverse("reviews:desk")), READ_DESK[role])
    assert_outcome(client.get(reverse("reviews:desk-queue", args=["disputed"])), READ_DESK[role])
    assert_outcome(client.get(reverse("reviews:editor-claim", args=[world.claim.pk])), READ_DESK[role])


# --- Submitting and editing reviews -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_submit_a_review(world, role):
    response = world.client(role).post(reverse("reviews:review-claim", args=[world.claim.pk]), review_data())
    assert_outcome(response, READ_QUEUE[role], ok_status=302)
    user = world.users[role]
    created = user is not None and Review.objects.filter(claim=world.claim, reviewer=user).exists()
    # other_reviewer already had a review: for them this is an edit, counted below
    assert created == (READ_QUEUE[role] == OK)
    assert Review.objects.filter(claim=world.claim).count() == 1 + (role in {"reviewer", "admin"})


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_edit_own_review(world, role):
    user = world.users[role]
    if user is not None and role != "other_reviewer":
        # even a role that may not review could hold a review (e.g. a reviewer who became a curator)
        rate(world.claim, user, "high", "supported", rationale="First thoughts.")
    response = world.client(role).post(
        reverse("reviews:review-claim", args=[world.claim.pk]), review_data(rationale="Second thoughts.")
    )
    assert_outcome(response, READ_QUEUE[role], ok_status=302)
    if user is not None:
        own = Review.objects.get(claim=world.claim, reviewer=user)
        assert (own.rationale == "Second thoughts.") == (READ_QUEUE[role] == OK)
        assert own.history.count() == (2 if READ_QUEUE[role] == OK else 1)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_nobody_edits_another_reviewers_review_through_the_pages(world, role):
    """The form always writes the signed-in user's own review: there is no URL for someone else's, and
    a reviewer field smuggled into the POST body is ignored."""
    client = world.client(role)
    client.post(
        reverse("reviews:review-claim", args=[world.claim.pk]),
        review_data(rationale="Overwritten!", reviewer=str(world.others_review.reviewer_id)),
    )
    world.others_review.refresh_from_db()
    if role != "other_reviewer":
        assert world.others_review.rationale == OTHERS_RATIONALE
        assert world.others_review.history.count() == 1


# --- Blind review --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_see_others_reviews_before_and_after_submitting(world, role):
    client = world.client(role)
    review_page = reverse("reviews:review-claim", args=[world.claim.pk])
    editor_page = reverse("reviews:editor-claim", args=[world.claim.pk])

    def sees_others() -> bool:
        pages = [client.get(review_page), client.get(editor_page)]
        return any(OTHERS_RATIONALE in page.content.decode() for page in pages if page.status_code == 200)

    before = sees_others()
    client.post(review_page, review_data())
    after = sees_others()
    expected_before = role in {"editor", "admin", "other_reviewer"}  # other_reviewer: it is their own
    expected_after = role in {"editor", "admin", "other_reviewer", "reviewer"}
    assert (before, after) == (expected_before, expected_after)


@pytest.mark.django_db
def test_blind_review_hides_the_consensus_too(world):
    """Before submitting, a reviewer sees neither the ratings nor what they add up to."""
    client = world.client("reviewer")
    page = client.get(reverse("reviews:review-claim", args=[world.claim.pk])).content.decode()
    assert 'id="others-heading"' not in page and "Consensus of" not in page
    rate(world.claim, world.users["reviewer"])
    page = client.get(reverse("reviews:review-claim", args=[world.claim.pk])).content.decode()
    assert 'id="others-heading"' in page and "Consensus of 2 reviews" in page
    # nor on the public claim page, while the verdict is unpublished
    public = client.get(reverse("evidence:claim-detail", args=[world.claim.pk])).content.decode()
    assert "hidden reasoning" not in public


# --- Editors' actions -------------------------------------------------------------------------------------

EDIT = {"anonymous": LOGIN, "reviewer": DENIED, "other_reviewer": DENIED, "curator": DENIED, "editor": OK, "admin": OK}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_raise_a_flag(world, role):
    response = world.client(role).post(
        reverse("reviews:flag-raise", args=[world.claim.pk]), {"reason": "overstated", "note": "Says 'cures'."}
    )
    assert_outcome(response, EDIT[role], ok_status=302)
    assert Flag.objects.filter(claim=world.claim, reason="overstated").exists() == (EDIT[role] == OK)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("action", "status"), [("reviews:flag-resolve", "resolved"), ("reviews:flag-dismiss", "dismissed")]
)
def test_resolve_or_dismiss_a_flag(world, role, action, status):
    flag = Flag.objects.create(claim=world.claim, reason="unsupported", note="No RCT.", raised_by=world.users["editor"])
    response = world.client(role).post(reverse(action, args=[flag.pk]), {f"flag{flag.pk}-note": "Checked it."})
    assert_outcome(response, EDIT[role], ok_status=302)
    flag.refresh_from_db()
    assert flag.status == (status if EDIT[role] == OK else "open")
    if EDIT[role] == OK:
        assert (flag.resolved_by, flag.resolution_note) == (world.users[role], "Checked it.")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_adjudicate(world, role):
    rate(world.claim, world.users["reviewer"], "very_low", "contradicted")
    response = world.client(role).post(
        reverse("reviews:adjudicate", args=[world.claim.pk]),
        {**grade_fields("low"), "certainty": "low", "verdict": "partly_supported", "rationale": "Reading both."},
    )
    assert_outcome(response, EDIT[role], ok_status=302)
    row = Consensus.objects.get(claim=world.claim)
    assert row.is_adjudicated == (EDIT[role] == OK)
    if EDIT[role] == OK:
        assert row.adjudicated_by == world.users[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_publish(world, role):
    rate(world.claim, world.users["reviewer"], "high", "supported")
    response = world.client(role).post(
        reverse("reviews:publish", args=[world.claim.pk]), {"rationale": "Two reviewers agree."}
    )
    assert_outcome(response, EDIT[role], ok_status=302)
    assert Consensus.objects.get(claim=world.claim).is_published == (EDIT[role] == OK)


@pytest.mark.django_db
def test_an_editor_without_publish_permission_cannot_publish(world, make_user):
    """Each action checks its own permission, not only the desk's."""
    rate(world.claim, world.users["reviewer"], "high", "supported")
    desk_only = make_user("Curators")
    from django.contrib.auth.models import Permission

    desk_only.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_consensus", "view_others_reviews", "adjudicate_claim"])
    )
    client = Client()
    client.force_login(desk_only)
    assert client.get(reverse("reviews:desk")).status_code == 200
    page = client.get(reverse("reviews:editor-claim", args=[world.claim.pk])).content.decode()
    assert "Publish this verdict" not in page and "Raise flag" not in page and "Record adjudication" in page
    assert client.post(reverse("reviews:publish", args=[world.claim.pk]), {"rationale": "x"}).status_code == 403
    assert not Consensus.objects.get(claim=world.claim).is_published


@pytest.mark.django_db
def test_writes_need_post_and_csrf(world):
    editor = world.users["editor"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.get(reverse("reviews:publish", args=[world.claim.pk])).status_code == 405
    response = client.post(reverse("reviews:flag-raise", args=[world.claim.pk]), {"reason": "outdated", "note": "x"})
    assert response.status_code == 403
    assert not Flag.objects.exists()
