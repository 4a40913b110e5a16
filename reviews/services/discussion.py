"""The discussion of a claim: posting, editing and deleting comments, and telling the people mentioned.

Who may take part is reviews.access.may_discuss, checked here as well as by the pages, so no caller can
post for someone the rule shuts out, and no mention reaches someone who may not read the thread. Every
version of a comment is kept (django-simple-history): an edit or a delete keeps the earlier text there.

Mentions are ``@username``. The people mentioned who may read the thread (and are not the author) get an
email as they chose (reviews.services.notifications: at once after the commit, in a digest, or not):
discussion_notify_mentions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from evidence.models import Claim
from reviews.access import may_discuss, may_edit
from reviews.models import Comment, Notification, NotificationKind
from reviews.services.notifications import notify
from reviews.services.rounds import current_round

# "@" then a username (Django's: letters, digits and @ . + - _), not preceded by a word character (an email
# address is no mention) and not ending in "." (the full stop after "… ask @anna.").
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]*[\w@+-])")
# More than this many mentions in one comment is not a conversation; the rest are ignored.
MENTIONS_MAX = 10

REFUSED = "You may not take part in this claim's discussion."
EMPTY = "Write something before posting."


class PostedComment(NamedTuple):
    """What comment_post or comment_edit did: the comment, and who will be told of a mention in it by email
    once the transaction commits (the author is never among them)."""

    comment: Comment
    notified: list[AbstractBaseUser]


def mentioned_usernames(body: str) -> list[str]:
    """The usernames ``body`` mentions, each once, in order of first mention, at most MENTIONS_MAX."""
    names: list[str] = []
    for name in MENTION.findall(body):
        if name not in names:
            names.append(name)
    return names[:MENTIONS_MAX]


def mentioned_discussants(*, claim: Claim, author: AbstractBaseUser, usernames: Iterable[str]) -> list:
    """The users named who may read ``claim``'s discussion (may_discuss), other than the author: whom a
    mention tells. One query for the users, and may_discuss's for each."""
    names = [name for name in usernames if name != author.get_username()]
    if not names:
        return []
    User = get_user_model()
    users = User.objects.filter(**{f"{User.USERNAME_FIELD}__in": names, "is_active": True}).order_by(
        User.USERNAME_FIELD
    )
    return [user for user in users if may_discuss(user, claim)]


def _checked_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": EMPTY})
    if len(body) > Comment.BODY_MAX:
        raise ValidationError(
            {"body": f"A comment is at most {Comment.BODY_MAX} characters; this one has {len(body)}."}
        )
    return body


@transaction.atomic
def comment_post(*, claim: Claim, author: AbstractBaseUser, body: str) -> PostedComment:
    """Add ``author``'s comment to ``claim``'s discussion, in the claim's current round, and tell the people
    it mentions who may read the thread (discussion_notify_mentions).
    PermissionDenied when ``author`` may not discuss the claim (may_discuss); ValidationError on an empty
    or overlong comment."""
    if not may_discuss(author, claim):
        raise PermissionDenied(REFUSED)
    comment = Comment(claim=claim, author=author, body=_checked_body(body), round=current_round(claim))
    comment._change_reason = "posted"
    comment._history_user = author
    comment.save()
    notified = mentioned_discussants(claim=claim, author=author, usernames=mentioned_usernames(comment.body))
    discussion_notify_mentions(comment, recipients=notified)
    return PostedComment(comment, notified)


def _own_comment(comment: Comment, author: AbstractBaseUser) -> Comment:
    """The comment, locked, if ``author`` wrote it, it is not deleted, and they may still discuss its claim."""
    comment = Comment.objects.select_for_update().select_related("claim").get(pk=comment.pk)
    if comment.author_id != author.pk or not may_discuss(author, comment.claim):
        raise PermissionDenied("Only its author may change a comment.")
    if comment.is_deleted:
        raise ValidationError("This comment was deleted.")
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, author: AbstractBaseUser, body: str) -> PostedComment:
    """Replace the text of ``author``'s own comment; the history keeps the earlier text and the thread says
    "edited". Those it newly mentions (not mentioned before) are told, as comment_post does. Unchanged text
    saves nothing. PermissionDenied unless ``author`` wrote it and may still discuss the claim;
    ValidationError on a deleted comment, or an empty or overlong text."""
    comment = _own_comment(comment, author)
    body = _checked_body(body)
    if body == comment.body:
        return PostedComment(comment, [])
    before = set(mentioned_usernames(comment.body))
    comment.body, comment.edited_at = body, timezone.now()
    comment._change_reason = "edited"
    comment._history_user = author
    comment.save(update_fields=["body", "edited_at"])
    new = [name for name in mentioned_usernames(body) if name not in before]
    notified = mentioned_discussants(claim=comment.claim, author=author, usernames=new)
    discussion_notify_mentions(comment, recipients=notified)
    return PostedComment(comment, notified)


@transaction.atomic
def comment_delete(*, comment: Comment, author: AbstractBaseUser) -> Comment:
    """Delete ``author``'s own comment: it keeps its place in the thread, marked deleted, without its text;
    the history keeps the text. PermissionDenied unless ``author`` wrote it and may still discuss the claim;
    ValidationError when it was deleted already."""
    comment = _own_comment(comment, author)
    comment.body, comment.deleted_at = "", timezone.now()
    comment._change_reason = "deleted"
    comment._history_user = author
    comment.save(update_fields=["body", "deleted_at"])
    return comment


def discussion_url(user: AbstractBaseUser, claim: Claim) -> str:
    """Where ``user`` reads ``claim``'s discussion: the editor's page of the claim for an editor, else their
    review page."""
    name = "reviews:editor-claim" if may_edit(user) else "reviews:review-claim"
    return f"{reverse(name, args=[claim.pk])}#discussion"


def discussion_notify_mentions(comment: Comment, *, recipients: Iterable[AbstractBaseUser]) -> list[Notification]:
    """Tell each of ``recipients`` (mentioned_discussants: people who may read the thread) that ``comment``
    mentions them, with its text and a link to the thread where they read it: a notification of kind
    "mention", sent as each chose (reviews.services.notifications.notify, after the commit). The ones told."""
    author = comment.author.get_full_name() or comment.author.get_username()
    told = []
    for user in recipients:
        context = {"author": author, "body": comment.body, "discussion_path": discussion_url(user, comment.claim)}
        notification = notify(user, NotificationKind.MENTION, claim=comment.claim, context=context)
        if notification is not None:
            told.append(notification)
    return told
