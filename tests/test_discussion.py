"""A claim's discussion (issue 21 §5): a thread for its editors and the reviewers who have submitted in its
current round, never before (blind review), with mentions that tell by email only those who may read it;
every version kept; never public. One rule, reviews.access.may_discuss, for the pages, the service and
the emails."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import Claim
from reviews.access import may_discuss
from reviews.models import Comment, Delivery, Notification, NotificationKind, NotificationPreference
from reviews.services import claims_send_back, comment_delete, comment_edit, comment_post, verdict_publish
from tests.builders import article_with_claims, cite, rate, trial

pytestmark = pytest.mark.django_db

SECRET = "What the editors said about the trials, string d15c."


@dataclass
class Scene:
    """A claim with a study; ``done`` has submitted a review of it, ``waiting`` (a reviewer) has not."""

    claim: Claim
    editor: AbstractBaseUser
    done: AbstractBaseUser
    waiting: AbstractBaseUser
    curator: AbstractBaseUser
    reader: AbstractBaseUser
    both: AbstractBaseUser  # an editor who is also a reviewer, and has not reviewed this claim


@pytest.fixture
def scene(make_user) -> Scene:
    claim = article_with_claims(1).claims.get()
    cite(claim, trial())
    s = Scene(
        claim=claim,
        editor=make_user("Editors", username="eda"),
        done=make_user("Reviewers", username="dora"),
        waiting=make_user("Reviewers", username="walt"),
        curator=make_user("Curators", username="cura"),
        reader=make_user(username="rita"),
        both=make_user("Editors", "Reviewers", username="bo"),
    )
    rate(claim, s.done)
    return s


def signed_in(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review_page(s: Scene) -> str:
    return reverse("reviews:review-claim", args=[s.claim.pk])


def editor_page(s: Scene) -> str:
    return reverse("reviews:editor-claim", args=[s.claim.pk])


# --- The rule ------------------------------------------------------------------------------------------------


def test_who_may_discuss_a_claim(scene):
    s = scene
    assert may_discuss(s.editor, s.claim)
    assert may_discuss(s.done, s.claim)
    assert may_discuss(s.both, s.claim)  # an editor reads every review, so the discussion too
    assert not may_discuss(s.waiting, s.claim)  # blind until they submit
    assert not may_discuss(s.curator, s.claim)
    assert not may_discuss(s.reader, s.claim)
    assert not may_discuss(AnonymousUser(), s.claim)


def test_a_review_in_an_earlier_round_does_not_open_a_new_rounds_discussion(scene, make_user):
    s = scene
    other = make_user("Reviewers")
    rate(s.claim, other)
    verdict_publish(claim=s.claim, published_by=s.editor, rationale="Two consistent trials.")
    assert may_discuss(s.done, s.claim)  # the published round is still the current one
    claims_send_back(claims=[s.claim], reason="a larger trial disagrees", user=s.editor)
    assert not may_discuss(s.done, s.claim)  # round 2: blind again
    assert may_discuss(s.editor, s.claim)
    rate(s.claim, s.done, "low", "partly_supported")
    assert may_discuss(s.done, s.claim)
    assert not may_discuss(other, s.claim)


def test_a_reviewer_taken_out_of_the_role_or_deactivated_may_not_discuss(scene):
    s = scene
    s.done.groups.remove(Group.objects.get(name="Reviewers"))
    assert not may_discuss(type(s.done).objects.get(pk=s.done.pk), s.claim)
    s.editor.is_active = False
    s.editor.save()
    assert not may_discuss(type(s.editor).objects.get(pk=s.editor.pk), s.claim)


def test_the_service_refuses_anyone_the_rule_shuts_out(scene):
    s = scene
    for user in (s.waiting, s.curator, s.reader):
        with pytest.raises(PermissionDenied):
            comment_post(claim=s.claim, author=user, body="Let me in.")
    assert not Comment.objects.exists()


# --- The pages -----------------------------------------------------------------------------------------------


def _without_tokens(html: bytes) -> str:
    """The page without what changes from one request to the next: CSRF tokens."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())


def test_a_reviewer_who_has_not_submitted_sees_nothing_of_the_thread(scene):
    s = scene
    client = signed_in(s.waiting)
    empty = client.get(review_page(s))
    comment_post(claim=s.claim, author=s.editor, body=SECRET)
    comment_post(claim=s.claim, author=s.done, body="I agree, @walt should look.")
    after = client.get(review_page(s))
    assert after.status_code == 200
    assert SECRET.encode() not in after.content
    assert b"comment-list" not in after.content and b"Discussion (" not in after.content
    assert b"Once you have submitted your review in this round" in after.content
    # not even whether anyone has said anything: the page is the same as before the thread began
    assert _without_tokens(after.content) == _without_tokens(empty.content)


def test_posting_is_refused_to_those_who_may_not_discuss(scene):
    s = scene
    body = {"body": "Let me in."}
    assert signed_in(s.waiting).post(reverse("reviews:review-comment", args=[s.claim.pk]), body).status_code == 403
    assert signed_in(s.curator).post(reverse("reviews:review-comment", args=[s.claim.pk]), body).status_code == 403
    assert signed_in(s.reader).post(reverse("reviews:editor-comment", args=[s.claim.pk]), body).status_code == 403
    anonymous = Client().post(reverse("reviews:review-comment", args=[s.claim.pk]), body)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not Comment.objects.exists()


def test_the_reviewer_who_submitted_reads_and_posts(scene):
    s = scene
    comment_post(claim=s.claim, author=s.editor, body=SECRET)
    client = signed_in(s.done)
    page = client.get(review_page(s))
    assert SECRET.encode() in page.content and b"Discussion (1)" in page.content
    response = client.post(reverse("reviews:review-comment", args=[s.claim.pk]), {"body": "The trial was small."})
    comment = Comment.objects.get(author=s.done)
    assert response.status_code == 302 and response["Location"].endswith(f"{review_page(s)}#comment-{comment.pk}")
    assert (comment.round, comment.body) == (1, "The trial was small.")
    assert b"Discussion (2)" in client.get(review_page(s)).content


def test_the_editor_reads_and_posts_on_the_claims_page(scene):
    s = scene
    client = signed_in(s.editor)
    page = client.get(editor_page(s))
    assert b'id="discussion-heading"' in page.content and b"Nobody has said anything yet." in page.content
    response = client.post(reverse("reviews:editor-comment", args=[s.claim.pk]), {"body": SECRET})
    assert response.status_code == 302
    assert SECRET.encode() in client.get(editor_page(s)).content


def test_the_discussion_is_never_on_the_public_claim_page(scene):
    s = scene
    comment_post(claim=s.claim, author=s.editor, body=SECRET)
    for client in (Client(), signed_in(s.editor), signed_in(s.done)):
        page = client.get(reverse("evidence:claim-detail", args=[s.claim.pk]))
        assert page.status_code == 200 and SECRET.encode() not in page.content


def test_hostile_text_is_shown_as_text(scene):
    s = scene
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    signed_in(s.editor).post(reverse("reviews:editor-comment", args=[s.claim.pk]), {"body": hostile})
    page = signed_in(s.done).get(review_page(s)).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "Write something before posting."), ("   \n  ", "Write something before posting."), ("x" * 5001, "5000")],
)
def test_an_empty_or_overlong_comment_is_refused_with_a_message(scene, body, error):
    s = scene
    for client, url in (
        (signed_in(s.editor), reverse("reviews:editor-comment", args=[s.claim.pk])),
        (signed_in(s.done), reverse("reviews:review-comment", args=[s.claim.pk])),
    ):
        response = client.post(url, {"body": body})
        assert response.status_code == 400
        assert b"There is a problem" in response.content and error.encode() in response.content
    assert not Comment.objects.exists()


def test_the_thread_costs_the_same_queries_however_long(scene, make_user):
    s = scene
    client, reviewer = signed_in(s.editor), signed_in(s.done)
    comment_post(claim=s.claim, author=s.done, body="One.")
    edited = comment_post(claim=s.claim, author=s.editor, body="Two.").comment
    comment_edit(comment=edited, author=s.editor, body="Two, corrected.")
    with CaptureQueriesContext(connection) as few:
        client.get(editor_page(s))
    with CaptureQueriesContext(connection) as few_reviewer:
        reviewer.get(review_page(s))
    for n in range(20):
        author = make_user("Reviewers")
        rate(s.claim, author)
        comment_edit(
            comment=comment_post(claim=s.claim, author=author, body=f"Comment {n}.").comment,
            author=author,
            body=f"Comment {n}, edited.",
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(editor_page(s))
    assert response.content.count(b'class="comment') >= 22
    assert len(many) == len(few), "the reviews, the thread and its history are each one query"
    with CaptureQueriesContext(connection) as many_reviewer:
        response = reviewer.get(review_page(s))
    assert response.content.count(b'class="comment') >= 22
    assert len(many_reviewer) == len(few_reviewer)


# --- History: edit and delete --------------------------------------------------------------------------------


def test_an_edit_keeps_the_earlier_text_and_says_edited(scene):
    s = scene
    comment = comment_post(claim=s.claim, author=s.done, body="The trial had 40 people.").comment
    client = signed_in(s.done)
    edit = reverse("reviews:comment-edit", args=[comment.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {"body": "The trial had 400 people."})
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.body == "The trial had 400 people." and comment.edited_at is not None
    assert [h.body for h in comment.history.order_by("history_date")] == [
        "The trial had 40 people.",
        "The trial had 400 people.",
    ]
    assert b"edited" in client.get(review_page(s)).content
    # editors read the earlier text; the thread shows everyone that it was edited
    editor_view = signed_in(s.editor).get(editor_page(s)).content
    assert b"Earlier text (1 version)" in editor_view and b"The trial had 40 people." in editor_view


def test_an_edit_to_nothing_is_refused_with_a_message(scene):
    s = scene
    comment = comment_post(claim=s.claim, author=s.done, body="Kept.").comment
    client = signed_in(s.done)
    response = client.post(reverse("reviews:comment-edit", args=[comment.pk]), {"body": "  "})
    assert response.status_code == 400
    assert b"There is a problem" in response.content and b"Write something before posting." in response.content
    assert client.get(reverse("reviews:comment-delete", args=[comment.pk])).status_code == 405
    comment.refresh_from_db()
    assert comment.body == "Kept." and comment.history.count() == 1


def test_a_delete_keeps_the_comments_place_and_its_text_in_history(scene):
    s = scene
    comment = comment_post(claim=s.claim, author=s.done, body="Said in haste.").comment
    response = signed_in(s.done).post(reverse("reviews:comment-delete", args=[comment.pk]))
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "" and comment.is_deleted
    assert "Said in haste." in [h.body for h in comment.history.all()]
    page = signed_in(s.done).get(review_page(s)).content
    assert b"Deleted by its author." in page and b"Said in haste." not in page
    assert b"Said in haste." in signed_in(s.editor).get(editor_page(s)).content  # the record, for editors


def test_only_the_author_changes_a_comment_and_others_learn_nothing_of_it(scene):
    s = scene
    comment = comment_post(claim=s.claim, author=s.done, body=SECRET).comment
    edit = reverse("reviews:comment-edit", args=[comment.pk])
    delete = reverse("reviews:comment-delete", args=[comment.pk])
    missing = reverse("reviews:comment-edit", args=[comment.pk + 1000])
    for user in (s.editor, s.waiting, s.reader):
        client = signed_in(user)
        # the same answer as for a comment that does not exist
        assert client.get(edit).status_code == client.get(missing).status_code == 404
        assert client.post(edit, {"body": "Changed."}).status_code == 404
        assert client.post(delete).status_code == 404
    with pytest.raises(PermissionDenied):
        comment_edit(comment=comment, author=s.editor, body="Changed.")
    with pytest.raises(PermissionDenied):
        comment_delete(comment=comment, author=s.editor)
    comment.refresh_from_db()
    assert comment.body == SECRET


# --- Rounds ----------------------------------------------------------------------------------------------------


def test_the_thread_spans_rounds_and_each_comment_says_its_round(scene, make_user):
    s = scene
    other = make_user("Reviewers")
    rate(s.claim, other)
    comment_post(claim=s.claim, author=s.done, body="Round one remark.")
    verdict_publish(claim=s.claim, published_by=s.editor, rationale="Two consistent trials.")
    claims_send_back(claims=[s.claim], reason="a larger trial disagrees", user=s.editor)
    client = signed_in(s.done)
    assert b"Round one remark." not in client.get(review_page(s)).content  # blind in round 2
    assert client.post(reverse("reviews:review-comment", args=[s.claim.pk]), {"body": "x"}).status_code == 403
    # nor may they change their own round-1 comment while the new round is closed to them
    first = Comment.objects.get(body="Round one remark.")
    assert client.get(reverse("reviews:comment-edit", args=[first.pk])).status_code == 404
    rate(s.claim, s.done, "low", "partly_supported")
    comment_post(claim=s.claim, author=s.done, body="Round two remark.")
    page = client.get(review_page(s)).content
    assert b"Round one remark." in page and b"round 1" in page and b"round 2" in page
    assert first.round == 1 and Comment.objects.get(body="Round two remark.").round == 2


# --- Mentions --------------------------------------------------------------------------------------------------


def test_a_mention_tells_only_those_who_may_read_the_thread(scene, mailoutbox, django_capture_on_commit_callbacks):
    s = scene
    client = signed_in(s.editor)
    body = "@dora and @walt, and @rita, @cura, @nobody and @eda: is the trial big enough?"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reviews:editor-comment", args=[s.claim.pk]), {"body": body}, follow=True)
    assert [mail.to for mail in mailoutbox] == [[s.done.email]]
    mail = mailoutbox[0]
    assert "eda mentioned you" in mail.subject
    assert "is the trial big enough?" in mail.body
    assert f"{settings.SITE_URL}{review_page(s)}#discussion" in mail.body  # dora is a reviewer: her page
    assert "Told by email: @dora." in response.content.decode()


def test_nothing_is_sent_before_the_comment_commits(scene, mailoutbox, django_capture_on_commit_callbacks):
    s = scene
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment_post(claim=s.claim, author=s.editor, body="@dora, a look?")
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_an_editor_mentioned_is_sent_to_the_editors_page(scene, mailoutbox, django_capture_on_commit_callbacks):
    s = scene
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(claim=s.claim, author=s.done, body="@eda @bo please adjudicate; @dora is me.")
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([s.editor.email, s.both.email])
    assert all(f"{editor_page(s)}#discussion" in mail.body for mail in mailoutbox)


def test_an_edit_tells_only_those_newly_mentioned(scene, make_user, mailoutbox, django_capture_on_commit_callbacks):
    s = scene
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_post(claim=s.claim, author=s.editor, body="@dora, a look?").comment
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        posted = comment_edit(comment=comment, author=s.editor, body="@dora and @bo, a look? @walt too.")
    assert posted.notified == [s.both]
    assert [mail.to for mail in mailoutbox[1:]] == [[s.both.email]]


def test_a_reviewer_mentioned_before_submitting_is_not_told_then_or_after(
    scene, mailoutbox, django_capture_on_commit_callbacks
):
    s = scene
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(claim=s.claim, author=s.editor, body="@walt has not reviewed yet.")
    rate(s.claim, s.waiting)
    assert mailoutbox == []


def test_a_mention_follows_the_person_s_email_choice(scene, mailoutbox, django_capture_on_commit_callbacks):
    s = scene
    NotificationPreference.objects.create(user=s.done, kind=NotificationKind.MENTION, delivery=Delivery.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        posted = comment_post(claim=s.claim, author=s.editor, body="@dora, a look?")
    assert posted.notified == [s.done]
    assert mailoutbox == []  # kept for the daily digest
    waiting = Notification.objects.get(user=s.done, kind=NotificationKind.MENTION, sent_at__isnull=True)
    assert waiting.context["body"] == "@dora, a look?"

    NotificationPreference.objects.filter(user=s.done).update(delivery=Delivery.OFF)
    with django_capture_on_commit_callbacks(execute=True):
        comment_post(claim=s.claim, author=s.editor, body="@dora, another look?")
    assert Notification.objects.filter(user=s.done, kind=NotificationKind.MENTION).count() == 1
