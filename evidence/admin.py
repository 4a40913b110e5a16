"""The admin for curators (studies, citations) and editors (articles, claims).

Roles are Django groups (created by reviews/migrations/0003_roles.py); the admin checks their model
permissions. Services are the only write path: every save, delete, inline row and action here calls
evidence.services or reviews.services, as the pages, the API and the commands do, and ServicesAdmin
refuses Django's own writes. Which service each path calls:

- Article: add article_create, change article_update (a new text or headings: article_revise, which keeps
  the old text and re-anchors the claims), delete article_delete; its claims inline claim_create,
  claim_update, claim_delete.
- Claim: add claim_create (the quote must occur once in the text), change claim_update (status and anchor
  are never set by hand), delete claim_delete; its citations inline citation_create, citation_update,
  citation_delete; the "flag" action reviews.services.flag_raise.
- Study: add study_create, change study_update (a retraction status through study_set_retraction), the
  "mark retracted" action study_set_retraction. Deleting a study is not offered: no service deletes one.
- Citation: add citation_create, change citation_update (what the link says; its claim and study stay),
  delete citation_delete.

History. simple_history's "revert" form saves the old version's row as it stands, read-only workflow
fields included, for anyone who may view the object. Here a revert is a change like any other: its form
holds only the fields a user may edit, and save_model sends them through the same service, so an
article's headings go through article_revise (its history does not hold the text: the form starts from
the current one), a claim's fields through claim_update (its quote is anchored in the current text and
its status is never restored: a claim is published by reviews.services.verdict_publish only), a study's
through study_update (a retraction status flags the claims relying on it) and a citation's through
citation_update (its claim and study stay). A revert is refused to anyone who may not change the object,
and not offered for an object that no longer exists (restoring it would bypass the create service).
reviews/admin.py: a review reverts through review_submit; consensus and flags are not reverted.
"""

from __future__ import annotations

from datetime import MAXYEAR, date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from evidence import designs, services
from evidence.curate.todo import STUDY_LISTS
from evidence.forms import ArticleForm, ClaimForm, StudyForm
from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.services.articles import ARTICLE_FIELDS
from evidence.services.claims import CLAIM_FIELDS
from reviews.claims import has_open_flag, open_flag_count
from reviews.models import Flag
from reviews.services import flag_raise

# The lists need the width: at 1280 px the navigation sidebar and the filter left a study list 630 px,
# and its DOI, PMID, retraction and verified columns off the screen. The home page and the breadcrumbs
# lead everywhere the sidebar did.
admin.site.enable_nav_sidebar = False

# Django 6 will assume https:// for a URL typed without a scheme; do so now (and silence the warning).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}

# What a citation says about its study, the fields citation_update changes (as the API's update does).
CITATION_FIELDS = ("relation", "note", "directness", "directness_note")


def form_values(form: forms.BaseForm, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The cleaned values of the form's fields (of ``names``, when given) for a service: the fields the
    admin left out of the form (read-only to this user) are not among them."""
    return {
        name: form.cleaned_data[name]
        for name in form.fields
        if name in form.cleaned_data and (names is None or name in names)
    }


def date_hierarchy_check(query: Any, field: str) -> None:
    """Raise IncorrectLookupParameters unless the date hierarchy's year, month and day in ``query`` make
    a date whose following year exists too (the list shows a year as [1 January, next 1 January))."""
    parts = [query.get(f"{field}__{part}") for part in ("year", "month", "day")]
    if parts[0] is None:
        return
    numbers = []
    for value, default in zip(parts, ("", "1", "1"), strict=True):
        value = default if value is None else value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 4):
            raise IncorrectLookupParameters(f"Not a date: {field} {parts}")
        numbers.append(int(value))
    try:
        date(*numbers)
    except ValueError as exc:
        raise IncorrectLookupParameters(exc) from exc
    if numbers[0] >= MAXYEAR:
        raise IncorrectLookupParameters(f"No year after {numbers[0]}")


def became(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's object the row the service saved: the admin logs, messages and redirects with it."""
    obj.pk = saved.pk
    obj.refresh_from_db()


class ServicesAdmin(SimpleHistoryAdmin):
    """An admin whose every write is a service call.

    Subclasses write in save_model, delete_model and save_formset by calling a service; the defaults here
    refuse to write rather than save a row directly, and a bulk delete deletes one object at a time
    through delete_model. History pages list every version; reverting one goes through save_model like
    any change (see the module docstring), or is not offered (``revert_offered = False``).

    The forms check what the services check (the same named rules), so a refusal is normally a form
    error. One that comes only from the service (another write got there first) rolls back everything
    the request wrote and comes back as an error message on the same page, never a server error.
    """

    revert_offered = True

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> None:
        raise PermissionDenied(f"{type(self).__name__} saves through a service, and has none for this.")

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        raise PermissionDenied(f"{type(self).__name__} deletes through a service, and has none for this.")

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        """A read-only inline has nothing to write; an inline that writes has its own save_formset."""
        formset.save(commit=False)  # writes nothing; lists the rows to write (the change message reads them)
        if formset.new_objects or formset.changed_objects or formset.deleted_objects:
            raise PermissionDenied(f"{type(self).__name__} has no service for {formset.model.__name__} rows.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            return self.refused(request, exc)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # An action this user may not run: Django ignores it without a word when they may run none, and
        # says "no action selected" otherwise. Refuse it plainly instead.
        if request.method == "POST":
            posted = {name for name in request.POST.getlist("action") if name}
            if posted - set(self.get_actions(request)):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request: HttpRequest):
        """The list, refusing a date-hierarchy year, month or day no date has (?published_on__year=99999…):
        Django turns the value into a datetime and lets the OverflowError through, or the ValueError of
        the year after 9999, as a server error. Refused here, it is the admin's own "invalid lookup"."""
        if self.date_hierarchy:
            date_hierarchy_check(request.GET, self.date_hierarchy)
        return super().get_changelist_instance(request)

    def revert_disabled(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        """simple_history's switch for the "Revert" button: off unless this admin offers reverts, the
        object still exists and the user may change it."""
        if not self.revert_offered or obj is None or not self.get_queryset(request).filter(pk=obj.pk).exists():
            return True
        return super().revert_disabled(request, obj) or not self.has_change_permission(request, obj)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context=None
    ) -> HttpResponse:
        """simple_history's page for one version, whose form posts a revert. simple_history hides the
        button when revert_disabled says so but saves whatever is posted: refuse the post here too."""
        if request.method == "POST":
            current = self.get_object(request, unquote(object_id))
            if current is None or self.revert_disabled(request, current):
                raise PermissionDenied
        try:
            with transaction.atomic():  # the change view's own transaction, which simple_history's lacks
                return super().history_form_view(request, object_id, version_id, extra_context)
        except ValidationError as exc:
            return self.refused(request, exc)

    def refused(self, request: HttpRequest, exc: ValidationError) -> HttpResponse:
        """The page again with the service's reasons; the transaction rolled back, so nothing was saved."""
        self.message_user(request, _("Nothing was saved: %(why)s") % {"why": " ".join(exc.messages)}, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


class ClaimInline(admin.TabularInline):
    """The article's claims; ArticleAdmin.save_formset writes them through the claim services."""

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
class ArticleAdmin(ServicesAdmin):
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
        # The text is revised before the claims inline is saved: the claim services anchor a new or
        # changed quote in the article's current text, which is then the new one (the form checked the
        # quotes against it too).
        values = form_values(form, (*ARTICLE_FIELDS, "text", "headings"))
        if not change:
            became(obj, services.article_create(values=values, user=request.user))
            return
        lost = services.article_update(article=obj, values=values, user=request.user)
        obj.refresh_from_db()
        if lost:
            messages.warning(
                request,
                _("%(n)d claim(s) no longer occur in the text and were sent back for re-review: %(keys)s")
                % {"n": len(lost), "keys": ", ".join(c.key or str(c.pk) for c in lost)},
            )

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        services.article_delete(article=obj, user=request.user)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not Claim:
            return super().save_formset(request, form, formset, change)  # the revisions are read-only
        formset.save(commit=False)  # writes nothing; lists the rows to write (the change message reads them)
        names = tuple(name for name in formset.form.base_fields if name in CLAIM_FIELDS)
        for claim in formset.deleted_objects:
            services.claim_delete(claim=claim, user=request.user)
        for claim, _changed in formset.changed_objects:
            values = {name: getattr(claim, name) for name in names}
            services.claim_update(claim=claim, values=values, user=request.user)
        formset.new_objects = [
            services.claim_create(
                article=form.instance, values={name: getattr(claim, name) for name in names}, user=request.user
            )
            for claim in formset.new_objects
        ]


class CitationInlineForm(forms.ModelForm):
    """A row of the citations inline. A stored citation keeps its study: citation_update changes what a
    link says, not what it links (to cite another study, add a row and remove this one)."""

    class Meta:
        model = Citation
        fields = ["study", *CITATION_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "study" in self.fields:
            self.fields["study"].disabled = True


class CitationInline(admin.TabularInline):
    """The claim's citations; ClaimAdmin.save_formset writes them through the citation services."""

    model = Citation
    form = CitationInlineForm
    fields = ["study", *CITATION_FIELDS]
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
        if self.value() == "yes":
            return queryset.filter(has_open_flag())
        if self.value() == "no":
            return queryset.filter(~has_open_flag())
        return queryset


@admin.register(Claim)
class ClaimAdmin(ServicesAdmin):
    form = ClaimForm
    list_display = ["key", "short_quote", "article", "substance", "claim_type", "status", "n_citations", "n_open_flags"]
    list_display_links = ["key", "short_quote"]
    list_filter = ["status", "claim_type", "substance", "kind", OpenFlagsFilter, "article"]
    search_fields = ["quote", "key", "section"]
    list_select_related = ["article"]
    # status belongs to the review workflow (reviews.services: review, adjudicate, publish); the anchor
    # and the section follow from the quote (evidence.services.claims)
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

    def revert_disabled(self, request: HttpRequest, obj: Claim | None = None) -> bool:
        return self._links_studies_only(request) or super().revert_disabled(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Claim | None = None) -> list[str]:
        if obj is not None and self._links_studies_only(request):
            return flatten_fieldsets(self.fieldsets)
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("article")  # a claim stays in the article whose text it quotes
        return fields

    def save_model(self, request: HttpRequest, obj: Claim, form: forms.ModelForm, change: bool) -> None:
        if change and self._links_studies_only(request):
            return  # nothing of the claim's own was editable; saving would only add an empty history entry
        values = form_values(form, CLAIM_FIELDS)
        if change:
            services.claim_update(claim=obj, values=values, user=request.user)
            obj.refresh_from_db()
        else:
            became(obj, services.claim_create(article=form.cleaned_data["article"], values=values, user=request.user))

    def delete_model(self, request: HttpRequest, obj: Claim) -> None:
        services.claim_delete(claim=obj, user=request.user)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        """The citations inline, row by row through the citation services: they record who linked each
        study, mark the claim's evidence changed for its reviewers, and flag it if it now relies on a
        retracted study."""
        formset.save(commit=False)  # writes nothing; lists the rows to write (and for the change message)
        for citation in formset.deleted_objects:
            services.citation_delete(citation=citation, user=request.user)
        for citation, _changed in formset.changed_objects:
            values = {name: getattr(citation, name) for name in CITATION_FIELDS}
            # the stored row, which the service compares the values with (the form has changed this one)
            stored = Citation.objects.get(pk=citation.pk)
            services.citation_update(citation=stored, values=values, user=request.user)
        formset.new_objects = [
            services.citation_create(
                claim=form.instance,
                study=citation.study,
                values={name: getattr(citation, name) for name in CITATION_FIELDS},
                user=request.user,
            )
            for citation in formset.new_objects
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Claim]:
        return super().get_queryset(request).for_admin_list().annotate(n_open_flags=open_flag_count())

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

    def has_flag_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reviews.add_flag")


class RetractionFilter(admin.SimpleListFilter):
    title = _("retraction")
    parameter_name = "retraction"

    def lookups(self, request, model_admin):
        return Study.RetractionStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Study]) -> QuerySet[Study]:
        return queryset.filter(retraction_status=self.value()) if self.value() else queryset


class ToDoFilter(admin.SimpleListFilter):
    """The curator's to-do lists (evidence/curate/todo.py), by the same named rules."""

    title = _("to do")
    parameter_name = "todo"

    def lookups(self, request, model_admin):
        return [(slug, todo.title) for slug, todo in STUDY_LISTS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Study]) -> QuerySet[Study]:
        todo = STUDY_LISTS.get(self.value() or "")
        return todo.rule(queryset) if todo else queryset


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
class StudyAdmin(ServicesAdmin):
    form = StudyForm
    list_display = ["short_title", "first_author", "year", "design", "doi", "pmid", "retraction_status", "verified"]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_filter = [ToDoFilter, "design", RetractionFilter, "verified", "work_type"]
    search_fields = ["title", "doi", "pmid", "citation_key", "container_title"]
    readonly_fields = ["suggested_design", "created_at", "updated_at"]
    # A library of 100,000 studies: no full COUNT(*) on every list view.
    show_full_result_count = False
    list_per_page = 50

    def get_urls(self) -> list:
        """The bibliography upload (evidence/admin_import.py), linked from the study list, and the study
        form's "Look up" button (evidence/admin_lookup.py)."""
        from evidence.admin_import import study_import_urls
        from evidence.admin_lookup import study_lookup_urls

        return study_import_urls(self) + study_lookup_urls(self) + super().get_urls()

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
        (_("Study"), {"fields": ["design", "suggested_design", "sample_size", "population", "abstract"]}),
        (_("Retraction"), {"fields": ["retraction_status", "retraction_date", "retraction_doi", "retraction_note"]}),
        (_("Verification"), {"fields": ["verified", "verified_from", "unconfirmed_leads"]}),
        (
            _("Notes"),
            {
                "fields": ["note", "internal_note"],
                "description": _("The note is shown to readers with the study; the internal note only here."),
            },
        ),
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

    @admin.display(description=_("suggested design"))
    def suggested_design(self, obj: Study) -> str:
        """For a study not yet classified, the design its title or type suggests: the curator chooses
        it above (or another); nothing is stored until they do."""
        if obj.pk is None or obj.design != Study.Design.UNCLASSIFIED:
            return "–"
        suggestion = designs.suggest(obj.title, obj.work_type)
        if suggestion is None:
            return _("None: the title and publication type do not say.")
        return _("Suggested: %(suggestion)s. Choose it in “Design” to keep it.") % {"suggestion": suggestion}

    def has_delete_permission(self, request: HttpRequest, obj: Study | None = None) -> bool:
        return False  # no service deletes a study: the library keeps what was once recorded

    @admin.action(
        description=_("Mark selected studies retracted (flags the claims relying on them)"), permissions=["change"]
    )
    def mark_retracted(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        n, refused = 0, []
        for study in queryset.exclude(retraction_status=Study.RetractionStatus.RETRACTED):
            try:
                services.study_set_retraction(study=study, status=Study.RetractionStatus.RETRACTED, user=request.user)
                n += 1
            except ValidationError as exc:
                refused.append(f"{study}: {' '.join(exc.messages)}")
        self.message_user(request, _("Marked %(n)d study(ies) retracted.") % {"n": n}, messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    def save_model(self, request: HttpRequest, obj: Study, form: forms.ModelForm, change: bool) -> None:
        # study_update compares the values with the stored row, so a revert, whose form starts from the old
        # version, writes what it restores (a retraction status through study_set_retraction)
        values = form_values(form)
        if change:
            services.study_update(study=obj, values=values, user=request.user)
            obj.refresh_from_db()
        else:
            became(obj, services.study_create(values=values, user=request.user))


@admin.register(Citation)
class CitationAdmin(ServicesAdmin):
    list_display = ["claim", "study", "relation", "directness", "added_by"]
    list_filter = ["relation", "directness"]
    search_fields = ["claim__quote", "claim__key", "study__title", "study__doi"]
    autocomplete_fields = ["claim", "study"]
    list_select_related = ["claim", "study", "added_by"]
    readonly_fields = ["added_by", "created_at", "updated_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Citation | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # a citation links one claim to one study (citation_update changes what it says); to link
            # another, add a citation and delete this one
            fields.extend(["claim", "study"])
        return fields

    def save_model(self, request: HttpRequest, obj: Citation, form: forms.ModelForm, change: bool) -> None:
        values = form_values(form, CITATION_FIELDS)
        if change:
            # the stored row, which the service compares the values with (the form has changed ``obj``)
            services.citation_update(citation=Citation.objects.get(pk=obj.pk), values=values, user=request.user)
            obj.refresh_from_db()
        else:
            claim, study = form.cleaned_data["claim"], form.cleaned_data["study"]
            became(obj, services.citation_create(claim=claim, study=study, values=values, user=request.user))

    def delete_model(self, request: HttpRequest, obj: Citation) -> None:
        services.citation_delete(citation=obj, user=request.user)
