"""Who may call what: the pages' permissions, by name, for each API action.

Reads are public, as the pages are (what is public is decided by the querysets in views.py). Each write
names the permissions it needs in its view's ``required_perms``, the same ones the pages and the admin
check (reviews.access, the Curators/Reviewers/Editors groups of reviews/migrations/0003_roles.py):

- no credentials → 401 (with ``WWW-Authenticate: Token``), as the pages send an anonymous visitor to sign in;
- signed in without every permission → 403, as the pages answer 403.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from reviews.access import ADJUDICATE, CLOSE_FLAG, EDITOR_PAGE, PUBLISH, RAISE_FLAG, REVIEW

# Each editor action needs what the editor's pages need (reviews.access.EDITOR_PAGE), plus its own.
REVIEW_OWN = (REVIEW,)  # reviews:review-claim
FLAG_RAISE = (*EDITOR_PAGE, RAISE_FLAG)  # reviews:flag-raise
FLAG_CLOSE = (*EDITOR_PAGE, CLOSE_FLAG)  # reviews:flag-resolve, reviews:flag-dismiss
ADJUDICATE_CLAIM = (*EDITOR_PAGE, ADJUDICATE)  # reviews:adjudicate
PUBLISH_VERDICT = (*EDITOR_PAGE, PUBLISH)  # reviews:publish
# Studies and citations: the admin's model permissions (Curators hold them).
STUDY_ADD = ("evidence.add_study",)
STUDY_CHANGE = ("evidence.change_study",)
CITATION_ADD = ("evidence.add_citation",)
CITATION_CHANGE = ("evidence.change_citation",)
CITATION_DELETE = ("evidence.delete_citation",)


class ActionPermissions(BasePermission):
    """``view.required_perms`` maps an action ("create", "review", …) to the permissions it needs. An
    action not listed is a public read: allowed for GET and HEAD, refused for any other method, so a
    write nobody listed is closed rather than open."""

    def has_permission(self, request: Request, view) -> bool:
        if hasattr(view, "action_map"):
            action = view.action
        else:
            action = request.method.lower() if hasattr(view, request.method.lower()) else None
        if action is None:
            return True  # the view has no handler for this method: it answers 405, whoever asks
        perms = required_for(view, action)
        if perms is None:
            return request.method in SAFE_METHODS
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(perms))


def required_for(view, action: str) -> tuple[str, ...] | None:
    """The permissions an action needs (None: a public read)."""
    return getattr(view, "required_perms", {}).get(action)
