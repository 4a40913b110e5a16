"""The admin for reviewers (their own reviews) and editors (flags; everyone's reviews, read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from reviews.models import Flag, Review
from reviews.services import flag_close

# Editors (and admins) see every review; a reviewer sees only their own, so ratings stay independent.
SEE_ALL_REVIEWS = "reviews.view_others_reviews"


class ReviewAdminForm(forms.ModelForm):
    """Checks "one review per reviewer per claim" before saving, also when the reviewer field is hidden."""

    request_user = None  # set on the form class per request by ReviewAdmin.get_form

    def clean(self) -> dict:
        cleaned = super().clean()
        claim = cleaned.get("claim") or (self.instance.claim if self.instance.claim_id else None)
        reviewer = cleaned.get("reviewer") or (self.instance.reviewer if self.instance.reviewer_id else None)
        reviewer = reviewer or self.request_user
        duplicate = Review.objects.filter(claim=claim, reviewer=reviewer).exclude(pk=self.instance.pk)
        if claim is not None and reviewer is not None and duplicate.exists():
            raise ValidationError(
                _("%(who)s has already reviewed this claim; edit that review instead.") % {"who": reviewer}
            )
        return cleaned


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
    form = ReviewAdminForm
    list_display = ["claim", "reviewer", "certainty", "verdict", "updated_at"]
    list_filter = ["certainty", "verdict"]
    search_fields = ["claim__quote", "claim__key", "rationale"]
    autocomplete_fields = ["claim"]
    list_select_related = ["claim", "reviewer"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["claim", "reviewer", "certainty", "verdict", "rationale", "read_full_text"]}),
        (
            _("Downgraded for"),
            {
                "fields": [
                    "downgrade_risk_of_bias",
                    "downgrade_inconsistency",
                    "downgrade_indirectness",
                    "downgrade_imprecision",
                    "downgrade_publication_bias",
                ]
            },
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        reviews = super().get_queryset(request)
        if request.user.has_perm(SEE_ALL_REVIEWS):
            return reviews
        return reviews.filter(reviewer=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Review | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("reviewer")  # a reviewer always writes as themselves
        if obj is not None:
            fields.append("claim")  # a review stays on its claim
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
        super().save_model(request, obj, form, change)

    def get_form(self, request: HttpRequest, obj: Review | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form


@admin.register(Flag)
class FlagAdmin(SimpleHistoryAdmin):
    list_display = ["claim", "reason", "status", "raised_by_label", "raised_at", "resolved_by", "resolved_at"]
    list_filter = ["status", "reason"]
    search_fields = ["claim__quote", "claim__key", "note"]
    autocomplete_fields = ["claim", "study"]
    list_select_related = ["claim", "raised_by", "resolved_by"]
    readonly_fields = ["status", "raised_by", "raised_at", "resolved_by", "resolved_at", "resolution_note"]
    fields = ["claim", "reason", "study", "note", *readonly_fields]
    actions = ["resolve_selected", "dismiss_selected"]
    show_full_result_count = False

    @admin.display(description=_("raised by"))
    def raised_by_label(self, obj: Flag) -> str:
        return str(obj.raised_by) if obj.raised_by_id else _("system")

    def save_model(self, request: HttpRequest, obj: Flag, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.raised_by = request.user
        super().save_model(request, obj, form, change)

    def _close(self, request: HttpRequest, queryset: QuerySet[Flag], status: str) -> None:
        n = 0
        for flag in queryset.filter(status=Flag.Status.OPEN):
            flag_close(flag=flag, status=status, closed_by=request.user, note=_("closed from the admin list"))
            n += 1
        self.message_user(request, _("Closed %(n)d flag(s).") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Resolve selected flags"), permissions=["change"])
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        self._close(request, queryset, Flag.Status.RESOLVED)

    @admin.action(description=_("Dismiss selected flags"), permissions=["change"])
    def dismiss_selected(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        self._close(request, queryset, Flag.Status.DISMISSED)
