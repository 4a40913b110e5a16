"""What each role can and cannot do in the admin, through the admin's real URLs and forms.

Curators: studies and citations; articles and claims read-only; no reviews.
Reviewers: their own reviews only; everything else read-only.
Editors: articles, claims and flags; every review read-only; studies read-only.

Forms are submitted as a browser would: the page is fetched, its fields read from the HTML, a few changed
and the whole form posted back, management forms of the inlines included.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.services import article_revise
from reviews.models import Flag, Review
from tests import builders
from tests.builders import grade_fields

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created by the dozen here; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Helpers --------------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The fields a browser would submit from the form with the given id."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, list[str]] = defaultdict(list)
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option_text: list[str] | None = None
        self._option_value: str | None = None
        self._option_selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = a.get("name") or ""
        if "__prefix__" in name:
            name = ""  # the inlines' empty template form is never submitted
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields[name].append(a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select, self._options = name or None, []
        elif tag == "option" and self._select:
            self._option_value, self._option_selected, self._option_text = a.get("value"), "selected" in a, []
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)
        if self._option_text is not None:
            self._option_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "option" and self._option_text is not None:
            value = self._option_value if self._option_value is not None else "".join(self._option_text).strip()
            self._options.append((value, self._option_selected))
            self._option_text = None
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields[self._select].extend(chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # browsers drop the line break Django writes right after <textarea>, and send line breaks as CRLF
            text = text[1:] if text.startswith("\n") else text
            self.fields[self._textarea].append(text.replace("\r\n", "\n").replace("\n", "\r\n"))
            self._textarea = None


def form_data(response, model_name: str) -> dict[str, Any]:
    """The admin form ``#<model_name>_form`` of ``response`` as a browser would post it, without a submit
    button. ``model_name`` is the model's name, or e.g. "historicalclaim" on a history page."""
    assert response.status_code == 200, response.status_code
    reader = _FormReader(f"{model_name}_form")
    reader.feed(response.content.decode())
    assert reader.fields, f"no form #{model_name}_form on the page"
    # a select without options (an empty autocomplete) submits nothing
    return {name: values if len(values) > 1 else values[0] for name, values in reader.fields.items() if values}


def admin_url(model: type, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submit(client: Client, url: str, model_name: str, changes: dict[str, Any], **kwargs: Any):
    """Fetch the form at url, apply changes, post it with the Save button."""
    data = form_data(client.get(url), model_name)
    data.update(changes)
    data["_save"] = "Save"
    return client.post(url, data, **kwargs)


def history_rows(client: Client, obj: Any) -> list[dict[str, str]]:
    """The rows of an object's admin history page, newest first: who, what kind of change, why, and what."""
    response = client.get(admin_url(type(obj), "history", obj.pk))
    assert response.status_code == 200
    table = response.content.decode().split('id="change-history"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        rows.append(dict(zip(["object", "when", "type", "who", "reason", "changes"], cells, strict=True)))
    return rows


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, f"expected the form again with errors, got {response.status_code}"
    return response.context["adminform"].form.errors


# --- Fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> SimpleNamespace:
    """One article with two claims; K1 relies on a study."""
    article = builders.article(title="Drugs and moods")
    k1 = builders.claim(article, "Ketamine lifts mood within hours.", key="K1", substance="ketamine")
    k2 = builders.claim(article, "Both drugs raise blood pressure.", key="K2", claim_type="safety")
    trial = builders.study(title="Ketamine in depression", doi="10.1/trial", citation_key="trial2020")
    other = builders.study(title="Blood pressure under MDMA", citation_key="bp2019")
    builders.citation(k1, trial, relation=Citation.Relation.SUPPORTS)
    return SimpleNamespace(article=article, k1=k1, k2=k2, trial=trial, other=other)


@pytest.fixture
def curator(make_user) -> User:
    return make_user("Curators", username="carla-curator")


@pytest.fixture
def reviewer(make_user) -> User:
    return make_user("Reviewers", username="rita-reviewer")


@pytest.fixture
def other_reviewer(make_user) -> User:
    return make_user("Reviewers", username="otto-reviewer")


@pytest.fixture
def editor(make_user) -> User:
    return make_user("Editors", username="edna-editor")


@pytest.fixture
def superuser(make_user) -> User:
    return make_user(superuser=True, username="ada-admin")


# --- Who may open which page ------------------------------------------------------------------------------

# (model, view, status, save button shown); "change" pages open the world's first object of the model.
ALLOWED, READ_ONLY, DENIED = (200, True), (200, False), (403, False)
PAGES: dict[str, dict[tuple[type, str], tuple[int, bool]]] = {
    "Curators": {
        (Study, "changelist"): ALLOWED,
        (Study, "add"): ALLOWED,
        (Study, "change"): ALLOWED,
        (Citation, "changelist"): ALLOWED,
        (Citation, "add"): ALLOWED,
        (Citation, "change"): ALLOWED,
        (Citation, "delete"): ALLOWED,
        (Claim, "changelist"): ALLOWED,
        # the claim's page opens with a Save button for linking studies; its own fields stay read-only
        (Claim, "change"): ALLOWED,
        (Claim, "add"): DENIED,
        (Claim, "delete"): DENIED,
        (Article, "change"): READ_ONLY,
        (Article, "add"): DENIED,
        (Review, "changelist"): DENIED,
        (Review, "add"): DENIED,
        (Flag, "changelist"): ALLOWED,
        (Flag, "add"): DENIED,
    },
    "Reviewers": {
        (Review, "changelist"): ALLOWED,
        (Review, "add"): ALLOWED,
        (Claim, "changelist"): ALLOWED,
        (Claim, "change"): READ_ONLY,
        (Claim, "add"): DENIED,
        (Study, "change"): READ_ONLY,
        (Study, "add"): DENIED,
        (Citation, "add"): DENIED,
        (Flag, "changelist"): DENIED,
    },
    "Editors": {
        (Article, "add"): ALLOWED,
        (Article, "change"): ALLOWED,
        (Claim, "changelist"): ALLOWED,
        (Claim, "add"): ALLOWED,
        (Claim, "change"): ALLOWED,
        (Claim, "delete"): DENIED,
        (Flag, "changelist"): ALLOWED,
        (Flag, "add"): ALLOWED,
        (Review, "changelist"): ALLOWED,
        (Review, "add"): DENIED,
        (Review, "change"): READ_ONLY,
        (Study, "changelist"): ALLOWED,
        (Study, "change"): READ_ONLY,
        (Study, "add"): DENIED,
        (Citation, "add"): DENIED,
        (Citation, "change"): READ_ONLY,
    },
}


def _first(model: type, world: SimpleNamespace) -> Any:
    return {
        Article: world.article,
        Claim: world.k1,
        Study: world.trial,
        Citation: Citation.objects.first(),
        Review: Review.objects.first(),
        Flag: Flag.objects.first(),
    }[model]


@pytest.mark.parametrize(
    "role, model, view, expected",
    [(role, model, view, expected) for role, pages in PAGES.items() for (model, view), expected in pages.items()],
    ids=lambda value: value if isinstance(value, str) else getattr(value, "__name__", None),
)
def test_who_may_open_which_page(role, model, view, expected, world, make_user):
    user = make_user(role)
    builders.review(world.k1, make_user("Reviewers"))
    builders.flag(world.k1)
    args = [_first(model, world).pk] if view in {"change", "delete"} else []
    response = signed_in(user).get(admin_url(model, view, *args))
    status, editable = expected
    assert response.status_code == status
    if view == "change" and status == 200:
        assert ('name="_save"' in response.content.decode()) is editable


@pytest.mark.parametrize("path", ["/admin/", "/admin/evidence/claim/", "/admin/evidence/study/add/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, path: str):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_signed_in_user_without_staff_status_is_sent_to_the_login_page(make_user, world):
    client = signed_in(make_user())
    for path in ["/admin/", admin_url(Claim, "changelist"), admin_url(Claim, "change", world.k1.pk)]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), path
    response = client.post(admin_url(Claim, "change", world.k1.pk), {"quote": "Changed."})
    assert response.status_code == 302
    assert Claim.objects.get(pk=world.k1.pk).quote == world.k1.quote


def test_a_staff_user_in_no_group_sees_nothing(make_user, world):
    user = make_user()
    user.is_staff = True
    user.save()
    client = signed_in(user)
    assert client.get(admin_url(Claim, "changelist")).status_code == 403
    assert client.get(admin_url(Study, "add")).status_code == 403


def test_a_superuser_may_open_every_page(superuser, world, other_reviewer):
    """Every page opens; every object's page is a form to save, except a flag's: a raised flag is closed
    (the list's actions), not edited."""
    review = builders.review(world.k1, other_reviewer)
    flag = builders.flag(world.k1)
    client = signed_in(superuser)
    for model, obj in [
        (Article, world.article),
        (Claim, world.k1),
        (Study, world.trial),
        (Citation, Citation.objects.first()),
        (Review, review),
        (Flag, flag),
    ]:
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
        assert client.get(admin_url(model, "add")).status_code == 200, model
        response = client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200, model
        assert ('name="_save"' in response.content.decode()) is (model is not Flag), model
        assert client.get(admin_url(model, "history", obj.pk)).status_code == 200, model


# --- Curators -------------------------------------------------------------------------------------------------


def test_a_curator_adds_a_study_with_its_doi_normalised(curator, world):
    client = signed_in(curator)
    response = submit(
        client,
        admin_url(Study, "add"),
        "study",
        {"title": "A new trial", "doi": "https://doi.org/10.1/NEW", "pmid": "PMID: 123", "year": "2021"},
    )
    assert response.status_code == 302, form_errors(response)
    study = Study.objects.get(title="A new trial")
    assert (study.doi, study.pmid) == ("10.1/new", "123")
    assert study.history.get().history_user == curator


@pytest.mark.parametrize("doi", ["10.1/TRIAL", "https://doi.org/10.1/trial", "doi:10.1/Trial"])
def test_a_curator_cannot_add_a_study_twice_under_another_spelling_of_its_doi(curator, world, doi: str):
    response = submit(signed_in(curator), admin_url(Study, "add"), "study", {"title": "Same trial", "doi": doi})
    assert "doi" in form_errors(response)
    assert Study.objects.filter(doi="10.1/trial").count() == 1


def test_a_curator_gets_a_form_error_for_an_identifier_that_is_not_one(curator, world):
    response = submit(
        signed_in(curator), admin_url(Study, "add"), "study", {"title": "Typo", "doi": "10.1", "pmid": "12a"}
    )
    errors = form_errors(response)
    assert "doi" in errors and "pmid" in errors
    assert not Study.objects.filter(title="Typo").exists()


def test_a_curator_changes_a_study(curator, world):
    Study.objects.filter(pk=world.trial.pk).update(authors=[{"family": "Berman", "given": "R."}])
    response = submit(
        signed_in(curator),
        admin_url(Study, "change", world.trial.pk),
        "study",
        {"sample_size": "40", "verified_from": ""},  # an emptied JSON box means "none", not NULL
    )
    assert response.status_code == 302, form_errors(response)
    study = Study.objects.get(pk=world.trial.pk)
    assert (study.sample_size, study.verified_from, study.authors) == (40, [], [{"family": "Berman", "given": "R."}])
    assert study.history.latest().history_user == curator


def test_a_curator_adds_changes_and_deletes_a_citation(curator, world):
    client = signed_in(curator)
    response = submit(
        client,
        admin_url(Citation, "add"),
        "citation",
        {"claim": str(world.k2.pk), "study": str(world.other.pk), "relation": "supports", "note": "n=12"},
    )
    assert response.status_code == 302, form_errors(response)
    citation = Citation.objects.get(claim=world.k2, study=world.other)
    assert citation.added_by == curator

    response = submit(client, admin_url(Citation, "change", citation.pk), "citation", {"relation": "mixed"})
    assert response.status_code == 302, form_errors(response)
    assert Citation.objects.get(pk=citation.pk).relation == "mixed"

    response = client.post(admin_url(Citation, "delete", citation.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Citation.objects.filter(pk=citation.pk).exists()


def test_a_curator_cannot_cite_the_same_study_twice_on_a_claim(curator, world):
    response = submit(
        signed_in(curator),
        admin_url(Citation, "add"),
        "citation",
        {"claim": str(world.k1.pk), "study": str(world.trial.pk), "relation": "contradicts"},
    )
    assert form_errors(response)
    assert Citation.objects.filter(claim=world.k1, study=world.trial).count() == 1


def test_a_curator_links_a_study_on_the_claims_page_but_cannot_change_the_claim(curator, world):
    client = signed_in(curator)
    url = admin_url(Claim, "change", world.k2.pk)
    data = form_data(client.get(url), "claim")
    assert "quote" not in data and "status" not in data  # the claim's own fields are read-only
    total = int(data["citations-TOTAL_FORMS"])
    data.update(
        {
            "citations-TOTAL_FORMS": str(total + 1),
            f"citations-{total}-study": str(world.other.pk),
            f"citations-{total}-relation": "supports",
            f"citations-{total}-note": "Raised systolic pressure by 10 mmHg.",
            f"citations-{total}-directness": "direct",
            "quote": "Both drugs raise blood pressure a lot.",
            "status": "published",
            "_save": "Save",
        }
    )
    history_before = world.k2.history.count()
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    citation = Citation.objects.get(claim=world.k2, study=world.other)
    assert (citation.relation, citation.added_by) == ("supports", curator)
    claim = Claim.objects.get(pk=world.k2.pk)
    assert (claim.quote, claim.status) == (world.k2.quote, world.k2.status)
    assert claim.history.count() == history_before


def test_linking_a_retracted_study_as_support_flags_the_claim(curator, world):
    Study.objects.filter(pk=world.other.pk).update(retraction_status=Study.RetractionStatus.RETRACTED)
    response = submit(
        signed_in(curator),
        admin_url(Citation, "add"),
        "citation",
        {"claim": str(world.k2.pk), "study": str(world.other.pk), "relation": "supports"},
    )
    assert response.status_code == 302, form_errors(response)
    flag = Flag.objects.get(claim=world.k2)
    assert (flag.reason, flag.study, flag.status) == (Flag.Reason.RETRACTED_SOURCE, world.other, Flag.Status.OPEN)


def test_a_curator_cannot_change_claims_or_articles(curator, world):
    client = signed_in(curator)
    response = client.post(
        admin_url(Article, "change", world.article.pk), {"title": "Renamed", "slug": "renamed", "text": "New text"}
    )
    assert response.status_code == 403
    assert client.post(admin_url(Claim, "add"), {"article": world.article.pk, "quote": "x"}).status_code == 403
    assert client.get(admin_url(Article, "add")).status_code == 403
    world.article.refresh_from_db()
    assert world.article.title == "Drugs and moods"


def test_a_curator_marks_a_study_retracted_and_the_claims_relying_on_it_are_flagged(curator, world):
    Claim.objects.filter(pk=world.k1.pk).update(status=Claim.Status.IN_REVIEW)
    builders.citation(world.k2, world.trial, relation=Citation.Relation.CONTEXT)  # context: not relied on
    client = signed_in(curator)
    changelist = client.get(admin_url(Study, "changelist")).content.decode()
    assert 'value="mark_retracted"' in changelist
    response = client.post(
        admin_url(Study, "changelist"),
        {"action": "mark_retracted", "_selected_action": [world.trial.pk], "index": "0"},
        follow=True,
    )
    assert "Marked 1 study(ies) retracted." in messages_of(response)
    study = Study.objects.get(pk=world.trial.pk)
    assert study.retraction_status == Study.RetractionStatus.RETRACTED
    latest = history_rows(client, study)[0]
    assert (latest["who"], latest["reason"]) == ("carla-curator", "retraction status set to retracted")
    assert "Retraction status: none → retracted" in latest["changes"]
    flags = Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE)
    assert list(flags.values_list("claim__key", "study_id", "status", "raised_by")) == [
        ("K1", world.trial.pk, "open", None)
    ]
    assert Claim.objects.get(pk=world.k1.pk).status == Claim.Status.NEEDS_REREVIEW
    assert Claim.objects.get(pk=world.k2.pk).status == Claim.Status.AWAITING_REVIEW


def test_retracting_on_the_studys_page_flags_the_claims_too(curator, world):
    response = submit(
        signed_in(curator),
        admin_url(Study, "change", world.trial.pk),
        "study",
        {"retraction_status": "retracted", "retraction_note": "Retracted 2024: data irregularities."},
    )
    assert response.status_code == 302, form_errors(response)
    study = Study.objects.get(pk=world.trial.pk)
    assert (study.retraction_status, study.retraction_note) == ("retracted", "Retracted 2024: data irregularities.")
    assert list(Flag.objects.values_list("claim__key", "reason", "study")) == [("K1", "retracted_source", study.pk)]


def test_a_curator_cannot_use_the_flag_action_or_close_flags(curator, world):
    client = signed_in(curator)
    page = client.get(admin_url(Claim, "changelist")).content.decode()
    assert 'value="flag_selected"' not in page and 'name="reason"' not in page
    client.post(
        admin_url(Claim, "changelist"),
        {"action": "flag_selected", "_selected_action": [world.k1.pk], "reason": "overstated", "index": "0"},
    )
    assert not Flag.objects.exists()
    flag = builders.flag(world.k1)
    client.post(
        admin_url(Flag, "changelist"), {"action": "resolve_selected", "_selected_action": [flag.pk], "index": "0"}
    )
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.OPEN


# --- Reviewers ------------------------------------------------------------------------------------------------


def test_a_reviewer_adds_a_review_as_themselves(reviewer, other_reviewer, world):
    response = submit(
        signed_in(reviewer),
        admin_url(Review, "add"),
        "review",
        {
            "claim": str(world.k1.pk),
            "reviewer": str(other_reviewer.pk),  # ignored: a reviewer always writes as themselves
            **grade_fields("low"),
            "certainty": "low",
            "verdict": "partly_supported",
            "rationale": "One small trial.",
        },
    )
    assert response.status_code == 302, form_errors(response)
    review = Review.objects.get(claim=world.k1)
    assert (review.reviewer, review.certainty, review.imprecision) == (reviewer, "low", "very_serious")
    assert review.history.get().history_user == reviewer


def test_a_reviewer_cannot_review_the_same_claim_twice(reviewer, world):
    builders.review(world.k1, reviewer)
    response = submit(
        signed_in(reviewer),
        admin_url(Review, "add"),
        "review",
        {
            **grade_fields("high"),
            "claim": str(world.k1.pk),
            "certainty": "high",
            "verdict": "supported",
            "rationale": "Again.",
        },
    )
    assert form_errors(response)
    assert Review.objects.filter(claim=world.k1).count() == 1


def test_a_reviewer_changes_their_own_review(reviewer, world):
    review = builders.review(world.k1, reviewer)
    response = submit(
        signed_in(reviewer), admin_url(Review, "change", review.pk), "review", {"rationale": "Reconsidered."}
    )
    assert response.status_code == 302, form_errors(response)
    assert Review.objects.get(pk=review.pk).rationale == "Reconsidered."


def test_a_reviewer_never_sees_another_reviewers_review(reviewer, other_reviewer, world):
    mine = builders.review(world.k2, reviewer, rationale="My own reasoning.")
    theirs = builders.review(world.k1, other_reviewer, rationale="Otto's secret reasoning.")
    client = signed_in(reviewer)

    changelist = client.get(admin_url(Review, "changelist"))
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [mine]
    assert "otto-reviewer" not in changelist.content.decode()

    for url in [
        admin_url(Review, "change", theirs.pk),
        admin_url(Review, "history", theirs.pk),
        admin_url(Review, "simple_history", theirs.pk, theirs.history.get().history_id),
        admin_url(Review, "delete", theirs.pk),
    ]:
        response = client.get(url)
        assert response.status_code in {302, 403, 404}, url
        assert "secret reasoning" not in response.content.decode(), url

    response = client.post(
        admin_url(Review, "change", theirs.pk),
        {
            **grade_fields("high"),
            "certainty": "high",
            "verdict": "supported",
            "rationale": "Overwritten.",
            "_save": "Save",
        },
    )
    assert response.status_code in {302, 403}
    assert Review.objects.get(pk=theirs.pk).rationale == "Otto's secret reasoning."


def test_a_reviewer_cannot_change_claims_or_studies(reviewer, world):
    client = signed_in(reviewer)
    assert client.post(admin_url(Claim, "change", world.k1.pk), {"quote": "x", "_save": "Save"}).status_code == 403
    assert client.post(admin_url(Study, "change", world.trial.pk), {"title": "x", "_save": "Save"}).status_code == 403
    assert client.post(admin_url(Study, "add"), {"title": "x", "_save": "Save"}).status_code == 403
    assert Claim.objects.get(pk=world.k1.pk).quote == world.k1.quote
    assert not Study.objects.filter(title="x").exists()


# --- Editors --------------------------------------------------------------------------------------------------


def test_an_editor_adds_a_claim_by_its_quote(editor, world):
    response = submit(
        signed_in(editor),
        admin_url(Claim, "add"),
        "claim",
        {
            "article": str(world.article.pk),
            "key": "M1",
            "quote": "MDMA makes people feel close to each other.",
            "claim_type": "mechanism",
            "substance": "MDMA",
        },
    )
    assert response.status_code == 302, form_errors(response)
    claim = Claim.objects.get(key="M1")
    assert world.article.text[claim.start : claim.end] == claim.quote
    assert claim.prefix == world.article.text[max(0, claim.start - 32) : claim.start]
    assert claim.suffix == world.article.text[claim.end : claim.end + 32]
    assert (claim.section, claim.status) == ("Background", Claim.Status.AWAITING_REVIEW)
    assert claim.history.get().history_user == editor


@pytest.mark.parametrize(
    "quote, reason",
    [("Ketamine cures everything.", "does not occur"), ("Ketamine", "occurs 2 times")],
)
def test_an_editor_gets_a_field_error_for_a_missing_or_ambiguous_quote(editor, world, quote: str, reason: str):
    response = submit(
        signed_in(editor),
        admin_url(Claim, "add"),
        "claim",
        {"article": str(world.article.pk), "key": "M1", "quote": quote, "claim_type": "efficacy"},
    )
    errors = form_errors(response)
    assert reason in " ".join(errors["quote"])
    assert not Claim.objects.filter(key="M1").exists()


def test_an_editor_changes_a_claim_and_the_history_page_says_who(editor, world):
    client = signed_in(editor)
    response = submit(client, admin_url(Claim, "change", world.k1.pk), "claim", {"substance": "esketamine"})
    assert response.status_code == 302, form_errors(response)
    claim = Claim.objects.get(pk=world.k1.pk)
    assert claim.substance == "esketamine"
    assert (claim.start, claim.end) == (world.k1.start, world.k1.end)
    latest, created = history_rows(client, claim)
    assert (latest["who"], latest["type"], latest["changes"]) == (
        "edna-editor",
        "Changed",
        "Substance: ketamine → esketamine",
    )
    assert created["type"] == "Created"


def test_an_editor_cannot_add_or_change_studies_or_reviews(editor, reviewer, world):
    review = builders.review(world.k1, reviewer, rationale="Rita's reasoning.")
    client = signed_in(editor)
    assert client.post(admin_url(Study, "add"), {"title": "x", "_save": "Save"}).status_code == 403
    assert client.post(admin_url(Study, "change", world.trial.pk), {"title": "x"}).status_code == 403
    assert client.post(admin_url(Review, "change", review.pk), {"rationale": "x"}).status_code == 403
    assert Study.objects.get(pk=world.trial.pk).title == "Ketamine in depression"
    assert Review.objects.get(pk=review.pk).rationale == "Rita's reasoning."


def test_an_editor_sees_every_review_read_only(editor, reviewer, other_reviewer, world):
    reviews = [builders.review(world.k1, reviewer), builders.review(world.k1, other_reviewer)]
    client = signed_in(editor)
    changelist = client.get(admin_url(Review, "changelist"))
    assert set(changelist.context["cl"].result_list) == set(reviews)
    for review in reviews:
        page = client.get(admin_url(Review, "change", review.pk))
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.get(admin_url(Review, "history", review.pk)).status_code == 200


def test_an_editor_flags_selected_claims_from_the_action_bar(editor, world):
    client = signed_in(editor)
    changelist = admin_url(Claim, "changelist")
    page = client.get(changelist).content.decode()
    assert 'value="flag_selected"' in page and 'name="reason"' in page and 'name="note"' in page
    action = {"action": "flag_selected", "_selected_action": [world.k1.pk, world.k2.pk], "index": "0"}

    response = client.post(changelist, {**action, "reason": "", "note": ""}, follow=True)
    assert "Choose a flag reason next to the action." in messages_of(response)
    assert not Flag.objects.exists()

    response = client.post(changelist, {**action, "reason": "overstated", "note": "Says 'cures'."}, follow=True)
    assert "Flagged 2 claim(s)." in messages_of(response)
    assert set(Flag.objects.values_list("claim__key", "reason", "note", "status", "raised_by")) == {
        ("K1", "overstated", "Says 'cures'.", "open", editor.pk),
        ("K2", "overstated", "Says 'cures'.", "open", editor.pk),
    }

    response = client.post(changelist, {**action, "reason": "overstated", "note": ""}, follow=True)
    assert "Already flagged for this reason: K1, K2" in messages_of(response)
    assert Flag.objects.count() == 2


def test_an_editor_raises_and_resolves_a_flag(editor, world):
    client = signed_in(editor)
    response = submit(
        client,
        admin_url(Flag, "add"),
        "flag",
        {"claim": str(world.k1.pk), "reason": "misattributed", "note": "Not what the author said."},
    )
    assert response.status_code == 302, form_errors(response)
    flag = Flag.objects.get(claim=world.k1)
    assert (flag.status, flag.raised_by) == (Flag.Status.OPEN, editor)

    # the same problem is raised once while it is open: a form error, not a server error
    response = submit(client, admin_url(Flag, "add"), "flag", {"claim": str(world.k1.pk), "reason": "misattributed"})
    assert form_errors(response)
    assert Flag.objects.count() == 1

    # closing asks why, as the editor's desk does
    close = {"action": "resolve_selected", "_selected_action": [flag.pk], "index": "0"}
    response = client.post(admin_url(Flag, "changelist"), {**close, "note": " "}, follow=True)
    assert "Say why next to the action: what was done, or why the flag does not apply." in messages_of(response)
    assert Flag.objects.get(pk=flag.pk).is_open

    response = client.post(admin_url(Flag, "changelist"), {**close, "note": "Quote corrected."}, follow=True)
    assert "Closed 1 flag(s)." in messages_of(response)
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.resolution_note) == (Flag.Status.RESOLVED, editor, "Quote corrected.")
    assert flag.resolved_at is not None


def test_an_editor_does_not_see_the_retraction_action(editor, world):
    client = signed_in(editor)
    assert 'value="mark_retracted"' not in client.get(admin_url(Study, "changelist")).content.decode()
    client.post(
        admin_url(Study, "changelist"), {"action": "mark_retracted", "_selected_action": [world.trial.pk], "index": "0"}
    )
    assert Study.objects.get(pk=world.trial.pk).retraction_status == Study.RetractionStatus.NONE


# --- Editing an article's text ------------------------------------------------------------------------------


def test_editing_the_text_keeps_the_old_version_and_reanchors_the_claims(editor, world):
    old_text = world.article.text
    new_text = old_text.replace("Background\n", "Background\nA sentence added at the top.\n").replace(
        "Both drugs raise blood pressure.", "Both drugs may raise blood pressure."
    )
    client = signed_in(editor)
    url = admin_url(Article, "change", world.article.pk)
    response = submit(client, url, "article", {"text": new_text}, follow=True)
    assert response.status_code == 200 and not response.context.get("errors")
    assert any("K2" in message and "re-review" in message for message in messages_of(response))

    world.article.refresh_from_db()
    assert world.article.text == new_text
    revision = ArticleRevision.objects.get(article=world.article)
    assert (revision.number, revision.text, revision.created_by) == (1, old_text, editor)

    k1 = Claim.objects.get(pk=world.k1.pk)
    assert new_text[k1.start : k1.end] == k1.quote
    assert k1.start == world.k1.start + len("A sentence added at the top.\n")
    assert (k1.prefix, k1.suffix) == (new_text[k1.start - 32 : k1.start], new_text[k1.end : k1.end + 32])
    k2 = Claim.objects.get(pk=world.k2.pk)
    assert k2.status == Claim.Status.NEEDS_REREVIEW
    assert (k2.start, k2.end) == (world.k2.start, world.k2.end)  # its old anchor, in the old text

    assert history_rows(client, world.article)[0]["who"] == "edna-editor"
    k1_moved = history_rows(client, k1)[0]
    assert (k1_moved["who"], k1_moved["reason"]) == (
        "edna-editor",
        "re-anchored to revision 2 of the text by its quote",
    )
    assert f"Start: {world.k1.start} → {k1.start}" in k1_moved["changes"]
    assert f"End: {world.k1.end} → {k1.end}" in k1_moved["changes"]


def test_editing_the_text_and_a_claim_inline_together_keeps_the_new_anchor(editor, world):
    """The inline saves after the text is revised; it must not write back the claim's old offsets."""
    new_text = world.article.text.replace("Background\n", "Background\nA sentence added at the top.\n")
    client = signed_in(editor)
    url = admin_url(Article, "change", world.article.pk)
    data = form_data(client.get(url), "article")
    k1_form = next(
        name[: -len("-id")] for name, value in data.items() if name.endswith("-id") and value == str(world.k1.pk)
    )
    data.update({"text": new_text, f"{k1_form}-substance": "esketamine", "_save": "Save"})
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    k1 = Claim.objects.get(pk=world.k1.pk)
    assert k1.substance == "esketamine"
    assert new_text[k1.start : k1.end] == k1.quote


def test_an_editor_adds_a_claim_inline_by_its_quote(editor, world):
    client = signed_in(editor)
    url = admin_url(Article, "change", world.article.pk)
    data = form_data(client.get(url), "article")
    n = int(data["claims-TOTAL_FORMS"])
    data.update(
        {
            "claims-TOTAL_FORMS": str(n + 1),
            f"claims-{n}-key": "K3",
            f"claims-{n}-quote": "Ketamine can cause bladder damage with heavy use.",
            f"claims-{n}-claim_type": "safety",
            f"claims-{n}-kind": "claim",
            f"claims-{n}-status": "awaiting_review",
            "_save": "Save",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    k3 = Claim.objects.get(key="K3")
    assert world.article.text[k3.start : k3.end] == k3.quote
    assert k3.section == "Risks"


def test_saving_an_article_unchanged_keeps_its_text_exactly_and_makes_no_revision(editor, world):
    """The browser sends the text back with CRLF line breaks; it is the same text, not a revision."""
    assert "\n" in world.article.text and world.article.text.endswith("\n")
    response = submit(
        signed_in(editor), admin_url(Article, "change", world.article.pk), "article", {"title": "Drugs and mood"}
    )
    assert response.status_code == 302, form_errors(response)
    article = Article.objects.get(pk=world.article.pk)
    assert (article.title, article.text) == ("Drugs and mood", world.article.text)
    assert not ArticleRevision.objects.exists()
    assert Claim.objects.get(pk=world.k1.pk).updated_at == world.k1.updated_at


def test_a_heading_must_be_a_line_of_the_text(editor, world):
    response = submit(
        signed_in(editor),
        admin_url(Article, "change", world.article.pk),
        "article",
        {"headings": '["Background", "Not in the text"]'},
    )
    assert "headings" in form_errors(response)
    world.article.refresh_from_db()
    assert world.article.headings == ["Background", "Risks"]


def test_reverting_a_claim_from_its_history_keeps_it_anchored_in_the_current_text(editor, world):
    """A version saved before the text was revised carries old offsets; restoring it must re-anchor."""
    old_version = world.k1.history.get()
    new_text = world.article.text.replace("Background\n", "Background\nA sentence added at the top.\n")
    article_revise(article=world.article, text=new_text, headings=world.article.headings)
    client = signed_in(editor)
    url = admin_url(Claim, "simple_history", world.k1.pk, old_version.history_id)
    data = form_data(client.get(url), "historicalclaim")
    response = client.post(url, {**data, "_save": "Save"})
    assert response.status_code == 302, form_errors(response)
    k1 = Claim.objects.get(pk=world.k1.pk)
    assert new_text[k1.start : k1.end] == k1.quote


# --- Queries ----------------------------------------------------------------------------------------------------


def _claims(n: int) -> None:
    for _ in range(n):
        claim = builders.claim()
        builders.citation(claim, builders.study())
        builders.flag(claim)


def _studies(n: int) -> None:
    for _ in range(n):
        builders.citation(builders.claim(), builders.study())


def _citations(n: int) -> None:
    for _ in range(n):
        builders.citation(builders.claim(), builders.study(), added_by=builders.user())


def _reviews(n: int) -> None:
    for _ in range(n):
        builders.review(builders.claim(), builders.user())


def _flags(n: int) -> None:
    for _ in range(n):
        builders.flag(builders.claim(), raised_by=builders.user())


@pytest.mark.parametrize(
    "model, add_rows",
    [(Claim, _claims), (Study, _studies), (Citation, _citations), (Review, _reviews), (Flag, _flags)],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_changelist_queries_do_not_grow_with_rows(model: type, add_rows: Callable[[int], None], superuser):
    """If this fails, a list column or filter runs a query per row: annotate or select_related it instead."""
    client = signed_in(superuser)
    url = admin_url(model, "changelist")
    add_rows(2)
    client.get(url)  # warm the content-type and permission caches
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2
    add_rows(28)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 30
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


def test_the_claim_changelist_counts_citations_and_open_flags(editor, world):
    builders.flag(world.k1)
    builders.flag(world.k1, reason=Flag.Reason.OUTDATED, status=Flag.Status.DISMISSED, resolved_at=world.k1.created_at)
    response = signed_in(editor).get(admin_url(Claim, "changelist"))
    rows = {claim.key: (claim.n_citations, claim.n_open_flags) for claim in response.context["cl"].result_list}
    assert rows == {"K1": (1, 1), "K2": (0, 0)}
