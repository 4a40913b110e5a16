"""The admin for reviewers (their own reviews) and editors (flags; everyone's reviews, read-only).

Every write goes through reviews.services (evidence.admin.ServicesAdmin refuses Django's own writes):

- Review: add and change review_submit (it refreshes the consensus and moves the claim's status), delete
  review_delete. A revert from the history goes through review_submit too, for the review's author.
- Consensus: read-only; the actions adjudicate (claim_adjudicate) and publish (verdict_publish). Its rows are
  written by those services and consensus_refresh only, so reverting a version is not offered: it would
  restore a published verdict, or withdraw one, without the publish service's checks.
- Flag: add flag_raise; the actions resolve and dismiss flag_close, with the reason they ask for. A raised
  flag is not edited, deleted or reverted (reopening one is no service's action): it is closed, and a
  new one raised if need be.
- VerdictVersion and ReviewRound: records, read-only. verdict_publish numbers the versions and
  claims_send_back opens the rounds; editing either would rewrite what readers were shown and when.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from evidence.admin import ServicesAdmin, became
from reviews.forms import review_errors_to_fields
from reviews.grade import DOWNGRADE_DOMAINS, UPGRADE_DOMAINS, Grading
from reviews.models import Certainty, Comment, Consensus, Flag, Review, ReviewRound, Verdict, VerdictVersion
from reviews.services import (
    claim_adjudicate,
    current_round,
    flag_close,
    flag_raise,
    review_delete,
    review_submit,
    review_values_checked,
    verdict_publish,
)

# Editors (and admins) see every review; a reviewer sees only their own, so ratings stay independent.
SEE_ALL_REVIEWS = "reviews.view_others_reviews"


class ReviewAdminForm(forms.ModelForm):
    """Checks "one review per reviewer per claim and round" before saving, also when the reviewer field is
    hidden, and that an edited review is of the claim's current round."""

    request_user = None  # set on the form class per request by ReviewAdmin.get_form

    def clean(self) -> dict:
        cleaned = super().clean()
        claim = cleaned.get("claim") or (self.instance.claim if self.instance.claim_id else None)
        reviewer = cleaned.get("reviewer") or (self.instance.reviewer if self.instance.reviewer_id else None)
        reviewer = reviewer or self.request_user
        if claim is None:
            return cleaned
        round_ = current_round(claim)
        if self.instance.pk and self.instance.round != round_:
            # review_submit writes the current round's review: an earlier round's is a closed record
            raise ValidationError(
                _(
                    "This review belongs to round %(old)s; the claim is in round %(new)s. "
                    "Earlier rounds are kept as they were."
                )
                % {"old": self.instance.round, "new": round_}
            )
        duplicate = Review.objects.filter(claim=claim, reviewer=reviewer, round=round_).exclude(pk=self.instance.pk)
        if reviewer is not None and duplicate.exists():
            raise ValidationError(
                _("%(who)s has already reviewed this claim; edit that review instead.") % {"who": reviewer}
            )
        # the services' own check of a review (GRADE, the declaration), each error on its field
        errors = review_values_checked(**review_arguments(self.instance, cleaned))[1]
        review_errors_to_fields(self, errors)
        return cleaned


def review_arguments(review: Review, values: dict | None = None) -> dict:
    """The review's values (or, over them, the form's cleaned ``values``) as review_submit takes them."""
    names = [
        "certainty",
        "verdict",
        "rationale",
        *Grading().values(),
        "certainty_reason",
        "conflict_of_interest",
        "conflict_statement",
        "read_full_text",
    ]
    merged = {name: getattr(review, name) for name in names} | {k: v for k, v in (values or {}).items() if k in names}
    return {
        "certainty": merged["certainty"] or "",
        "verdict": merged["verdict"] or "",
        "rationale": merged["rationale"] or "",
        "grading": Grading.from_mapping(merged),
        "certainty_reason": merged["certainty_reason"],
        "conflict_of_interest": merged["conflict_of_interest"],
        "conflict_statement": merged["conflict_statement"],
        "read_full_text": merged["read_full_text"],
    }


@admin.register(Review)
class ReviewAdmin(ServicesAdmin):
    form = ReviewAdminForm
    list_display = ["claim", "round", "reviewer", "certainty", "verdict", "updated_at"]
    list_filter = ["certainty", "verdict", "round", "evidence_design", "conflict_of_interest"]
    search_fields = ["claim__quote", "claim__key", "rationale"]
    autocomplete_fields = ["claim"]
    list_select_related = ["claim", "reviewer"]
    readonly_fields = ["round", "created_at", "updated_at"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["claim", "reviewer", "verdict", "rationale", "read_full_text"]}),
        (
            _("GRADE"),
            {
                "fields": [
                    "evidence_design",
                    *DOWNGRADE_DOMAINS,
                    *UPGRADE_DOMAINS,
                    "certainty",
                    "certainty_reason",
                ],
                "description": _(
                    "The certainty follows from the ratings; another one, at most a level away, needs a reason."
                ),
            },
        ),
        (_("Conflict of interest"), {"fields": ["conflict_of_interest", "conflict_statement"]}),
        (_("Record"), {"fields": ["round", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        reviews = super().get_queryset(request)
        if request.user.has_perm(SEE_ALL_REVIEWS):
            return reviews
        return reviews.filter(reviewer=request.user)

    def has_view_permission(self, request: HttpRequest, obj: Review | None = None) -> bool:
        # get_queryset hides others' reviews from the list and the change page; the history pages fetch
        # the review from its history instead, so they rely on this check
        allowed = super().has_view_permission(request, obj)
        if obj is None or request.user.has_perm(SEE_ALL_REVIEWS):
            return allowed
        return allowed and obj.reviewer_id == request.user.pk

    def get_readonly_fields(self, request: HttpRequest, obj: Review | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("reviewer")  # a reviewer always writes as themselves
        if obj is not None:
            # a review stays on its claim and with its author: review_submit finds it by both
            fields.extend(name for name in ("claim", "reviewer") if name not in fields)
        return fields

    def has_change_permission(self, request: HttpRequest, obj: Review | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or request.user.is_superuser:
            return allowed
        return allowed and obj.reviewer_id == request.user.pk

    def has_delete_permission(self, request: HttpRequest, obj: Review | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if obj is None or request.user.is_superuser:
            return allowed
        return allowed and obj.reviewer_id == request.user.pk

    def save_model(self, request: HttpRequest, obj: Review, form: forms.ModelForm, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.reviewer = request.user
        # through the service, as the review pages do: it locks the claim, records the version and
        # refreshes the claim's consensus and status
        saved = review_submit(claim=obj.claim, reviewer=obj.reviewer, **review_arguments(obj))
        became(obj, saved)  # the admin's log entry and redirect use it

    def delete_model(self, request: HttpRequest, obj: Review) -> None:
        review_delete(review=obj)

    def get_form(self, request: HttpRequest, obj: Review | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form


class FlagAdminForm(forms.ModelForm):
    """Refuses a second open flag for the same problem as a form error, before the database refuses it
    (Django skips the conditional unique constraints here: their condition reads the read-only status)."""

    def clean(self) -> dict:
        cleaned = super().clean()
        claim, reason = cleaned.get("claim"), cleaned.get("reason")
        if claim is None or not reason or self.instance.status != Flag.Status.OPEN:
            return cleaned
        same = Flag.objects.filter(claim=claim, reason=reason, study=cleaned.get("study"), status=Flag.Status.OPEN)
        if same.exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                _("Claim %(claim)s already has an open “%(reason)s” flag; add to that one instead.")
                % {"claim": claim.key or claim.pk, "reason": Flag.Reason(reason).label}
            )
        return cleaned


class DecisionActionForm(ActionForm):
    """The values the consensus actions need, next to the action menu: an adjudication's certainty,
    verdict and rationale, or the summary readers see with a published verdict."""

    certainty = forms.ChoiceField(label=_("certainty"), choices=[("", "—"), *Certainty.choices], required=False)
    verdict = forms.ChoiceField(label=_("verdict"), choices=[("", "—"), *Verdict.choices], required=False)
    rationale = forms.CharField(label=_("rationale or summary"), required=False)


@admin.register(Consensus)
class ConsensusAdmin(ServicesAdmin):
    """Read-only: the rows are written by reviews.services. Editors adjudicate and publish through the
    actions, which call the same services as the editor's desk."""

    list_display = [
        "claim",
        "round",
        "n_reviews",
        "certainty",
        "verdict",
        "certainty_spread",
        "disputed",
        "adjudicated_verdict",
        "published_verdict",
        "published_at",
    ]
    list_filter = ["disputed", "verdict_split", "verdict", "certainty", "published_verdict"]
    search_fields = ["claim__quote", "claim__key"]
    list_select_related = ["claim"]
    show_full_result_count = False
    action_form = DecisionActionForm
    actions = ["adjudicate_selected", "publish_selected"]
    revert_offered = False

    def get_readonly_fields(self, request: HttpRequest, obj: Consensus | None = None) -> list[str]:
        return [field.name for field in Consensus._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Consensus | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Consensus | None = None) -> bool:
        return False

    def has_adjudicate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reviews.adjudicate_claim")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reviews.publish_verdict")

    def _each(self, request: HttpRequest, queryset: QuerySet[Consensus], write, done: str) -> None:
        n, refused = 0, []
        for row in queryset.select_related("claim"):
            try:
                write(row.claim)
                n += 1
            except ValidationError as exc:
                refused.append(f"{row.claim.key or row.claim_id}: {' '.join(exc.messages)}")
        self.message_user(request, done % {"n": n}, messages.SUCCESS if n else messages.WARNING)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(
        description=_("Adjudicate selected claims (choose certainty, verdict, rationale)"), permissions=["adjudicate"]
    )
    def adjudicate_selected(self, request: HttpRequest, queryset: QuerySet[Consensus]) -> None:
        values = {name: request.POST.get(name, "") for name in ("certainty", "verdict", "rationale")}
        self._each(
            request,
            queryset,
            lambda claim: claim_adjudicate(claim=claim, adjudicated_by=request.user, **values),
            _("Adjudicated %(n)d claim(s)."),
        )

    @admin.action(description=_("Publish selected verdicts"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Consensus]) -> None:
        summary = request.POST.get("rationale", "")
        self._each(
            request,
            queryset,
            lambda claim: verdict_publish(claim=claim, published_by=request.user, rationale=summary),
            _("Published %(n)d verdict(s)."),
        )


class FlagCloseActionForm(ActionForm):
    """The reason the resolve and dismiss actions record, next to the action menu, as the editor's desk
    asks for it."""

    note = forms.CharField(
        label=_("why"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("what was done, or why the flag does not apply")}),
    )


@admin.register(Flag)
class FlagAdmin(ServicesAdmin):
    form = FlagAdminForm
    list_display = ["claim", "reason", "status", "raised_by_label", "raised_at", "resolved_by", "resolved_at"]
    list_filter = ["status", "reason"]
    search_fields = ["claim__quote", "claim__key", "note"]
    autocomplete_fields = ["claim", "study"]
    list_select_related = ["claim", "raised_by", "resolved_by"]
    readonly_fields = ["status", "raised_by", "raised_at", "resolved_by", "resolved_at", "resolution_note"]
    fields = ["claim", "reason", "study", "note", *readonly_fields]
    action_form = FlagCloseActionForm
    actions = ["resolve_selected", "dismiss_selected"]
    show_full_result_count = False
    revert_offered = False

    @admin.display(description=_("raised by"))
    def raised_by_label(self, obj: Flag) -> str:
        return str(obj.raised_by) if obj.raised_by_id else _("system")

    def has_change_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        # "change flag" lets an editor close flags (the actions); a raised flag's page is read-only
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        return False  # a flag is closed (flag_close), and the record of it kept

    def save_model(self, request: HttpRequest, obj: Flag, form: forms.ModelForm, change: bool) -> None:
        if change:
            raise PermissionDenied  # has_change_permission refuses it first: a raised flag is not edited
        values = form.cleaned_data
        flag = flag_raise(
            claim=values["claim"],
            reason=values["reason"],
            note=values["note"],
            study=values["study"],
            raised_by=request.user,
        )
        became(obj, flag)

    def _close(self, request: HttpRequest, queryset: QuerySet[Flag], status: str) -> None:
        note = request.POST.get("note", "").strip()
        if not note:
            self.message_user(
                request, _("Say why next to the action: what was done, or why the flag does not apply."), messages.ERROR
            )
            return
        n, refused = 0, []
        for flag in queryset.open():
            try:
                flag_close(flag=flag, status=status, closed_by=request.user, note=note)
                n += 1
            except ValidationError as exc:
                refused.append(f"{flag}: {' '.join(exc.messages)}")
        self.message_user(request, _("Closed %(n)d flag(s).") % {"n": n}, messages.SUCCESS if n else messages.WARNING)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(description=_("Resolve selected flags (say why)"), permissions=["change"])
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        self._close(request, queryset, Flag.Status.RESOLVED)

    @admin.action(description=_("Dismiss selected flags (say why)"), permissions=["change"])
    def dismiss_selected(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        self._close(request, queryset, Flag.Status.DISMISSED)


class RecordAdmin(admin.ModelAdmin):
    """A record the services write and nobody edits: listed and shown, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(VerdictVersion)
class VerdictVersionAdmin(RecordAdmin):
    list_display = ["claim", "number", "round", "verdict", "certainty", "adjudicated", "published_at"]
    list_filter = ["verdict", "certainty", "adjudicated"]
    list_select_related = ["claim"]
    search_fields = ["claim__quote", "rationale"]
    date_hierarchy = "published_at"
    raw_id_fields = ["claim", "published_by"]


@admin.register(ReviewRound)
class ReviewRoundAdmin(RecordAdmin):
    list_display = ["claim", "number", "opened_at", "opened_by"]
    list_select_related = ["claim", "opened_by"]
    search_fields = ["claim__quote", "reason"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["claim", "opened_by"]


@admin.register(Comment)
class CommentAdmin(RecordAdmin):
    """Claims' discussions, for administrators to read (editors read them on each claim's page); their authors
    edit and delete them there (reviews.services.discussion), and the history keeps every text."""

    list_display = ["claim", "author", "round", "created_at", "edited_at", "deleted_at"]
    list_select_related = ["claim", "author"]
    search_fields = ["claim__quote", "body", "author__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["claim", "author"]
