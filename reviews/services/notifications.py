"""Email notifications: one entry point, notify(), for every kind (NotificationKind).

Each person chooses, kind by kind, to be emailed at once, in a daily digest, or never
(NotificationPreference; at once without a choice). notify() records a Notification; one to send at
once goes out after the transaction commits (transaction.on_commit), so a write that rolls back mails
nobody, and one for the digest waits for digests_send() (`manage.py send_digests`, scheduled daily).

A message is rendered when it is sent, from the rows as they are then: templates/reviews/email/<kind>.txt,
whose first line is the subject, and the same text as HTML in templates/reviews/email/message.html. What a
message may show of reviews is what reviews.access lets its recipient read at that moment
(visible_reviews): an email never opens a blind round. Every message carries a signed link that turns its
kind off without signing in (unsubscribe_token; the page asks to confirm with a POST).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from evidence.models import Claim
from reviews.access import visible_reviews
from reviews.models import Delivery, Notification, NotificationKind, NotificationPreference

logger = logging.getLogger("reviews.notifications")

UNSUBSCRIBE_SALT = "reviews.notifications.unsubscribe"
ALL_KINDS = "all"


# --- Preferences -----------------------------------------------------------------------------------------


def preferences_of(user: AbstractBaseUser) -> dict[str, str]:
    """Each kind's delivery for ``user``: their choice, else at once. One query."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, Delivery.IMMEDIATE) for kind in NotificationKind.values}


@transaction.atomic
def preferences_update(*, user: AbstractBaseUser, deliveries: Mapping[str, str]) -> dict[str, str]:
    """Set how ``user`` receives each kind named in ``deliveries`` (kind → Delivery)."""
    for kind, delivery in deliveries.items():
        if kind not in NotificationKind.values or delivery not in Delivery.values:
            raise ValueError(f"Unknown notification kind or delivery: {kind!r}, {delivery!r}.")
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
    return preferences_of(user)


# --- Unsubscribing by a signed link ------------------------------------------------------------------------


def unsubscribe_token(user: AbstractBaseUser, kind: str) -> str:
    """A token that turns ``kind`` (or ALL_KINDS) off for ``user``; signed with the secret key, so it
    cannot be made for someone else, and it never expires (an old email's link still works)."""
    return signing.dumps({"user": user.pk, "kind": kind}, salt=UNSUBSCRIBE_SALT)


@dataclass(frozen=True)
class Unsubscription:
    user: AbstractBaseUser
    kind: str  # a NotificationKind value, or ALL_KINDS

    @property
    def kind_label(self) -> str:
        return (
            "every email from us" if self.kind == ALL_KINDS else f"emails about “{NotificationKind(self.kind).label}”"
        )


def unsubscription_of(token: str) -> Unsubscription | None:
    """What a token from unsubscribe_token() asks for, or None when it is not one of ours (or its user is
    gone)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = get_user_model().objects.get(pk=data["user"])
    except (signing.BadSignature, KeyError, TypeError, get_user_model().DoesNotExist):
        return None
    if data.get("kind") != ALL_KINDS and data.get("kind") not in NotificationKind.values:
        return None
    return Unsubscription(user=user, kind=data["kind"])


@transaction.atomic
def unsubscribe(*, token: str) -> Unsubscription | None:
    """Turn off what the token names; None for a token that is not valid."""
    wanted = unsubscription_of(token)
    if wanted is None:
        return None
    kinds = NotificationKind.values if wanted.kind == ALL_KINDS else [wanted.kind]
    preferences_update(user=wanted.user, deliveries={kind: Delivery.OFF for kind in kinds})
    return wanted


# --- Notifying ----------------------------------------------------------------------------------------------


def notify(
    user: AbstractBaseUser,
    kind: str,
    *,
    claim: Claim | None = None,
    context: Mapping[str, Any] | None = None,
) -> Notification | None:
    """Tell ``user`` about something of ``kind`` (a NotificationKind), as they chose: at once (emailed
    after the transaction commits), in their next digest, or not at all (None). Nobody is told who has
    no email address or whose account is inactive. ``context`` holds plain JSON values for the
    template (never a review's content: the template reads what the recipient may see when it is sent)."""
    NotificationKind(kind)  # an unknown kind is a programming error
    if not user.is_active or not getattr(user, "email", ""):
        return None
    delivery = NotificationPreference.objects.filter(user=user, kind=kind).values_list("delivery", flat=True).first()
    delivery = delivery or Delivery.IMMEDIATE
    if delivery == Delivery.OFF:
        return None
    notification = Notification.objects.create(
        user=user, kind=kind, delivery=delivery, claim=claim, context=dict(context or {})
    )
    if delivery == Delivery.IMMEDIATE:
        transaction.on_commit(partial(send_now, notification.pk))
    return notification


def notify_each(
    users: Iterable[AbstractBaseUser],
    kind: str,
    *,
    claim: Claim | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """notify() for each of ``users``, once each; the ones told."""
    told, seen = [], set()
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        notification = notify(user, kind, claim=claim, context=context)
        if notification is not None:
            told.append(notification)
    return told


# --- Sending ------------------------------------------------------------------------------------------------


def absolute(path: str) -> str:
    """A link for an email: the site's address (EVIDENCE_SITE_URL) and ``path``."""
    return f"{settings.SITE_URL}{path}"


def _message_context(notification: Notification) -> dict[str, Any]:
    """What every kind's template may use: the notification's own context, the claim and its links, the
    reviews of the claim the recipient may read now (reviews.access.visible_reviews), and the links to
    the preferences and to unsubscribe from this kind."""
    user, claim = notification.user, notification.claim
    context: dict[str, Any] = {**notification.context, "user": user, "claim": claim}
    if claim is not None:
        context.update(
            claim_url=absolute(claim.get_absolute_url()),
            review_url=absolute(reverse("reviews:review-claim", args=[claim.pk])),
            editor_url=absolute(reverse("reviews:editor-claim", args=[claim.pk])),
            readable_reviews=list(
                visible_reviews(user).filter(claim=claim).select_related("reviewer").order_by("round", "created_at")
            ),
        )
    context.update(
        site_url=settings.SITE_URL,
        queue_url=absolute(reverse("reviews:queue")),
        desk_url=absolute(reverse("reviews:desk")),
        preferences_url=absolute(reverse("reviews:notification-preferences")),
    )
    return context


def render_notification(notification: Notification) -> tuple[str, str]:
    """The subject (the template's first line) and the text of one notification."""
    rendered = render_to_string(f"reviews/email/{notification.kind}.txt", _message_context(notification))
    subject, _, body = rendered.strip().partition("\n")
    return " ".join(subject.split()), body.strip()


def _email(user: AbstractBaseUser, subject: str, body: str, unsubscribe_kind: str) -> EmailMultiAlternatives:
    """One email to ``user``: the text, the same as HTML, and the unsubscribe link in the footer and in the
    List-Unsubscribe header mail programs show as a button."""
    unsubscribe_url = absolute(reverse("reviews:unsubscribe", args=[unsubscribe_token(user, unsubscribe_kind)]))
    footer = {
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": absolute(reverse("reviews:notification-preferences")),
        "kind_label": Unsubscription(user, unsubscribe_kind).kind_label,
    }
    text = render_to_string("reviews/email/message.txt", {"body": body, **footer})
    html = render_to_string("reviews/email/message.html", {"subject": subject, "body": body, **footer})
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[user.email], headers={"List-Unsubscribe": f"<{unsubscribe_url}>"}
    )
    message.attach_alternative(html, "text/html")
    return message


def send_now(notification_id: int) -> bool:
    """Email one notification at once, unless it went out already; after the commit that recorded it.
    A failure to send leaves it unsent, for the next digest to carry (and the log to say)."""
    claimed = Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(sent_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "claim__article").get(pk=notification_id)
    subject, body = render_notification(notification)
    try:
        _email(notification.user, subject, body, notification.kind).send()
    except OSError:
        logger.exception("Could not email notification %s; it goes into the next digest.", notification_id)
        Notification.objects.filter(pk=notification_id).update(sent_at=None, delivery=Delivery.DIGEST)
        return False
    return True


def digests_send() -> int:
    """Email each person with unsent notifications one digest of them all, oldest first; returns how many
    emails went out. A digest that could not be sent stays unsent for the next run."""
    pending = (
        Notification.objects.filter(sent_at__isnull=True)
        .select_related("user", "claim__article")
        .order_by("user_id", "created_at", "pk")
    )
    by_user: dict[int, list[Notification]] = {}
    for notification in pending:
        by_user.setdefault(notification.user_id, []).append(notification)
    sent = 0
    for items in by_user.values():
        user = items[0].user
        if not user.is_active or not user.email:
            continue
        entries = []
        for notification in items:
            subject, body = render_notification(notification)
            entries.append({"subject": subject, "body": body})
        subject = f"Your daily digest: {len(entries)} update{'s' if len(entries) != 1 else ''}"
        body = render_to_string("reviews/email/digest.txt", {"user": user, "entries": entries}).strip()
        try:
            _email(user, subject, body, ALL_KINDS).send()
        except OSError:
            logger.exception("Could not email the digest of user %s; it waits for the next run.", user.pk)
            continue
        Notification.objects.filter(pk__in=[n.pk for n in items], sent_at__isnull=True).update(sent_at=timezone.now())
        sent += 1
    return sent
