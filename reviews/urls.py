"""The review workflow's pages: /review/ for reviewers, /editor/ for editors (namespace ``reviews``).

Identifiers travel in the URL, never in a POST body; every POST redirects back to a page (POST-redirect-GET).
"""

from django.urls import path

from reviews import views
from reviews.models import Flag

app_name = "reviews"

urlpatterns = [
    path("accounts/start/", views.start, name="start"),
    # a reader's report of a problem with a claim (the form is on the claim's page), and the editor closing it
    path("claims/<int:claim_id>/report/", views.report_submit, name="report"),
    path("claims/<int:claim_id>/report/sent/", views.report_done, name="report-done"),
    path("editor/reports/<int:report_id>/close/", views.report_close, name="report-close"),
    path("review/", views.queue, name="queue"),
    # who reviews: a reviewer's own profile, and the public page of one who opted in
    path("review/profile/", views.reviewer_profile_edit, name="reviewer-profile-edit"),
    path("reviewers/<int:user_id>/", views.reviewer_profile, name="reviewer-profile"),
    path("review/claims/<int:claim_id>/", views.review_claim, name="review-claim"),
    # a claim's discussion: posted from the reviewer's page or the editor's, each author's own comments changed
    path("review/claims/<int:claim_id>/comments/", views.review_comment_post, name="review-comment"),
    path("editor/claims/<int:claim_id>/comments/", views.editor_comment_post, name="editor-comment"),
    path("discussion/comments/<int:comment_id>/edit/", views.comment_edit, name="comment-edit"),
    path("discussion/comments/<int:comment_id>/delete/", views.comment_delete, name="comment-delete"),
    path("editor/", views.desk, name="desk"),
    path("editor/queues/<slug:slug>/", views.desk_queue, name="desk-queue"),
    path("editor/claims/<int:claim_id>/", views.editor_claim, name="editor-claim"),
    path("editor/claims/<int:claim_id>/flags/", views.flag_raise, name="flag-raise"),
    path("editor/claims/<int:claim_id>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("editor/claims/<int:claim_id>/publish/", views.publish, name="publish"),
    # an orphan: accept the suggested passage, or quote the claim again in the current text
    path("editor/claims/<int:claim_id>/anchor/accept/", views.anchor_accept, name="anchor-accept"),
    path("editor/claims/<int:claim_id>/anchor/requote/", views.anchor_requote, name="anchor-requote"),
    # assignments: reviewers asked to review a claim (or a whole article) by a date
    path("editor/claims/<int:claim_id>/assign/", views.assign, name="assign"),
    path("editor/assignments/<int:assignment_id>/remove/", views.assignment_remove, name="assignment-remove"),
    path("editor/assignments/<int:assignment_id>/due/", views.assignment_due, name="assignment-due"),
    path("editor/assignments/<int:assignment_id>/reassign/", views.assignment_reassign, name="assignment-reassign"),
    # email notifications: each person's choices, and the signed unsubscribe link in every email
    path("notifications/", views.notification_preferences, name="notification-preferences"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path(
        "editor/flags/<int:flag_id>/resolve/",
        views.flag_close,
        {"status": Flag.Status.RESOLVED},
        name="flag-resolve",
    ),
    path(
        "editor/flags/<int:flag_id>/dismiss/",
        views.flag_close,
        {"status": Flag.Status.DISMISSED},
        name="flag-dismiss",
    ),
]
