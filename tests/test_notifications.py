"""Email notifications, read from Django's mail outbox: each kind, after the commit only, as each person
chose (at once, in the daily digest, never), and the signed unsubscribe link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from reviews.models import Delivery, Notification, NotificationKind, ReviewAssignment
from reviews.services import (
    assignment_create,
    assignments_remind_due,
    claims_send_back,
    digests_send,
    flag_raise,
    preferences_update,
    unsubscribe_token,
    verdict_publish,
)
from reviews.services.notifications import notify
from tests.builders import article_with_claims, cite, rate, trial

pytestmark = pytest.mark.django_db

SECRET_RATIONALE = "Only the other reviewer wrote this, string q9x."


def soon(days: int = 7):
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def scene(make_user):
    claim = article_with_claims(1).claims.get()
    cite(claim, trial())
    return {
        "claim": claim,
        "editor": make_user("Editors", username="edna"),
        "other_editor": make_user("Editors", username="otto"),
        "rita": make_user("Reviewers", username="rita"),
        "sam": make_user("Reviewers", username="sam"),
    }


def assign(scene, who: str = "rita", due=None) -> ReviewAssignment:
    return assignment_create(
        claim=scene["claim"], reviewer=scene[who], due_date=due or soon(), assigned_by=scene["editor"]
    )


def test_assigned_to_you(scene, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assign(scene)
    [message] = mail.outbox
    assert message.to == ["rita@example.org"]
    assert message.subject == f"Please review claim {scene['claim'].key} by {soon().isoformat()}"
    assert scene["claim"].quote in message.body
    assert f"/review/claims/{scene['claim'].pk}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and scene["claim"].quote in html
    assert "/notifications/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert Notification.objects.get().sent_at is not None


def test_a_write_that_rolls_back_mails_nobody(scene, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            assign(scene)
            raise RuntimeError("the request failed after assigning")
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_due_soon_once_per_due_date(scene, django_capture_on_commit_callbacks):
    assignment = assign(scene, due=soon(2))
    far = assign(scene, "sam", due=soon(9))
    with django_capture_on_commit_callbacks(execute=True):
        assert assignments_remind_due() == 1
        assert assignments_remind_due() == 0  # once
    due_soon = [m for m in mail.outbox if "is due on" in m.subject]
    assert [m.to for m in due_soon] == [["rita@example.org"]]
    assert ReviewAssignment.objects.get(pk=far.pk).reminded_at is None
    # a submitted review needs no reminder
    rate(scene["claim"], scene["sam"])
    ReviewAssignment.objects.filter(pk=far.pk).update(due_date=soon(1))
    assert assignments_remind_due() == 0
    assert assignment.pk


def test_a_claim_you_reviewed_needs_rereview_and_the_mail_stays_blind(scene, django_capture_on_commit_callbacks):
    claim = scene["claim"]
    rate(claim, scene["rita"], rationale="Rita's own reasoning.")
    rate(claim, scene["sam"], rationale=SECRET_RATIONALE)
    with django_capture_on_commit_callbacks(execute=True):
        verdict_publish(claim=claim, published_by=scene["editor"], rationale="Two consistent trials.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        claims_send_back(claims=[claim], reason="a larger trial disagrees", user=scene["editor"])
    assert sorted(m.to[0] for m in mail.outbox) == ["rita@example.org", "sam@example.org"]
    for message in mail.outbox:
        assert message.subject == f"Claim {claim.key} needs re-review"
        assert "a larger trial disagrees" in message.body
        assert SECRET_RATIONALE not in message.body and "Rita's own reasoning." not in message.body


def test_a_verdict_published_on_a_claim_you_reviewed(scene, django_capture_on_commit_callbacks):
    claim = scene["claim"]
    rate(claim, scene["rita"], "moderate", "supported")
    rate(claim, scene["sam"], "moderate", "supported", rationale=SECRET_RATIONALE)
    with django_capture_on_commit_callbacks(execute=True):
        verdict_publish(claim=claim, published_by=scene["editor"], rationale="Two consistent trials.")
    assert sorted(m.to[0] for m in mail.outbox) == ["rita@example.org", "sam@example.org"]
    message = next(m for m in mail.outbox if m.to == ["rita@example.org"])
    assert message.subject == f"Verdict published on claim {claim.key}: Supported, moderate certainty"
    assert "Two consistent trials." in message.body
    # the reviews listed are those rita may read now (the round is published): ratings, never rationales
    assert "- You (round 1)" in message.body and "- Another reviewer (round 1)" in message.body
    assert SECRET_RATIONALE not in message.body


def test_a_flag_on_a_claim_you_edit(scene, django_capture_on_commit_callbacks):
    """The editor who assigned the claim's reviewers edits it; the editor raising the flag is not told."""
    assign(scene)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flag_raise(claim=scene["claim"], reason="overstated", note="Too strong.", raised_by=scene["other_editor"])
    [message] = mail.outbox
    assert message.to == ["edna@example.org"]
    assert message.subject == f"Flag on claim {scene['claim'].key}: Overstated"
    assert "otto raised" in message.body and "Too strong." in message.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flag_raise(claim=scene["claim"], reason="misattributed", raised_by=scene["editor"])
    assert mail.outbox == []


def test_a_kind_turned_off_sends_nothing(scene, django_capture_on_commit_callbacks):
    preferences_update(user=scene["rita"], deliveries={NotificationKind.ASSIGNED: Delivery.OFF})
    with django_capture_on_commit_callbacks(execute=True):
        assign(scene)
    assert mail.outbox == []
    assert not Notification.objects.exists()
    assert digests_send() == 0


def test_the_digest_is_one_mail_with_every_pending_item(scene, make_user, django_capture_on_commit_callbacks):
    preferences_update(
        user=scene["rita"],
        deliveries={NotificationKind.ASSIGNED: Delivery.DIGEST, NotificationKind.DUE_SOON: Delivery.DIGEST},
    )
    other = article_with_claims(1, slug="second-article").claims.get()
    with django_capture_on_commit_callbacks(execute=True):
        assign(scene, due=soon(1))
        assignment_create(claim=other, reviewer=scene["rita"], due_date=soon(5), assigned_by=scene["editor"])
        assignments_remind_due()
    assert mail.outbox == []  # all waits for the digest
    assert digests_send() == 1
    [digest] = mail.outbox
    assert digest.to == ["rita@example.org"]
    assert digest.subject == "Your daily digest: 3 updates"
    assert scene["claim"].quote in digest.body and other.quote in digest.body
    assert "is due on" in digest.body
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    assert digests_send() == 0  # nothing twice
    call_command("send_digests", verbosity=0)
    assert len(mail.outbox) == 1


def test_the_unsubscribe_link_is_signed_and_asks_before_it_acts(scene, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assign(scene)
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://127.0.0.1:8000")
    assert path == reverse("reviews:unsubscribe", args=[unsubscribe_token(scene["rita"], NotificationKind.ASSIGNED)])
    # GET only asks (a mail scanner following the link changes nothing); no sign-in needed
    page = client.get(path)
    assert page.status_code == 200 and b"Stop sending rita" in page.content
    assert Notification.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assign(scene, "sam")
        done = client.post(path)
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    mail.outbox.clear()
    other = article_with_claims(1, slug="third-article").claims.get()
    with django_capture_on_commit_callbacks(execute=True):
        assignment_create(claim=other, reviewer=scene["rita"], due_date=soon(), assigned_by=scene["editor"])
    assert mail.outbox == []  # rita turned "assigned" off
    # a token changed by hand, or made with another salt, is refused
    forged = signing.dumps({"user": scene["sam"].pk, "kind": "assigned"}, salt="something else")
    assert client.get(reverse("reviews:unsubscribe", args=[forged])).status_code == 404
    assert client.post(reverse("reviews:unsubscribe", args=[forged])).status_code == 404
    assert client.get(path[:-3] + "xyz/").status_code == 404


def test_the_preferences_page(scene, client):
    client.force_login(scene["rita"])
    page = client.get(reverse("reviews:notification-preferences"))
    assert page.status_code == 200
    data = {kind: Delivery.IMMEDIATE for kind in NotificationKind.values} | {"verdict": Delivery.DIGEST}
    assert client.post(reverse("reviews:notification-preferences"), data).status_code == 302
    assert client.get(reverse("reviews:notification-preferences")).context["form"].initial["verdict"] == "digest"
    refused = client.post(reverse("reviews:notification-preferences"), {"verdict": "sometimes"})
    assert refused.status_code == 400 and b"There is a problem" in refused.content
    client.logout()
    assert client.get(reverse("reviews:notification-preferences")).status_code == 302


def test_nobody_without_an_address_is_told(scene):
    scene["rita"].email = ""
    scene["rita"].save()
    assert notify(scene["rita"], NotificationKind.ASSIGNED, claim=scene["claim"]) is None


def test_a_mail_the_server_refuses_waits_for_the_digest(scene, settings, django_capture_on_commit_callbacks):
    """The SMTP server is away (a closed port): the notification stays unsent and the digest carries it."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with django_capture_on_commit_callbacks(execute=True):
        assign(scene)
    notification = Notification.objects.get()
    assert (notification.sent_at, notification.delivery) == (None, Delivery.DIGEST)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digests_send() == 1
    assert mail.outbox[0].subject == "Your daily digest: 1 update"


def test_a_system_flag_tells_the_claims_editors(scene, django_capture_on_commit_callbacks):
    """A flag the system raises (a cited study retracted) reaches the editor who assigned the claim."""
    from evidence.models import Study
    from evidence.services import study_set_retraction

    assign(scene)
    mail.outbox.clear()
    study = scene["claim"].citations.get().study
    with django_capture_on_commit_callbacks(execute=True):
        study_set_retraction(study=study, status=Study.RetractionStatus.RETRACTED, note="Retracted in 2025.")
    flagged = [m for m in mail.outbox if m.subject.startswith("Flag on claim")]
    assert [m.to for m in flagged] == [["edna@example.org"]]
    assert "The system raised" in flagged[0].body


def test_the_commands_dry_run_and_run(scene, capsys):
    assign(scene, due=soon(1))
    call_command("remind_due_assignments", "--dry-run")
    assert "1 assignment would be reminded (dry run)." in capsys.readouterr().out
    assert not ReviewAssignment.objects.filter(reminded_at__isnull=False).exists()
    call_command("remind_due_assignments")
    assert "1 reviewer reminder made." in capsys.readouterr().out
    call_command("send_digests", "--dry-run")
    assert "digest" in capsys.readouterr().out
