"""The reviewer's queue and review form, the editor's desk, and each claim's discussion on both. HTTP and
validation only: every write is a call to reviews.services, every list a QuerySet from reviews.queues."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from evidence import ratelimit
from evidence.article_text import claim_context, context_around
from evidence.caching import PAGE_TIMEOUT, code_salt
from evidence.curate import CURATE
from evidence.middleware import client_ip
from evidence.models import Article, Citation, Claim
from evidence.services import claim_accept_suggestion, claim_requote
from evidence.services.monitoring import latest_retraction_check
from reviews import queues, services
from reviews.access import (
    ADJUDICATE,
    ADJUDICATE_REFUSAL,
    ASSIGN,
    CLOSE_FLAG,
    CLOSE_REPORT,
    DESK,
    EDITOR_PAGE,
    PUBLISH,
    RAISE_FLAG,
    REVIEW,
    current_round_reviewers,
    may_discuss,
    may_edit,
    others_reviews_readable,
    role_required,
    visible_reviews,
)
from reviews.consensus import ALPHA_MIN_CLAIMS, REVIEWS_REQUIRED, agreement_by_article, publish_blockers
from reviews.forms import (
    AcceptSuggestionForm,
    AdjudicationForm,
    AssignForm,
    CommentForm,
    DueDateForm,
    FlagCloseForm,
    FlagRaiseForm,
    NotificationPreferencesForm,
    PublishForm,
    QueueFilterForm,
    ReaderReportForm,
    ReassignForm,
    RequoteForm,
    ReviewerProfileForm,
    ReviewForm,
    review_errors_to_fields,
)
from reviews.history import claim_history, review_versions
from reviews.models import Comment, Flag, ReaderReport, Review, ReviewAssignment, ReviewerProfile, consensus_of

PER_PAGE = 20
DESK_PREVIEW = 8  # rows of each queue shown on the desk; each queue has its own page for the rest
DESK_ARTICLES = 20  # the articles changed last, each with a link to mark its claims


def _page(request: HttpRequest, items, param: str, per_page: int = PER_PAGE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get(param))


def _messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- Shared reads ----------------------------------------------------------------------------------------


def _citations(claim: Claim) -> list[Citation]:
    """The claim's studies, supporting evidence first; one query with the studies joined."""
    order = Case(
        *[When(relation=relation, then=Value(i)) for i, relation in enumerate(Citation.Relation.values)],
        output_field=IntegerField(),
    )
    return list(claim.citations.select_related("study").annotate(order=order).order_by("order", "-study__year"))


def _claim(claim_id: int) -> Claim:
    """The claim with its article and consensus row (LEFT JOIN: a claim nobody reviewed has none)."""
    return get_object_or_404(Claim.objects.select_related("article", "consensus"), pk=claim_id)


# --- Signed in: where to go -------------------------------------------------------------------------------


def start(request: HttpRequest) -> HttpResponse:
    """Where signing in lands (LOGIN_REDIRECT_URL; Django's sign-in view follows a safe ?next= first, and so
    does this): each role on its own page, the editor's desk for editors and admins, the review queue for
    reviewers, the workspace for curators. Someone holding two or more of these roles gets a page with a
    link to each; someone holding none, the articles."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    user = request.user
    if user.is_superuser:
        return redirect("reviews:desk")
    pages = [
        (name, url, help)
        for name, url, help, holds in (
            ("Editor's desk", "reviews:desk", "Flags, disputes and claims ready to publish.", user.has_perm(DESK)),
            ("Review queue", "reviews:queue", "The claims waiting for your review.", user.has_perm(REVIEW)),
            (
                "Curator's workspace",
                "curate:workspace",
                "Imports, the library's to-do lists, linking studies to claims.",
                user.has_perms(CURATE),
            ),
        )
        if holds
    ]
    if not pages:
        return redirect("evidence:home")
    if len(pages) == 1:
        return redirect(pages[0][1])
    return render(request, "reviews/start.html", {"pages": pages})


# --- Reviewers ----------------------------------------------------------------------------------------------


@role_required(REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    """Three lists, each paginated on its own (?waiting=, ?changed=, ?reviewed=), in two queries whatever
    their size: the data version with the lists' lengths, and the rows of the three pages
    (reviews.queues). The rendered lists are kept per reviewer and query string with the data version
    they were made at; while the version stays the same, the first query finds so and counts nothing,
    and the second is not made (evidence.caching: every committed change of what the lists show moves
    the version). PAGE_CACHE turns the keeping off, as for the public pages."""
    user = request.user
    filters = QueueFilterForm(request.GET)
    if not filters.is_valid():
        return render(
            request,
            "reviews/queue.html",
            {"reviews_required": REVIEWS_REQUIRED, "filters": filters, "searched": True},
            status=400,
        )
    if filters.active:
        return _queue_searched(request, filters)
    # today's date is in the key: an assignment becomes overdue at midnight without any data changing
    path = f"{code_salt()}|{timezone.localdate()}|{request.get_full_path()}"
    key = f"reviews:queue:{user.pk}:{hashlib.sha256(path.encode()).hexdigest()}"
    kept = cache.get(key) if settings.PAGE_CACHE else None
    sizes = queues.list_sizes(user, unless_version=kept[0] if kept else None)
    if sizes.lengths is None:
        lists = kept[1]
    else:
        pages = queues.reviewer_queue(user, request.GET, PER_PAGE, sizes.lengths)
        lists = render_to_string(
            "reviews/includes/queue_lists.html",
            {
                "waiting": pages.waiting,
                "changed": pages.changed,
                "reviewed": pages.reviewed,
                "assignments": _assigned_page(request, sizes.lengths["assigned"]),
                # the search form lists the articles (one query), for a reviewer with anything to search
                "filters": filters if any(sizes.lengths.values()) else None,
            },
            request=request,
        )
        if settings.PAGE_CACHE:
            cache.set(key, (sizes.version, lists), PAGE_TIMEOUT)
    return render(
        request,
        "reviews/queue.html",
        {"lists": mark_safe(lists), "reviews_required": REVIEWS_REQUIRED},  # rendered, and escaped, above
    )


def _assigned_page(request: HttpRequest, count: int) -> Page:
    """The page of the reviewer's assignments still to do (?assigned=), of ``count`` (list_sizes counted
    them): one query when there are any, none otherwise."""
    page = Paginator(range(count), PER_PAGE).get_page(request.GET.get("assigned"))
    rows = list(queues.my_assignments(request.user)[page.start_index() - 1 : page.end_index()]) if count else []
    return Page(rows, page.number, page.paginator)


def _queue_searched(request: HttpRequest, filters: QueueFilterForm) -> HttpResponse:
    """The reviewer's queue searched or filtered: their assignments that match, and, unless an assignment
    status is asked for, the claims waiting for them that match (not kept: each search is its own)."""
    wanted = {"q": filters.cleaned_data["q"].strip(), "article": filters.cleaned_data["article"]}
    status = filters.cleaned_data["status"]
    return render(
        request,
        "reviews/queue.html",
        {
            "reviews_required": REVIEWS_REQUIRED,
            "filters": filters,
            "searched": True,
            "assignments": _page(request, queues.my_assignments(request.user, status=status, **wanted), "assigned"),
            "waiting": None if status else _page(request, queues.waiting_matching(request.user, **wanted), "waiting"),
        },
    )


@role_required(REVIEW)
def review_claim(request: HttpRequest, claim_id: int) -> HttpResponse:
    """The review form for one claim, with the claim in its context and its studies; once the reviewer
    has submitted, the other reviewers' ratings and the claim's discussion too (blind review)."""
    claim = _claim(claim_id)
    if request.method != "POST":
        return _render_review_claim(request, claim)
    own = Review.objects.filter(claim=claim, reviewer=request.user, round=services.current_round(claim)).exists()
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_submit(claim=claim, reviewer=request.user, **form.service_arguments())
        except ValidationError as exc:
            # the form ran the same check, so this is rare; a refusal by field stays on its field
            if hasattr(exc, "error_dict"):
                review_errors_to_fields(form, {name: " ".join(m) for name, m in exc.message_dict.items()})
            else:
                form.add_error(None, _messages_of(exc))
        else:
            messages.success(request, "Your review was updated." if own else "Your review was submitted.")
            return redirect("reviews:review-claim", claim_id=claim.pk)
    return _render_review_claim(request, claim, form=form)


def _render_review_claim(
    request: HttpRequest, claim: Claim, form: ReviewForm | None = None, comment_form: CommentForm | None = None
) -> HttpResponse:
    """The reviewer's claim page; ``form`` or ``comment_form`` is the refused form, if any, shown again with
    its errors (and a 400)."""
    # the reviewer's review in the claim's current round; in a new round, their earlier one fills the form
    round_ = services.current_round(claim)
    mine = list(Review.objects.filter(claim=claim, reviewer=request.user).order_by("-round"))
    own = next((review for review in mine if review.round == round_), None)
    earlier = [review for review in mine if review.round != round_]
    if form is None:
        form = ReviewForm(initial=ReviewForm.initial_from(own or (earlier[0] if earlier else None)))
    # blind review: the other reviews of this round only once this reviewer may read them; those of
    # published rounds are public (reviews.access)
    see_others = others_reviews_readable(request.user, claim)
    others = list(
        visible_reviews(request.user)
        .filter(claim=claim)
        .exclude(reviewer=request.user)
        .select_related("reviewer")
        .order_by("-round", "created_at")
    )
    return render(
        request,
        "reviews/review_form.html",
        {
            "claim": claim,
            "context": claim_context(claim),
            "citations": _citations(claim),
            "form": form,
            "refused_form": comment_form if comment_form is not None else form,
            "own": own,
            "earlier": earlier,
            "round": round_,
            "others": others if see_others or others else None,
            "consensus": consensus_of(claim) if see_others else None,
            "versions": review_versions(own) if own else [],
            "discussion": _discussion(request, claim, comment_form),
        },
        status=400 if form.is_bound or comment_form is not None else 200,
    )


# --- Editors ----------------------------------------------------------------------------------------------


@role_required(DESK)
def desk(request: HttpRequest) -> HttpResponse:
    """Every queue's first rows and size (two queries per queue), agreement per article (two more), and the
    articles changed last, to mark their claims (one)."""
    sections = [
        {"queue": q, "rows": list(q.items[:DESK_PREVIEW]), "total": q.items.count()}
        for q in (queues.for_editor(q, request.user) for q in queues.desk_queues())
    ]
    agreement = agreement_by_article()
    articles = Article.objects.filter(pk__in=agreement).only("pk", "title", "slug").order_by("title", "pk")
    # what the last scheduled retraction check found in Crossref and PubMed (two more queries)
    retraction_check, retraction_changes = latest_retraction_check()
    overdue = queues.overdue_assignments()
    return render(
        request,
        "reviews/desk.html",
        {
            "overdue": list(overdue[:DESK_PREVIEW]),
            "overdue_total": overdue.count(),
            "sections": sections,
            "agreement": [(article, agreement[article.pk]) for article in articles],
            "alpha_min_claims": ALPHA_MIN_CLAIMS,
            "reviews_required": REVIEWS_REQUIRED,
            "retraction_check": retraction_check,
            "retraction_changes": retraction_changes,
            "recent_articles": Article.objects.only("pk", "title", "slug", "updated_at").order_by("-updated_at", "pk")[
                :DESK_ARTICLES
            ],
        },
    )


@role_required(DESK)
def desk_queue(request: HttpRequest, slug: str) -> HttpResponse:
    q = queues.desk_queue(slug)
    if q is None:
        raise Http404("No such queue.")
    q = queues.for_editor(q, request.user)
    return render(request, "reviews/desk_queue.html", {"queue": q, "page": _page(request, q.items, "page")})


# The session key under which flag_close leaves a refused form for the claim's page to show once.
REFUSED_CLOSE = "reviews:refused-flag-close"


def _close_prefix(flag_id: int) -> str:
    """Each open flag's close form on the claim's page has its own field names and ids."""
    return f"flag{flag_id}"


def _assignment_forms(request: HttpRequest, claim: Claim) -> list[tuple]:
    """The claim's current assignments, each with its due-date and reassign forms; the reviewers offered
    are read once for all of them."""
    assignments = queues.claim_assignments(claim)
    offered = ReassignForm.choices_for(request.user) if assignments else []
    return [
        (
            assignment,
            DueDateForm(prefix=f"due{assignment.pk}", initial={"due_date": assignment.due_date}),
            ReassignForm(prefix=f"give{assignment.pk}", exclude=request.user, choices=offered),
        )
        for assignment in assignments
    ]


def _render_editor_claim(
    request: HttpRequest, claim: Claim, status: int = 200, refused_close: dict | None = None, **forms
) -> HttpResponse:
    """The editor's claim page; ``forms`` is the refused form, if any, to show again with its errors, and
    ``refused_close`` what flag_close left in the session of a refused close form."""
    consensus = consensus_of(claim)
    reviews = list(claim.reviews.select_related("reviewer").order_by("-round", "created_at"))
    round_now = consensus.round if consensus is not None else 1
    flags = list(claim.flags.select_related("raised_by", "resolved_by", "study").order_by("-raised_at"))
    open_flags = [flag for flag in flags if flag.is_open]
    decision = consensus.decision if consensus else None
    # separation of duties: who reviewed the claim in its current round neither adjudicates nor publishes it
    reviewers = current_round_reviewers([claim]).get(claim.pk, set())
    close_forms = {flag.pk: FlagCloseForm(prefix=_close_prefix(flag.pk)) for flag in open_flags}
    if refused_close is not None and refused_close.get("flag") in close_forms:  # still open
        flag_pk = refused_close["flag"]
        close_forms[flag_pk] = FlagCloseForm(refused_close.get("data", {}), prefix=_close_prefix(flag_pk))
    # the page's error summary is the refused form's (every other form is unbound)
    refused = next((form for form in [*forms.values(), *close_forms.values()] if form.is_bound), None)
    return render(
        request,
        "reviews/editor_claim.html",
        {
            "claim": claim,
            "context": claim_context(claim),
            "citations": _citations(claim),
            "reviews": reviews,
            # the current round's declared conflicts of interest, shown beside the decision before the editor
            # adjudicates
            "conflicts": [review for review in reviews if review.conflict_declared and review.round == round_now],
            "consensus": consensus,
            "decision": decision,
            "blockers": publish_blockers(claim, consensus, publisher=request.user, reviewers=reviewers),
            "reviewed_by_you": request.user.pk in reviewers,
            "adjudicate_refusal": ADJUDICATE_REFUSAL if request.user.pk in reviewers else "",
            "open_flags": [(flag, close_forms[flag.pk]) for flag in open_flags],
            "closed_flags": [flag for flag in flags if not flag.is_open],
            "raise_form": forms.get("raise_form") or FlagRaiseForm(claim=claim),
            # blank: the editor decides from the reviewers' positions, not from a pre-selected answer
            "adjudication_form": forms.get("adjudication_form") or AdjudicationForm(),
            "publish_form": forms.get("publish_form") or PublishForm(open_flags=open_flags),
            "history": claim_history(claim),
            "reviews_required": REVIEWS_REQUIRED,
            "refused_form": refused,
            # an orphan: the passage suggested for it, in the current text, and the two ways to re-anchor it
            "suggestion": _suggestion_context(claim),
            "accept_form": forms.get("accept_form") or AcceptSuggestionForm(),
            "requote_form": forms.get("requote_form") or RequoteForm(),
            "discussion": _discussion(request, claim, forms.get("comment_form")),
            # the current round's assignments, and the form to assign more (reviews.services.assignments)
            "assignments": _assignment_forms(request, claim),
            "assign_form": forms.get("assign_form") or AssignForm(exclude=request.user),
        },
        status=status,
    )


def _suggestion_context(claim: Claim):
    """The passage of the current text suggested for an orphan, with the words around it; None otherwise."""
    suggestion = claim.anchor_suggestion if claim.is_orphaned else None
    if not suggestion:
        return None
    article = claim.article
    return {
        "score": suggestion["score"],
        "context": context_around(article.text, article.headings, suggestion["start"], suggestion["end"]),
    }


@role_required(*EDITOR_PAGE)
def editor_claim(request: HttpRequest, claim_id: int) -> HttpResponse:
    """One claim on the editor's desk: every review, the consensus, flags, adjudication, publication
    and the claim's full history; once after a refused flag close (flag_close), that form with its errors."""
    return _render_editor_claim(request, _claim(claim_id), refused_close=request.session.pop(REFUSED_CLOSE, None))


@require_POST
@role_required(*EDITOR_PAGE, RAISE_FLAG)
def flag_raise(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim(claim_id)
    form = FlagRaiseForm(request.POST, claim=claim)
    if form.is_valid():
        try:
            flag = services.flag_raise(
                claim=claim,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                study=form.cleaned_data["study"],
                raised_by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, _messages_of(exc))
        else:
            messages.success(request, f"Flagged as “{flag.get_reason_display()}”.")
            return redirect("reviews:editor-claim", claim_id=claim.pk)
    return _render_editor_claim(request, claim, status=400, raise_form=form)


@require_POST
@role_required(*EDITOR_PAGE, CLOSE_FLAG)
def flag_close(request: HttpRequest, flag_id: int, status: str) -> HttpResponse:
    """Resolve or dismiss a flag, then back to its claim's page; a refused form goes back there too (its
    own address, /editor/flags/N/resolve/, is no page to reload or share), shown with its error."""
    flag = get_object_or_404(Flag.objects.select_related("claim"), pk=flag_id)
    form = FlagCloseForm(request.POST, prefix=_close_prefix(flag.pk))
    if form.is_valid():
        try:
            services.flag_close(flag=flag, status=status, closed_by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
        else:
            messages.success(request, f"Flag “{flag.get_reason_display()}” {status}.")
    else:
        # POST-redirect-GET with the refusal: what was posted waits in the session for the claim's page
        request.session[REFUSED_CLOSE] = {
            "flag": flag.pk,
            "data": {key: request.POST.get(key, "") for key in form.data if key.startswith(form.prefix)},
        }
    return redirect("reviews:editor-claim", claim_id=flag.claim_id)


@require_POST
@role_required(*EDITOR_PAGE, ADJUDICATE)
def adjudicate(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim(claim_id)
    form = AdjudicationForm(request.POST)
    if form.is_valid():
        try:
            services.claim_adjudicate(claim=claim, adjudicated_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, _messages_of(exc))
        else:
            messages.success(request, "Your adjudication was recorded; it is now the claim's decision.")
            return redirect("reviews:editor-claim", claim_id=claim.pk)
    return _render_editor_claim(request, claim, status=400, adjudication_form=form)


@require_POST
@role_required(*EDITOR_PAGE, PUBLISH)
def publish(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim(claim_id)
    form = PublishForm(request.POST, open_flags=claim.flags.open().order_by("-raised_at"))
    if form.is_valid():
        try:
            consensus = services.verdict_publish(
                claim=claim, published_by=request.user, rationale=form.cleaned_data["rationale"]
            )
        except ValidationError as exc:
            form.add_error(None, _messages_of(exc))
        else:
            messages.success(
                request,
                f"Published: {consensus.get_published_verdict_display()}, "
                f"{consensus.get_published_certainty_display().lower()} certainty.",
            )
            return redirect("reviews:editor-claim", claim_id=claim.pk)
    return _render_editor_claim(request, claim, status=400, publish_form=form)


# --- Re-anchoring an orphan -------------------------------------------------------------------------------

# Re-anchoring changes the claim (evidence.services.claims): the editors' permission to change claims.
CHANGE_CLAIM = "evidence.change_claim"


@require_POST
@role_required(*EDITOR_PAGE, CHANGE_CLAIM)
def anchor_accept(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Accept the passage a revision suggested for an orphan: one click, recorded with who and why."""
    claim = _claim(claim_id)
    form = AcceptSuggestionForm(request.POST)
    if form.is_valid():
        try:
            claim_accept_suggestion(claim=claim, user=request.user)
        except ValidationError as exc:
            form.add_error(None, _messages_of(exc))
        else:
            messages.success(request, "The claim is anchored again, to the suggested passage of the current text.")
            return redirect("reviews:editor-claim", claim_id=claim.pk)
    return _render_editor_claim(request, claim, status=400, accept_form=form)


@require_POST
@role_required(*EDITOR_PAGE, CHANGE_CLAIM)
def anchor_requote(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Anchor an orphan again by a new quote, which must occur once in the article's current text."""
    claim = _claim(claim_id)
    form = RequoteForm(request.POST)
    if form.is_valid():
        try:
            claim_requote(claim=claim, quote=form.cleaned_data["quote"], user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)  # a refused quote is the quote field's error
        else:
            messages.success(request, "The claim is anchored again, to the words you quoted.")
            return redirect("reviews:editor-claim", claim_id=claim.pk)
    return _render_editor_claim(request, claim, status=400, requote_form=form)


# --- Discussion ------------------------------------------------------------------------------------------
# One thread per claim for its editors and the reviewers who have submitted in its current round
# (reviews.access.may_discuss), on the editor's claim page and on the reviewer's. To anyone else the pages
# say nothing of it: not the thread, not its length, not whether it exists.


def _discussion(request: HttpRequest, claim: Claim, form: CommentForm | None = None) -> dict | None:
    """The claim's discussion as a claim page shows it, or None when the user may not see it (may_discuss).
    ``form`` is a refused comment form to show again. One query for the comments with their authors;
    for an editor one more, the earlier versions of edited and deleted comments (their history)."""
    if not may_discuss(request.user, claim):
        return None
    comments = list(Comment.objects.filter(claim=claim).select_related("author").order_by("created_at", "pk"))
    if may_edit(request.user) and any(c.edited_at or c.deleted_at for c in comments):
        earlier: dict[int, list] = {}
        for record in (
            Comment.history.filter(claim_id=claim.pk)
            .exclude(body="")
            .only("id", "body", "history_date")
            .order_by("history_date", "history_id")
        ):
            texts = earlier.setdefault(record.id, [])
            if not texts or texts[-1].body != record.body:
                texts.append(record)
        for comment in comments:
            comment.earlier = [r for r in earlier.get(comment.pk, []) if r.body != comment.body]
    return {
        "comments": comments,
        "form": form or CommentForm(),
        # the comments' rounds are worth saying only once the claim has had more than one
        "show_rounds": any(comment.round > 1 for comment in comments),
    }


def _comment_post(
    request: HttpRequest, claim: Claim, page: str, refused: Callable[[CommentForm], HttpResponse]
) -> HttpResponse:
    if not may_discuss(request.user, claim):
        raise PermissionDenied
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            posted = services.comment_post(claim=claim, author=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _posted_message("Your comment was posted.", posted.notified))
            return redirect(f"{reverse(page, args=[claim.pk])}#comment-{posted.comment.pk}")
    return refused(form)


def _posted_message(done: str, notified: list) -> str:
    if not notified:
        return done
    return f"{done} Told by email: {', '.join('@' + user.get_username() for user in notified)}."


@require_POST
@role_required(*EDITOR_PAGE)
def editor_comment_post(request: HttpRequest, claim_id: int) -> HttpResponse:
    """A comment in the claim's discussion, from the editor's claim page."""
    claim = _claim(claim_id)
    return _comment_post(
        request,
        claim,
        "reviews:editor-claim",
        lambda form: _render_editor_claim(request, claim, status=400, comment_form=form),
    )


@require_POST
@role_required(REVIEW)
def review_comment_post(request: HttpRequest, claim_id: int) -> HttpResponse:
    """A comment in the claim's discussion, from the reviewer's claim page: 403 until they have submitted
    their review in the claim's current round (may_discuss)."""
    claim = _claim(claim_id)
    return _comment_post(
        request,
        claim,
        "reviews:review-claim",
        lambda form: _render_review_claim(request, claim, comment_form=form),
    )


def _own_comment(request: HttpRequest, comment_id: int) -> Comment:
    """The signed-in user's own comment, not deleted, on a claim they may still discuss; 404 otherwise, the
    same for a comment that does not exist, so that nobody learns which comments exist."""
    comment = Comment.objects.select_related("claim__article").filter(pk=comment_id).first()
    if (
        comment is None
        or comment.author_id != request.user.pk
        or comment.is_deleted
        or not may_discuss(request.user, comment.claim)
    ):
        raise Http404("No such comment of yours.")
    return comment


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Change the text of one's own comment; the earlier text stays in its history."""
    comment = _own_comment(request, comment_id)
    back = services.discussion_url(request.user, comment.claim)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            posted = services.comment_edit(comment=comment, author=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _posted_message("Your comment was saved.", posted.notified))
            return redirect(back.replace("#discussion", f"#comment-{comment.pk}"))
    return render(
        request,
        "reviews/comment_edit.html",
        {"comment": comment, "claim": comment.claim, "form": form, "back": back},
        status=400 if form.is_bound else 200,
    )


@require_POST
@login_required
def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Delete one's own comment: it stays in the thread as deleted, its text in its history."""
    comment = _own_comment(request, comment_id)
    try:
        services.comment_delete(comment=comment, author=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, "Your comment was deleted.")
    return redirect(services.discussion_url(request.user, comment.claim))


# --- Reader reports ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def report_submit(request: HttpRequest, claim_id: int) -> HttpResponse:
    """A reader's report of a problem with a claim, no account needed: the form (GET; the claim's page links
    here, so the claim's page itself sets no CSRF cookie and stays cacheable), and the report (POST). Each
    address may send
    settings.READER_REPORTS_PER_HOUR an hour (evidence.ratelimit; more get a 429 page); a report whose honeypot
    is filled in is thanked like the others and dropped, so a robot learns nothing."""
    claim = get_object_or_404(Claim.objects.select_related("article"), pk=claim_id)
    if request.method != "POST":
        return render(request, "reviews/report_form.html", {"claim": claim, "form": ReaderReportForm()})
    hit = ratelimit.hit(f"reader-report:{client_ip(request)}", period=60 * 60)
    if hit.count > settings.READER_REPORTS_PER_HOUR:
        minutes = max(1, round(hit.seconds_left() / 60))
        context = {"claim": claim, "refused": True, "minutes": minutes, "contact_email": settings.CONTACT_EMAIL}
        response = render(request, "reviews/report_done.html", context, status=429)
        response["Retry-After"] = str(hit.seconds_left())
        return response
    form = ReaderReportForm(request.POST)
    if not form.is_valid():
        return render(request, "reviews/report_form.html", {"claim": claim, "form": form}, status=400)
    if not form.caught:
        try:
            services.reader_report_submit(
                claim=claim,
                kind=form.cleaned_data["kind"],
                message=form.cleaned_data["message"],
                reply_to=form.cleaned_data["reply_to"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return render(request, "reviews/report_form.html", {"claim": claim, "form": form}, status=400)
    return redirect("reviews:report-done", claim_id=claim.pk)


def report_done(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = get_object_or_404(Claim, pk=claim_id)
    return render(request, "reviews/report_done.html", {"claim": claim})


@require_POST
@role_required(DESK, CLOSE_REPORT)
def report_close(request: HttpRequest, report_id: int) -> HttpResponse:
    """An editor has dealt with a reader's report: it leaves the desk."""
    report = get_object_or_404(ReaderReport, pk=report_id)
    try:
        services.reader_report_close(report=report, closed_by=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, "Report closed.")
    return redirect(f"{reverse('reviews:desk')}#queue-reports")


# --- Reviewer profiles -------------------------------------------------------------------------------------------


def reviewer_profile(request: HttpRequest, user_id: int) -> HttpResponse:
    """A reviewer's public profile and their published reviews; 404 unless they opted in. Two queries."""
    profile = get_object_or_404(ReviewerProfile, user_id=user_id, public=True)
    reviews = Review.objects.public().filter(reviewer_id=user_id).select_related("claim__article")
    reviews = reviews.defer("claim__article__text", "claim__article__headings").order_by("-updated_at")[:50]
    return render(request, "reviews/reviewer_profile.html", {"profile": profile, "reviews": reviews})


@role_required(REVIEW)
def reviewer_profile_edit(request: HttpRequest) -> HttpResponse:
    """The signed-in reviewer's own profile: what readers may see of them, and whether they may."""
    profile = ReviewerProfile.objects.filter(user=request.user).first() or ReviewerProfile(user=request.user)
    form = ReviewerProfileForm(
        request.POST or None,
        instance=ReviewerProfile(
            **{f.attname: getattr(profile, f.attname) for f in ReviewerProfile._meta.concrete_fields}
        ),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reviewer_profile_update(
                user=request.user, **{k: form.cleaned_data[k] for k in ReviewerProfileForm.Meta.fields}
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("reviews:reviewer-profile-edit")
    return render(request, "reviews/reviewer_profile_edit.html", {"form": form, "profile": profile})


# --- Assignments ---------------------------------------------------------------------------------------------


@require_POST
@role_required(*EDITOR_PAGE, ASSIGN)
def assign(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Assign reviewers to this claim, or to every claim of its article still under review."""
    claim = _claim(claim_id)
    form = AssignForm(request.POST, exclude=request.user)
    if form.is_valid():
        reviewers, due = list(form.cleaned_data["reviewers"]), form.cleaned_data["due_date"]
        try:
            if form.cleaned_data["scope"] == "article":
                done = services.article_assign(
                    article=claim.article, reviewers=reviewers, due_date=due, assigned_by=request.user
                )
                made, skipped = done.created, done.skipped
            else:
                made, skipped = (
                    services.claim_assign(claim=claim, reviewers=reviewers, due_date=due, assigned_by=request.user),
                    [],
                )
        except ValidationError as exc:
            form.add_error(None, _messages_of(exc))
        else:
            messages.success(
                request, f"{len(made)} assignment{'s' if len(made) != 1 else ''} made; each reviewer is told by email."
            )
            for _claim_skipped, _reviewer, reason in skipped[:10]:
                messages.warning(request, f"Not assigned: {reason}")
            return redirect("reviews:editor-claim", claim_id=claim.pk)
    return _render_editor_claim(request, claim, status=400, assign_form=form)


@require_POST
@role_required(*EDITOR_PAGE, ASSIGN)
def assignment_remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = get_object_or_404(ReviewAssignment.objects.select_related("reviewer"), pk=assignment_id)
    services.assignment_remove(assignment=assignment, removed_by=request.user)
    messages.success(request, f"{assignment.reviewer} is no longer assigned to this claim.")
    return redirect("reviews:editor-claim", claim_id=assignment.claim_id)


@require_POST
@role_required(*EDITOR_PAGE, ASSIGN)
def assignment_reassign(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Give an assignment to another reviewer, due on the same date."""
    assignment = get_object_or_404(ReviewAssignment.objects.select_related("reviewer", "claim"), pk=assignment_id)
    form = ReassignForm(request.POST, prefix=f"give{assignment.pk}", exclude=request.user)
    if not form.is_valid():
        messages.error(request, "Choose the reviewer to give it to.")
        return redirect("reviews:editor-claim", claim_id=assignment.claim_id)
    try:
        given = services.assignment_reassign(
            assignment=assignment,
            reviewer=form.cleaned_data["reviewer"],
            due_date=max(assignment.due_date, timezone.localdate()),
            assigned_by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, f"Given to {given.reviewer}, who is told by email.")
    return redirect("reviews:editor-claim", claim_id=assignment.claim_id)


@require_POST
@role_required(*EDITOR_PAGE, ASSIGN)
def assignment_due(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = get_object_or_404(ReviewAssignment.objects.select_related("reviewer"), pk=assignment_id)
    form = DueDateForm(request.POST, prefix=f"due{assignment.pk}")
    if form.is_valid():
        try:
            services.assignment_change_due(
                assignment=assignment, due_date=form.cleaned_data["due_date"], changed_by=request.user
            )
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
        else:
            messages.success(
                request, f"{assignment.reviewer}'s review is now due on {form.cleaned_data['due_date']:%-d %b %Y}."
            )
    else:
        messages.error(request, "Enter the new due date as a date.")
    return redirect("reviews:editor-claim", claim_id=assignment.claim_id)


# --- Notifications -----------------------------------------------------------------------------------------------


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in person's choice, kind by kind: email at once, in the daily digest, or never."""
    form = NotificationPreferencesForm(request.POST or None, initial=services.preferences_of(request.user))
    if request.method == "POST" and form.is_valid():
        services.preferences_update(user=request.user, deliveries=form.cleaned_data)
        messages.success(request, "Your email choices are saved.")
        return redirect("reviews:notification-preferences")
    return render(
        request,
        "reviews/notification_preferences.html",
        {"form": form, "has_email": bool(request.user.email)},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every email: no sign-in needed, the signed token says who and what. GET asks to
    confirm (a mail scanner following the link changes nothing); POST turns it off."""
    wanted = services.unsubscription_of(token)
    if wanted is None:
        return render(request, "reviews/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(request, "reviews/unsubscribe.html", {"wanted": wanted, "done": True})
    return render(request, "reviews/unsubscribe.html", {"wanted": wanted})
