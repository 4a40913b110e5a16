"""The admin for curators (studies, citations) and editors (articles, claims).

Roles are Django groups (created by reviews/migrations/0003_roles.py); the admin checks their model
permissions. Every write that has side effects goes through evidence.services or reviews.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from evidence import services
from evidence.forms import ArticleForm, ClaimForm, StudyForm
from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from reviews.models import Flag
from reviews.services import claims_flag_retracted_reliance, flag_raise

# Django 6 will assume https:// for a URL typed without a scheme; do so now (and silence the warning).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class ClaimInline(admin.TabularInline):
    model = Claim
    form = ClaimForm
    fields = ["key", "quote", "section", "substance", "claim_type", "kind", "status"]
    # the review workflow moves a claim's status (reviews.services); nobody sets it by hand
    readonly_fields = ["section", "status"]
    extra = 0
    show_change_link = True


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    fields = ["number", "created_at", "created_by", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(SimpleHistoryAdmin):
    form = ArticleForm
    list_display = ["title", "slug", "published_on", "n_claims", "updated_at"]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    search_fields = ["title", "slug", "author", "publisher"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_on"
    inlines = [ClaimInline, RevisionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "publisher", "url", "published_on"]}),
        (
            _("Text"),
            {
                "fields": ["text", "headings"],
                "description": _("Changing the text keeps the old version as a revision and re-anchors the claims."),
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return super().get_queryset(request).annotate(n_claims=Count("claims"))

    @admin.display(description=_("claims"), ordering="n_claims")
    def n_claims(self, obj: Article) -> int:
        return obj.n_claims

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        if change and {"text", "headings"} & set(form.changed_data):
            original = Article.objects.only("text", "headings").get(pk=obj.pk)
            if (obj.text, obj.headings) != (original.text, original.headings):
                # Save the metadata now and the new text in save_related, after the claims inline: an
                # edited claim saved after the revision would write back its offsets in the old text.
                obj._revised_text = obj.text, obj.headings
                obj.text, obj.headings = original.text, original.headings
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        revised = getattr(form.instance, "_revised_text", None)
        if revised is None:
            return
        del form.instance._revised_text
        text, headings = revised
        lost = services.article_revise(article=form.instance, text=text, headings=headings, user=request.user)
        if lost:
            messages.warning(
                request,
                _("%(n)d claim(s) no longer occur in the text and were sent back for re-review: %(keys)s")
                % {"n": len(lost), "keys": ", ".join(c.key or str(c.pk) for c in lost)},
            )


class CitationInline(admin.TabularInline):
    model = Citation
    fields = ["study", "relation", "note", "directness", "directness_note"]
    autocomplete_fields = ["study"]
    extra = 0


class FlagActionForm(ActionForm):
    """Extra fields in the action bar of the claim list, used by the "flag selected claims" action."""

    reason = forms.ChoiceField(choices=[("", "— flag reason —"), *Flag.Reason.choices], required=False)
    note = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": _("note for the flag")}))


class OpenFlagsFilter(admin.SimpleListFilter):
    title = _("open flags")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Has open flags")), ("no", _("No open flags"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        open_flag = Q(flags__status=Flag.Status.OPEN)
        if self.value() == "yes":
            return queryset.filter(pk__in=Claim.objects.filter(open_flag).values("pk"))
        if self.value() == "no":
            return queryset.exclude(pk__in=Claim.objects.filter(open_flag).values("pk"))
        return queryset


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    form = ClaimForm
    list_display = ["key", "short_quote", "article", "substance", "claim_type", "status", "n_citations", "n_open_flags"]
    list_display_links = ["key", "short_quote"]
    list_filter = ["status", "claim_type", "substance", "kind", OpenFlagsFilter, "article"]
    search_fields = ["quote", "key", "section"]
    list_select_related = ["article"]
    # status belongs to the review workflow (reviews.services: review, adjudicate, publish)
    readonly_fields = ["start", "end", "prefix", "suffix", "section", "status", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["article", "key", "quote", "section", "kind", "substance", "claim_type", "status"]}),
        (_("Evidence"), {"fields": ["evidence_note"]}),
        (
            _("Attribution (quotations)"),
            {"fields": ["attributed_to", "attribution_status", "attribution_note"], "classes": ["collapse"]},
        ),
        (_("Anchor in the text"), {"fields": ["start", "end", "prefix", "suffix"], "classes": ["collapse"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [CitationInline]
    action_form = FlagActionForm
    actions = ["flag_selected"]
    show_full_result_count = False

    # Curators link studies to a claim on its page (the citations inline) without changing the claim:
    # they may "change" a claim whose every field is read-only to them, and the claim itself is not saved.
    def _links_studies_only(self, request: HttpRequest) -> bool:
        user = request.user
        return not user.has_perm("evidence.change_claim") and any(
            user.has_perm(f"evidence.{action}_citation") for action in ("add", "change", "delete")
        )

    def has_change_permission(self, request: HttpRequest, obj: Claim | None = None) -> bool:
        if super().has_change_permission(request, obj):
            return True
        return obj is not None and self._links_studies_only(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Claim | None = None) -> list[str]:
        if obj is not None and self._links_studies_only(request):
            return flatten_fieldsets(self.fieldsets)
        return list(super().get_readonly_fields(request, obj))

    def save_model(self, request: HttpRequest, obj: Claim, form: forms.ModelForm, change: bool) -> None:
        if change and self._links_studies_only(request):
            return  # nothing of the claim's own was editable; saving would only add an empty history entry
        super().save_model(request, obj, form, change)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Claim]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_citations=Count("citations", distinct=True),
                n_open_flags=Count("flags", filter=Q(flags__status=Flag.Status.OPEN), distinct=True),
            )
        )

    @admin.display(description=_("quote"))
    def short_quote(self, obj: Claim) -> str:
        return obj.quote if len(obj.quote) <= 90 else obj.quote[:89] + "…"

    @admin.display(description=_("studies"), ordering="n_citations")
    def n_citations(self, obj: Claim) -> int:
        return obj.n_citations

    @admin.display(description=_("open flags"), ordering="n_open_flags")
    def n_open_flags(self, obj: Claim) -> int:
        return obj.n_open_flags

    @admin.action(description=_("Flag selected claims (choose a reason)"), permissions=["flag"])
    def flag_selected(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        reason = request.POST.get("reason", "")
        if reason not in Flag.Reason.values:
            self.message_user(request, _("Choose a flag reason next to the action."), messages.ERROR)
            return
        note = request.POST.get("note", "")
        raised, skipped = 0, []
        for claim in queryset:
            try:
                flag_raise(claim=claim, reason=reason, note=note, raised_by=request.user)
                raised += 1
            except ValidationError:
                skipped.append(claim.key or str(claim.pk))
        self.message_user(request, _("Flagged %(n)d claim(s).") % {"n": raised}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request, _("Already flagged for this reason: %(keys)s") % {"keys": ", ".join(skipped)}, messages.WARNING
            )

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset, change: bool) -> None:
        """Record who linked each new study, mark the claim's evidence changed (for its reviewers' queues)
        if a citation was added, edited or removed, and flag it if it now relies on a retracted study."""
        saved = formset.save(commit=False)
        for citation in saved:
            if citation.pk is None:
                citation.added_by = request.user
            citation.save()
        for citation in formset.deleted_objects:
            citation.delete()
        if saved or formset.deleted_objects:
            Claim.objects.filter(pk=form.instance.pk).mark_evidence_changed()
        claims_flag_retracted_reliance(claims=Claim.objects.filter(pk=form.instance.pk))

    def has_flag_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reviews.add_flag")


class RetractionFilter(admin.SimpleListFilter):
    title = _("retraction")
    parameter_name = "retraction"

    def lookups(self, request, model_admin):
        return Study.RetractionStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Study]) -> QuerySet[Study]:
        return queryset.filter(retraction_status=self.value()) if self.value() else queryset


class CitingClaimInline(admin.TabularInline):
    """The claims that cite a study, read-only on the study's page."""

    model = Citation
    fields = ["claim", "relation", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("claim citing this study")
    verbose_name_plural = _("claims citing this study")

    def has_add_permission(self, request: HttpRequest, obj: Study | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Citation]:
        return super().get_queryset(request).select_related("claim__article")


@admin.register(Study)
class StudyAdmin(SimpleHistoryAdmin):
    form = StudyForm
    list_display = ["short_title", "first_author", "year", "design", "doi", "pmid", "retraction_status", "verified"]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_filter = ["design", RetractionFilter, "verified", "work_type"]
    search_fields = ["title", "doi", "pmid", "citation_key", "container_title"]
    readonly_fields = ["created_at", "updated_at"]
    # A library of 100,000 studies: no full COUNT(*) on every list view.
    show_full_result_count = False
    list_per_page = 50

    def get_urls(self) -> list:
        """The bibliography upload (evidence/admin_import.py), linked from the study list."""
        from evidence.admin_import import study_import_urls

        return study_import_urls(self) + super().get_urls()

    fieldsets = [
        (None, {"fields": ["title", "authors", "author_list_complete", "work_type", "citation_key"]}),
        (
            _("Publication"),
            {
                "fields": [
                    "container_title",
                    "publisher",
                    "year",
                    "month",
                    "day",
                    "volume",
                    "issue",
                    "pages",
                    "isbn",
                    "url",
                ]
            },
        ),
        (_("Identifiers"), {"fields": ["doi", "pmid"]}),
        (_("Study"), {"fields": ["design", "sample_size", "population", "abstract"]}),
        (_("Retraction"), {"fields": ["retraction_status", "retraction_date", "retraction_doi", "retraction_note"]}),
        (_("Verification"), {"fields": ["verified", "verified_from", "unconfirmed_leads", "note"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [CitingClaimInline]
    actions = ["mark_retracted"]

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, obj: Study) -> str:
        return obj.title if len(obj.title) <= 90 else obj.title[:89] + "…"

    @admin.display(description=_("first author"))
    def first_author(self, obj: Study) -> str:
        return obj.first_author_family

    @admin.action(
        description=_("Mark selected studies retracted (flags the claims relying on them)"), permissions=["change"]
    )
    def mark_retracted(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        n = 0
        for study in queryset.exclude(retraction_status=Study.RetractionStatus.RETRACTED):
            services.study_set_retraction(study=study, status=Study.RetractionStatus.RETRACTED, user=request.user)
            n += 1
        self.message_user(request, _("Marked %(n)d study(ies) retracted.") % {"n": n}, messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Study, form: forms.ModelForm, change: bool) -> None:
        # Compared with the stored row, not with the form's initial values: the history's "revert" form
        # starts from the old version, so a status restored from it is not among its changed_data.
        stored = Study.objects.values_list("retraction_status", flat=True).get(pk=obj.pk) if change else None
        if change and obj.retraction_status != stored:
            status = obj.retraction_status
            obj.retraction_status = stored
            super().save_model(request, obj, form, change)
            services.study_set_retraction(study=obj, status=status, user=request.user)
            return
        super().save_model(request, obj, form, change)


# What a citation says about its claim's evidence: a change of any of these is a change of the evidence.
CITATION_EVIDENCE = ("claim_id", "study_id", "relation", "note", "directness", "directness_note")


@admin.register(Citation)
class CitationAdmin(SimpleHistoryAdmin):
    list_display = ["claim", "study", "relation", "directness", "added_by"]
    list_filter = ["relation", "directness"]
    search_fields = ["claim__quote", "claim__key", "study__title", "study__doi"]
    autocomplete_fields = ["claim", "study"]
    list_select_related = ["claim", "study", "added_by"]
    readonly_fields = ["added_by", "created_at", "updated_at"]
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Citation, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.added_by = request.user
        # Compared with the stored row, not with the form's initial values: the history's "revert" form
        # starts from the old version, so what it restores is not among its changed_data.
        stored = Citation.objects.filter(pk=obj.pk).values(*CITATION_EVIDENCE).first() if change else None
        super().save_model(request, obj, form, change)
        if stored is None or any(stored[name] != getattr(obj, name) for name in CITATION_EVIDENCE):
            # the claim it cites now, and the one it was moved from: both claims' evidence changed
            moved_from = stored["claim_id"] if stored else obj.claim_id
            Claim.objects.filter(pk__in={obj.claim_id, moved_from}).mark_evidence_changed()
        if obj.study.is_retracted:
            claims_flag_retracted_reliance(claims=Claim.objects.filter(pk=obj.claim_id))

    def delete_model(self, request: HttpRequest, obj: Citation) -> None:
        super().delete_model(request, obj)
        Claim.objects.filter(pk=obj.claim_id).mark_evidence_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Citation]) -> None:
        claims = set(queryset.values_list("claim_id", flat=True))
        super().delete_queryset(request, queryset)
        Claim.objects.filter(pk__in=claims).mark_evidence_changed()
