"""Assignments: an editor assigns reviewers to a claim or a whole article, by a due date; the status is
derived from the reviewer's review in the assignment's round; separation of duties holds; the reviewer's
queue lists assignments first and searches; the desk shows the overdue ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.models import Claim
from reviews.models import AssignmentStatus, ReviewAssignment
from reviews.services import (
    article_assign,
    assignment_change_due,
    assignment_create,
    assignment_reassign,
    assignment_remove,
    claim_adjudicate,
    claims_send_back,
    verdict_publish,
)
from tests.builders import article_with_claims, cite, rate, trial

pytestmark = pytest.mark.django_db


def soon(days: int = 7):
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def people(make_user):
    return {
        "editor": make_user("Editors", username="edna"),
        "other_editor": make_user("Editors", username="otto"),
        "rita": make_user("Reviewers", username="rita"),
        "sam": make_user("Reviewers", username="sam"),
        "curator": make_user("Curators", username="cora"),
    }


@pytest.fixture
def a_claim() -> Claim:
    claim = article_with_claims(1).claims.get()
    cite(claim, trial())
    return claim


def status_of(assignment: ReviewAssignment) -> str:
    return ReviewAssignment.objects.get(pk=assignment.pk).status


# --- Services ----------------------------------------------------------------------------------------------------


def test_assign_and_unassign(a_claim, people):
    assignment = assignment_create(
        claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"]
    )
    assert (assignment.round, assignment.assigned_by, status_of(assignment)) == (1, people["editor"], "open")
    assignment_remove(assignment=assignment, removed_by=people["editor"])
    assert not ReviewAssignment.objects.exists()
    # the history keeps who removed it
    assert assignment.history.latest().history_type == "-"
    assert assignment.history.latest().history_user == people["editor"]


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("curator", "cora is not a reviewer."),
        ("editor", "You cannot assign a claim to yourself"),
    ],
)
def test_assigning_someone_who_may_not_be_is_refused(a_claim, people, who, refusal):
    with pytest.raises(ValidationError, match=refusal):
        assignment_create(claim=a_claim, reviewer=people[who], due_date=soon(), assigned_by=people["editor"])
    assert not ReviewAssignment.objects.exists()


def test_a_past_due_date_twice_and_a_published_claim_are_refused(a_claim, people):
    with pytest.raises(ValidationError, match="due date has passed"):
        assignment_create(claim=a_claim, reviewer=people["rita"], due_date=soon(-1), assigned_by=people["editor"])
    assignment_create(claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"])
    with pytest.raises(ValidationError, match="already assigned"):
        assignment_create(claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"])
    Claim.objects.filter(pk=a_claim.pk).update(status=Claim.Status.PUBLISHED)
    a_claim.refresh_from_db()
    with pytest.raises(ValidationError, match="is published"):
        assignment_create(claim=a_claim, reviewer=people["sam"], due_date=soon(), assigned_by=people["editor"])


def test_who_reviewed_or_adjudicated_the_current_round_is_not_assigned(a_claim, people, make_user):
    rate(a_claim, people["rita"], "high", "supported")
    with pytest.raises(ValidationError, match="rita has already reviewed"):
        assignment_create(claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"])
    # an editor who is also a reviewer adjudicates; they may then not be assigned to review it
    both = make_user("Editors", "Reviewers", username="bo")
    rate(a_claim, people["sam"], "very_low", "unsupported")
    claim_adjudicate(
        claim=a_claim, certainty="low", verdict="partly_supported", rationale="Split.", adjudicated_by=both
    )
    with pytest.raises(ValidationError, match="bo adjudicated claim"):
        assignment_create(claim=a_claim, reviewer=both, due_date=soon(), assigned_by=people["editor"])


def test_one_person_holding_two_roles(a_claim, people, make_user):
    """An editor who is also a reviewer is assigned by another editor, never by themself; once they have
    reviewed, they may neither adjudicate nor publish the claim (the existing rule still holds)."""
    both = make_user("Editors", "Reviewers", username="bo")
    with pytest.raises(ValidationError, match="yourself"):
        assignment_create(claim=a_claim, reviewer=both, due_date=soon(), assigned_by=both)
    assignment = assignment_create(claim=a_claim, reviewer=both, due_date=soon(), assigned_by=people["editor"])
    rate(a_claim, both, "moderate", "supported")
    assert status_of(assignment) == "submitted"
    with pytest.raises(ValidationError, match="You reviewed this claim"):
        claim_adjudicate(claim=a_claim, certainty="low", verdict="supported", rationale="x", adjudicated_by=both)


def test_status_follows_the_review_the_date_and_the_round(a_claim, people):
    assignment = assignment_create(
        claim=a_claim, reviewer=people["rita"], due_date=soon(1), assigned_by=people["editor"]
    )
    other = assignment_create(claim=a_claim, reviewer=people["sam"], due_date=soon(1), assigned_by=people["editor"])
    assert status_of(assignment) == AssignmentStatus.OPEN
    ReviewAssignment.objects.filter(pk=assignment.pk).update(due_date=soon(-1))  # time passes
    assert status_of(assignment) == AssignmentStatus.OVERDUE
    assert list(ReviewAssignment.objects.overdue()) == [assignment]
    rate(a_claim, people["rita"], "moderate", "supported")
    assert status_of(assignment) == AssignmentStatus.SUBMITTED
    assert not ReviewAssignment.objects.overdue().exists()
    rate(a_claim, people["sam"], "moderate", "supported")
    verdict_publish(claim=a_claim, published_by=people["editor"], rationale="Consistent trials.")
    # re-review: a new round; the old round's assignments stay as they were (submitted), none carries over
    claims_send_back(claims=[a_claim], reason="a larger trial disagrees", user=people["editor"])
    assert status_of(assignment) == AssignmentStatus.SUBMITTED
    assert not ReviewAssignment.objects.current().exists()
    # the new round needs a new assignment, which rita (who reviewed round 1, not round 2) may take
    again = assignment_create(claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"])
    assert (again.round, status_of(again)) == (2, AssignmentStatus.OPEN)
    assert status_of(other) == AssignmentStatus.SUBMITTED


def test_an_assignment_not_submitted_when_the_round_closes_lapses(a_claim, people, make_user):
    late = make_user("Reviewers", username="lee")
    assignment = assignment_create(claim=a_claim, reviewer=late, due_date=soon(), assigned_by=people["editor"])
    rate(a_claim, people["rita"], "moderate", "supported")
    rate(a_claim, people["sam"], "moderate", "supported")
    verdict_publish(claim=a_claim, published_by=people["editor"], rationale="Consistent trials.")
    claims_send_back(claims=[a_claim], reason="new evidence", user=people["editor"])
    assert status_of(assignment) == AssignmentStatus.LAPSED


def test_change_due_and_reassign(a_claim, people):
    assignment = assignment_create(
        claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"]
    )
    ReviewAssignment.objects.filter(pk=assignment.pk).update(reminded_at=timezone.now())
    moved = assignment_change_due(assignment=assignment, due_date=soon(14), changed_by=people["editor"])
    assert (moved.due_date, moved.reminded_at) == (soon(14), None)
    given = assignment_reassign(
        assignment=moved, reviewer=people["sam"], due_date=soon(3), assigned_by=people["editor"]
    )
    assert list(ReviewAssignment.objects.values_list("reviewer__username", "due_date")) == [("sam", soon(3))]
    assert given.reviewer == people["sam"]


def test_assigning_a_whole_article_skips_what_cannot_be_assigned(people):
    article = article_with_claims(3)
    first, second, third = article.claims.order_by("start")
    Claim.objects.filter(pk=third.pk).update(status=Claim.Status.PUBLISHED)
    rate(first, people["rita"], "moderate", "supported")
    done = article_assign(
        article=article, reviewers=[people["rita"], people["sam"]], due_date=soon(), assigned_by=people["editor"]
    )
    assert sorted((a.claim_id, a.reviewer.username) for a in done.created) == sorted(
        [(first.pk, "sam"), (second.pk, "rita"), (second.pk, "sam")]
    )
    assert [(claim.pk, reviewer.username) for claim, reviewer, _ in done.skipped] == [(first.pk, "rita")]
    # someone who may not be assigned at all refuses the whole request
    with pytest.raises(ValidationError, match="cora is not a reviewer"):
        article_assign(article=article, reviewers=[people["curator"]], due_date=soon(), assigned_by=people["editor"])


# --- Pages -------------------------------------------------------------------------------------------------------


def test_the_editor_assigns_from_the_claim_page(client, a_claim, people):
    client.force_login(people["editor"])
    page = client.get(reverse("reviews:editor-claim", args=[a_claim.pk]))
    assert b"Assign reviewers" in page.content
    # the editor themself is not offered
    assert page.context["assign_form"].fields["reviewers"].queryset.filter(pk=people["editor"].pk).count() == 0
    answer = client.post(
        reverse("reviews:assign", args=[a_claim.pk]),
        {"reviewers": [people["rita"].pk, people["sam"].pk], "due_date": soon().isoformat(), "scope": "claim"},
    )
    assert answer.status_code == 302
    assert ReviewAssignment.objects.filter(claim=a_claim).count() == 2


def test_a_refused_assignment_is_a_form_error(client, a_claim, people):
    client.force_login(people["editor"])
    answer = client.post(
        reverse("reviews:assign", args=[a_claim.pk]),
        {"reviewers": [people["curator"].pk], "due_date": "not a date", "scope": "claim"},
    )
    assert answer.status_code == 400
    assert b"There is a problem" in answer.content
    assert b"Enter a date." in answer.content
    assert not ReviewAssignment.objects.exists()


@pytest.mark.parametrize("who", ["rita", "curator"])
def test_only_editors_assign(client, a_claim, people, who):
    client.force_login(people[who])
    answer = client.post(
        reverse("reviews:assign", args=[a_claim.pk]),
        {"reviewers": [people["sam"].pk], "due_date": soon().isoformat(), "scope": "claim"},
    )
    assert answer.status_code == 403
    assert not ReviewAssignment.objects.exists()


def test_unassign_and_move_the_date_from_the_claim_page(client, a_claim, people):
    assignment = assignment_create(
        claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"]
    )
    client.force_login(people["other_editor"])
    client.post(reverse("reviews:assignment-due", args=[assignment.pk]), {f"due{assignment.pk}-due_date": soon(9)})
    assert ReviewAssignment.objects.get().due_date == soon(9)
    assert client.get(reverse("reviews:assignment-remove", args=[assignment.pk])).status_code == 405
    client.post(reverse("reviews:assignment-remove", args=[assignment.pk]))
    assert not ReviewAssignment.objects.exists()


def test_the_queue_lists_assignments_first_by_due_date_and_searches(client, people):
    article = article_with_claims(3)
    first, second, third = article.claims.order_by("start")
    later = assignment_create(claim=first, reviewer=people["rita"], due_date=soon(9), assigned_by=people["editor"])
    sooner = assignment_create(claim=second, reviewer=people["rita"], due_date=soon(2), assigned_by=people["editor"])
    client.force_login(people["rita"])
    page = client.get(reverse("reviews:queue"))
    assert list(page.context["assignments"].object_list) == [sooner, later]
    html = page.content.decode()
    assert html.index('id="assigned"') < html.index('id="waiting"')
    # searched by the claim's text: the assignments and the waiting claims that match
    words = third.quote.split()[:3]
    searched = client.get(reverse("reviews:queue"), {"q": " ".join(words)})
    assert searched.status_code == 200
    assert list(searched.context["assignments"].object_list) == []
    assert [claim.pk for claim in searched.context["waiting"].object_list] == [third.pk]
    # filtered by status
    ReviewAssignment.objects.filter(pk=sooner.pk).update(due_date=soon(-1))
    overdue = client.get(reverse("reviews:queue"), {"status": "overdue"})
    assert [a.pk for a in overdue.context["assignments"].object_list] == [sooner.pk]
    assert overdue.context["waiting"] is None
    other = article_with_claims(1, slug="other-article")
    by_article = client.get(reverse("reviews:queue"), {"article": other.pk})
    assert list(by_article.context["assignments"].object_list) == []
    assert client.get(reverse("reviews:queue"), {"status": "bogus"}).status_code == 400


def test_overdue_assignments_show_on_the_desk(client, a_claim, people):
    assignment = assignment_create(
        claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"]
    )
    ReviewAssignment.objects.filter(pk=assignment.pk).update(due_date=soon(-2))
    client.force_login(people["other_editor"])
    page = client.get(reverse("reviews:desk"))
    assert [a.pk for a in page.context["overdue"]] == [assignment.pk]
    assert b"Overdue assignments" in page.content


def test_reassign_from_the_claim_page(client, a_claim, people):
    assignment = assignment_create(
        claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"]
    )
    client.force_login(people["editor"])
    page = client.get(reverse("reviews:editor-claim", args=[a_claim.pk]))
    assert b"Reassign" in page.content
    client.post(reverse("reviews:assignment-reassign", args=[assignment.pk]), {f"give{assignment.pk}-reviewer": ""})
    assert ReviewAssignment.objects.get().reviewer == people["rita"]  # nobody chosen: nothing changes
    client.post(
        reverse("reviews:assignment-reassign", args=[assignment.pk]),
        {f"give{assignment.pk}-reviewer": people["sam"].pk},
    )
    assert list(ReviewAssignment.objects.values_list("reviewer__username", "due_date")) == [("sam", soon())]


def test_the_claim_page_reads_the_reviewers_offered_once_however_many_assignments(client, a_claim, people, make_user):
    client.force_login(people["editor"])
    url = reverse("reviews:editor-claim", args=[a_claim.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assignment_create(claim=a_claim, reviewer=people["rita"], due_date=soon(), assigned_by=people["editor"])
    with_one = queries()
    for name in ("sam", "tess", "uma"):
        reviewer = people.get(name) or make_user("Reviewers", username=name)
        assignment_create(claim=a_claim, reviewer=reviewer, due_date=soon(), assigned_by=people["editor"])
    page = client.get(url).content.decode()
    assert page.count('name="give') == 4  # a reassign form for each assignment, each offering the reviewers
    assert queries() == with_one
